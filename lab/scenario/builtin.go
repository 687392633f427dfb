package scenario

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
)

// builtinFS holds the built-in scenarios as the YAML files they are, so
// that what `lab show NAME` prints is exactly what `lab run NAME` runs.
//
//go:embed builtin/*.yaml
var builtinFS embed.FS

// DefaultName is the built-in run when no scenario is named.
const DefaultName = "default"

// Builtins lists the built-in scenarios' names, sorted.
func Builtins() []string {
	ents, err := fs.ReadDir(builtinFS, "builtin")
	if err != nil {
		panic(err) // embedded at build time: cannot fail
	}
	var names []string
	for _, e := range ents {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	slices.Sort(names)
	return names
}

// BuiltinSource returns a built-in scenario's YAML.
func BuiltinSource(name string) ([]byte, error) {
	data, err := builtinFS.ReadFile(path.Join("builtin", name+".yaml"))
	if err != nil || strings.ContainsAny(name, "/\\") {
		return nil, fmt.Errorf("no built-in scenario %q (have: %s)", name, strings.Join(Builtins(), ", "))
	}
	return data, nil
}

// Builtin parses a built-in scenario.
func Builtin(name string) (*Scenario, error) {
	data, err := BuiltinSource(name)
	if err != nil {
		return nil, err
	}
	return Parse(name+".yaml", data)
}

// Open returns the scenario arg names: a file if arg looks like a path
// (it has a separator or a .yaml/.yml suffix), else the built-in of that
// name, else a file of that name. "" is the default built-in.
func Open(arg string) (*Scenario, error) {
	if arg == "" {
		arg = DefaultName
	}
	looksLikePath := strings.ContainsAny(arg, "/\\") || strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml")
	if !looksLikePath {
		if slices.Contains(Builtins(), arg) {
			return Builtin(arg)
		}
		if _, err := os.Stat(arg); err != nil {
			return nil, fmt.Errorf("no built-in scenario or file %q (built-ins: %s)", arg, strings.Join(Builtins(), ", "))
		}
	}
	return Load(arg)
}
