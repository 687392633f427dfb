package bencode

import (
	"reflect"
	"sort"
	"strings"
	"sync"
)

// Marshaler is implemented by types that write their own bencoding. The
// returned bytes must be exactly one valid bencoded value.
type Marshaler interface {
	MarshalBencode() ([]byte, error)
}

// Unmarshaler is implemented by types that decode their own bencoding. The
// argument is exactly one valid bencoded value; it aliases the input, so an
// implementation that keeps it must copy it.
type Unmarshaler interface {
	UnmarshalBencode([]byte) error
}

// RawMessage is a bencoded value kept as its exact bytes. Decoding stores a
// copy of the value's bytes; encoding writes them verbatim (after checking
// they are one valid value). A torrent's info dictionary is decoded into a
// RawMessage so that its hash is computed over the bytes as received.
type RawMessage []byte

var (
	marshalerType   = reflect.TypeFor[Marshaler]()
	unmarshalerType = reflect.TypeFor[Unmarshaler]()
	rawMessageType  = reflect.TypeFor[RawMessage]()
)

// field is one struct field that takes part in bencoding.
type field struct {
	name      string
	index     int
	omitEmpty bool
}

// typeInfo holds the facts about a Go type that encoding and decoding need
// and that are costly to recompute per value.
type typeInfo struct {
	// ptrUnmarshaler: *T implements Unmarshaler.
	ptrUnmarshaler bool
	// marshaler: T implements Marshaler; ptrMarshaler: only *T does.
	marshaler, ptrMarshaler bool
	// fields, for structs: sorted by name, which is also bencode's
	// required dictionary key order, so encoding walks them in order.
	fields []field
	byName map[string]int // name → position in fields
}

// typeCache memoises typeInfo per type. It is package-level, as in
// encoding/json, but holds only facts derived from immutable type
// definitions, so it never changes what a call returns.
var typeCache sync.Map // reflect.Type → *typeInfo

// methodless reports types that cannot implement Marshaler or Unmarshaler:
// predeclared types and unnamed composites (a []string, a map[string]int)
// have no methods, so the type cache need not be asked about them. Structs,
// pointers and interfaces are excluded because they can carry methods
// even unnamed (promoted from embedded fields, or through the pointee).
func methodless(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Struct, reflect.Pointer, reflect.Interface:
		return false
	}
	return t.PkgPath() == ""
}

func infoFor(t reflect.Type) *typeInfo {
	if ti, ok := typeCache.Load(t); ok {
		return ti.(*typeInfo)
	}
	ti := &typeInfo{
		ptrUnmarshaler: reflect.PointerTo(t).Implements(unmarshalerType),
		marshaler:      t.Implements(marshalerType),
	}
	ti.ptrMarshaler = !ti.marshaler && reflect.PointerTo(t).Implements(marshalerType)
	if t.Kind() == reflect.Struct {
		ti.fields, ti.byName = structFields(t)
	}
	actual, _ := typeCache.LoadOrStore(t, ti)
	return actual.(*typeInfo)
}

// structFields lists the exported fields of t with their bencode keys:
// the tag's name if given, else the field's name. A tag of "-" skips the
// field. When two fields claim one key the first wins, so the result is
// always a valid dictionary.
func structFields(t reflect.Type) ([]field, map[string]int) {
	var fs []field
	seen := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("bencode")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = sf.Name
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		fs = append(fs, field{name: name, index: i, omitEmpty: hasOption(opts, "omitempty")})
	}
	sort.Slice(fs, func(a, b int) bool { return fs[a].name < fs[b].name })
	byName := make(map[string]int, len(fs))
	for i, f := range fs {
		byName[f.name] = i
	}
	return fs, byName
}

func hasOption(opts, want string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == want {
			return true
		}
	}
	return false
}
