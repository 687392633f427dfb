package choker

import (
	"fmt"
	"strings"
)

// Names lists the chokers New knows, the default first.
func Names() []string { return []string{"tft", "bittyrant", "propshare", "altruist", "freerider"} }

// New returns a fresh choker called name, as the command line and
// scenario files spell it. Chokers keep per-torrent state, so every
// torrent needs its own.
func New(name string) (Choker, error) {
	switch strings.ToLower(name) {
	case "", "tft", "tit-for-tat":
		return NewTitForTat(), nil
	case "bittyrant":
		return NewBitTyrant(), nil
	case "propshare":
		return NewPropShare(), nil
	case "altruist":
		return Altruist{Every: DefaultInterval}, nil
	case "freerider", "free-rider":
		return FreeRider{Every: DefaultInterval}, nil
	}
	return nil, fmt.Errorf("unknown choker %q (have: %s)", name, strings.Join(Names(), ", "))
}
