package bencode

import (
	"reflect"
	"slices"
	"strconv"
)

// maxEncodeDepth stops encoding of cyclic values (a pointer that leads back
// to itself) with an error instead of a stack overflow.
const maxEncodeDepth = 1000

// Marshal returns the bencoding of v.
//
// Structs encode as dictionaries with their keys sorted, as bencode
// requires; fields are named by `bencode:"key"` tags (default: the field
// name), `bencode:"-"` skips a field and the "omitempty" option skips zero
// values. Nil pointers and interfaces inside a struct or map are left out,
// since bencode has no null; nil slices and maps encode as empty ones. Maps need string keys and are
// written in sorted key order. bool encodes as i1e or i0e; []byte and [N]byte
// as strings. RawMessage and Marshaler values are written verbatim after a
// validity check. Floats, complex numbers, channels and functions are
// unsupported.
func Marshal(v any) ([]byte, error) {
	// Most messages (tracker responses, DHT and extension messages) fit in
	// a few hundred bytes; starting there saves the run of small
	// reallocations that growing from nothing costs.
	return AppendMarshal(make([]byte, 0, 512), v)
}

// AppendMarshal appends the bencoding of v to buf, which lets hot paths
// reuse a buffer.
func AppendMarshal(buf []byte, v any) ([]byte, error) {
	e := encodeState{buf: buf}
	if v == nil {
		return buf, &UnsupportedTypeError{Type: reflect.TypeOf((*any)(nil)).Elem(), Reason: "nil has no bencoding"}
	}
	if err := e.value(reflect.ValueOf(v), 0); err != nil {
		return buf, err
	}
	return e.buf, nil
}

type encodeState struct {
	buf []byte
}

func (e *encodeState) value(v reflect.Value, depth int) error {
	if depth > maxEncodeDepth {
		return &UnsupportedTypeError{Type: v.Type(), Reason: "nested too deeply (cyclic value?)"}
	}
	t := v.Type()
	if t == rawMessageType {
		return e.verbatim(v.Bytes(), t)
	}
	if k := t.Kind(); !methodless(t) && (k != reflect.Interface && k != reflect.Pointer || !v.IsNil()) {
		ti := infoFor(t)
		if ti.marshaler || ti.ptrMarshaler && v.CanAddr() {
			m := v
			if ti.ptrMarshaler {
				m = v.Addr()
			}
			b, err := m.Interface().(Marshaler).MarshalBencode()
			if err != nil {
				return err
			}
			return e.verbatim(b, t)
		}
	}
	switch v.Kind() {
	case reflect.Bool:
		if v.Bool() {
			e.buf = append(e.buf, "i1e"...)
		} else {
			e.buf = append(e.buf, "i0e"...)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf = append(e.buf, 'i')
		e.buf = strconv.AppendInt(e.buf, v.Int(), 10)
		e.buf = append(e.buf, 'e')
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.buf = append(e.buf, 'i')
		e.buf = strconv.AppendUint(e.buf, v.Uint(), 10)
		e.buf = append(e.buf, 'e')
	case reflect.String:
		e.str(v.String())
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			e.bytes(v.Bytes())
			return nil
		}
		return e.list(v, depth)
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			e.buf = strconv.AppendInt(e.buf, int64(v.Len()), 10)
			e.buf = append(e.buf, ':')
			for i := 0; i < v.Len(); i++ {
				e.buf = append(e.buf, byte(v.Index(i).Uint()))
			}
			return nil
		}
		return e.list(v, depth)
	case reflect.Map:
		return e.mapValue(v, depth)
	case reflect.Struct:
		return e.structValue(v, depth)
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return &UnsupportedTypeError{Type: t, Reason: "nil has no bencoding"}
		}
		return e.value(v.Elem(), depth+1)
	default:
		return &UnsupportedTypeError{Type: t}
	}
	return nil
}

// verbatim writes pre-encoded bytes after checking they are exactly one
// valid value, so a broken Marshaler or RawMessage cannot corrupt the output.
func (e *encodeState) verbatim(b []byte, t reflect.Type) error {
	if err := (Options{}).Valid(b); err != nil {
		return &UnsupportedTypeError{Type: t, Reason: "invalid pre-encoded value: " + err.Error()}
	}
	e.buf = append(e.buf, b...)
	return nil
}

func (e *encodeState) str(s string) {
	e.buf = strconv.AppendInt(e.buf, int64(len(s)), 10)
	e.buf = append(e.buf, ':')
	e.buf = append(e.buf, s...)
}

func (e *encodeState) bytes(b []byte) {
	e.buf = strconv.AppendInt(e.buf, int64(len(b)), 10)
	e.buf = append(e.buf, ':')
	e.buf = append(e.buf, b...)
}

func (e *encodeState) list(v reflect.Value, depth int) error {
	e.buf = append(e.buf, 'l')
	for i := 0; i < v.Len(); i++ {
		if err := e.value(v.Index(i), depth+1); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, 'e')
	return nil
}

func (e *encodeState) mapValue(v reflect.Value, depth int) error {
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		return &UnsupportedTypeError{Type: t, Reason: "map keys must be strings"}
	}
	keys := v.MapKeys()
	slices.SortFunc(keys, func(a, b reflect.Value) int {
		switch as, bs := a.String(), b.String(); {
		case as < bs:
			return -1
		case as > bs:
			return 1
		}
		return 0
	})
	e.buf = append(e.buf, 'd')
	for _, k := range keys {
		elem := v.MapIndex(k)
		if isNil(elem) {
			continue
		}
		e.str(k.String())
		if err := e.value(elem, depth+1); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, 'e')
	return nil
}

func (e *encodeState) structValue(v reflect.Value, depth int) error {
	ti := infoFor(v.Type())
	e.buf = append(e.buf, 'd')
	for _, f := range ti.fields {
		fv := v.Field(f.index)
		if isNil(fv) || f.omitEmpty && isEmpty(fv) {
			continue
		}
		e.str(f.name)
		if err := e.value(fv, depth+1); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, 'e')
	return nil
}

// isNil reports values that bencode cannot express and so leaves out of
// dictionaries: nil pointers and interfaces.
func isNil(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// isEmpty is omitempty's test: false, 0, "", and empty arrays, slices and
// maps.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	}
	return false
}
