package picker

import (
	"fmt"
	"strings"
)

// Names lists the pickers New knows, the default first.
func Names() []string { return []string{"rarest", "random", "sequential", "market"} }

// New returns the picker called name, as the command line and scenario
// files spell it.
func New(name string) (Picker, error) {
	switch strings.ToLower(name) {
	case "", "rarest", "rarest-first":
		return Rarest{RandomFirst: 4}, nil
	case "random":
		return Random{}, nil
	case "sequential", "in-order":
		return Sequential{}, nil
	case "market":
		return NewMarket(), nil
	}
	return nil, fmt.Errorf("unknown picker %q (have: %s)", name, strings.Join(Names(), ", "))
}
