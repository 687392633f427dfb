package scenario

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decoder reads a YAML node tree field by field. It is hand-written
// rather than left to the YAML module's struct decoding so that every
// error names the field as the scenario spells it (groups[1].up), with
// its line, every unknown or repeated key is an error, and one pass
// reports every mistake in a file instead of the first.
type decoder struct {
	file string
	// prefix goes before every path, e.g. `variant "push": `.
	prefix string
	errs   []error
}

// errorf records a mistake at node n.
func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	msg = d.prefix + msg
	switch {
	case n != nil && n.Line > 0 && d.file != "":
		msg = fmt.Sprintf("%s:%d: %s", d.file, n.Line, msg)
	case n != nil && n.Line > 0:
		msg = fmt.Sprintf("line %d: %s", n.Line, msg)
	case d.file != "":
		msg = d.file + ": " + msg
	}
	d.errs = append(d.errs, errors.New(msg))
}

func (d *decoder) err() error { return errors.Join(d.errs...) }

// resolve follows aliases (*anchor) to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

// field is one key a mapping may hold and what to do with its value.
type field struct {
	key string
	fn  func(n *yaml.Node, path string)
}

// mapping decodes a mapping node: each key must be one of fields, at most
// once. It returns false if n is not a mapping.
func (d *decoder) mapping(n *yaml.Node, path string, fields ...field) bool {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a mapping of %s, got %s", keyList(fields), kindName(n))
		return false
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		sub := join(path, k.Value)
		if seen[k.Value] {
			d.errorf(k, sub, "given twice")
			continue
		}
		seen[k.Value] = true
		j := slices.IndexFunc(fields, func(f field) bool { return f.key == k.Value })
		if j < 0 {
			d.errorf(k, path, "unknown field %q (want one of %s)", k.Value, keyList(fields))
			continue
		}
		fields[j].fn(resolve(v), sub)
	}
	return true
}

func keyList(fields []field) string {
	keys := make([]string, len(fields))
	for i, f := range fields {
		keys[i] = f.key
	}
	return strings.Join(keys, ", ")
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// scalar returns n's text, or false after recording an error if n is not
// a scalar.
func (d *decoder) scalar(n *yaml.Node, path, want string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(n, path, "want %s, got %s", want, kindName(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) str(n *yaml.Node, path string, dst *string) {
	if s, ok := d.scalar(n, path, "a string"); ok {
		*dst = s
	}
}

func (d *decoder) boolean(n *yaml.Node, path string, dst *bool) {
	s, ok := d.scalar(n, path, "true or false")
	if !ok {
		return
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		d.errorf(n, path, "want true or false, got %q", s)
		return
	}
	*dst = v
}

func (d *decoder) integer(n *yaml.Node, path string, dst *int) {
	s, ok := d.scalar(n, path, "a whole number")
	if !ok {
		return
	}
	v, err := strconv.ParseInt(s, 10, 0)
	if err != nil {
		d.errorf(n, path, "want a whole number, got %q", s)
		return
	}
	*dst = int(v)
}

func (d *decoder) uint64(n *yaml.Node, path string, dst *uint64) {
	s, ok := d.scalar(n, path, "a whole number")
	if !ok {
		return
	}
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		d.errorf(n, path, "want a whole number from 0 to %d, got %q", uint64(math.MaxUint64), s)
		return
	}
	*dst = v
}

// parse decodes a scalar with fn, recording fn's error as the field's
// mistake. want describes the value for a node that is not a scalar.
func parse[T any](d *decoder, n *yaml.Node, path, want string, fn func(string) (T, error), dst *T) {
	s, ok := d.scalar(n, path, want)
	if !ok {
		return
	}
	v, err := fn(s)
	if err != nil {
		d.errorf(n, path, "%v", err)
		return
	}
	*dst = v
}

// oneOf decodes a word that must be one of want, in any case, into dst,
// lower-cased. what names it in the error: unknown role "lurker" (want
// seed or leecher).
func oneOf[T ~string](d *decoder, n *yaml.Node, path, what string, dst *T, want ...T) {
	s, ok := d.scalar(n, path, "a string")
	if !ok {
		return
	}
	if v := T(strings.ToLower(s)); slices.Contains(want, v) {
		*dst = v
		return
	}
	names := make([]string, len(want))
	for i, w := range want {
		names[i] = string(w)
	}
	last := len(names) - 1
	d.errorf(n, path, "unknown %s %q (want %s or %s)", what, s, strings.Join(names[:last], ", "), names[last])
}

func (d *decoder) size(n *yaml.Node, path string, dst *int64) {
	parse(d, n, path, "a size such as 64MiB", ParseSize, dst)
}

func (d *decoder) rate(n *yaml.Node, path string, dst *int64) {
	parse(d, n, path, "a rate such as 256KiB/s", ParseRate, dst)
}

// rates reads one rate or a list of them.
func (d *decoder) rates(n *yaml.Node, path string, dst *[]int64) {
	if n.Kind != yaml.SequenceNode {
		var v int64
		before := len(d.errs)
		d.rate(n, path, &v)
		if len(d.errs) == before {
			*dst = []int64{v}
		}
		return
	}
	if len(n.Content) == 0 {
		d.errorf(n, path, "empty list: give at least one rate")
		return
	}
	out := make([]int64, len(n.Content))
	for i, e := range n.Content {
		d.rate(resolve(e), fmt.Sprintf("%s[%d]", path, i), &out[i])
	}
	*dst = out
}

func (d *decoder) duration(n *yaml.Node, path string, dst *time.Duration) {
	parse(d, n, path, "a duration such as 30s", ParseDuration, dst)
}

// list calls fn for each element of a sequence node.
func (d *decoder) list(n *yaml.Node, path string, fn func(i int, n *yaml.Node, path string)) {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "want a list, got %s", kindName(n))
		return
	}
	for i, e := range n.Content {
		fn(i, resolve(e), fmt.Sprintf("%s[%d]", path, i))
	}
}

// merge returns base with patch laid over it: keys of a patch mapping
// replace base's, except that two mappings merge key by key. Neither
// input is modified. This is how a variant changes a few fields of a
// group and leaves the rest as the scenario wrote them.
func merge(base, patch *yaml.Node) *yaml.Node {
	base, patch = resolve(base), resolve(patch)
	if patch == nil {
		return base
	}
	if base == nil || base.Kind != yaml.MappingNode || patch.Kind != yaml.MappingNode {
		return patch
	}
	out := *base
	out.Content = slices.Clone(base.Content)
	for i := 0; i+1 < len(patch.Content); i += 2 {
		k, v := patch.Content[i], patch.Content[i+1]
		j := -1
		for b := 0; b+1 < len(out.Content); b += 2 {
			if out.Content[b].Value == k.Value {
				j = b
				break
			}
		}
		if j < 0 {
			out.Content = append(out.Content, k, v)
			continue
		}
		out.Content[j+1] = merge(out.Content[j+1], v)
	}
	return &out
}
