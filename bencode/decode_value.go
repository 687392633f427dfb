package bencode

import (
	"errors"
	"math"
	"reflect"
	"strconv"
)

// value decodes the value at the current position into v.
func (d *decodeState) value(v reflect.Value) error {
	if d.pos >= len(d.data) {
		return d.eof()
	}
	// Follow pointers, allocating as needed, but first give *T a chance to
	// decode itself.
	for {
		t := v.Type()
		if t == rawMessageType {
			return d.raw(v)
		}
		if !methodless(t) && (t.Kind() != reflect.Interface || v.NumMethod() != 0) {
			if ti := infoFor(t); ti.ptrUnmarshaler && v.CanAddr() {
				return d.unmarshaler(v.Addr().Interface().(Unmarshaler))
			}
		}
		if t.Kind() != reflect.Pointer {
			break
		}
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		v = v.Elem()
	}

	switch c := d.data[d.pos]; {
	case c == 'i':
		return d.intValue(v)
	case c >= '0' && c <= '9':
		return d.stringValue(v)
	case c == 'l':
		return d.listValue(v)
	case c == 'd':
		return d.dictValue(v)
	default:
		return d.syntax(d.pos, "invalid byte "+strconv.QuoteRune(rune(c))+" at start of value")
	}
}

func (d *decodeState) raw(v reflect.Value) error {
	start := d.pos
	if err := d.skip(); err != nil {
		return err
	}
	v.SetBytes(append([]byte(nil), d.data[start:d.pos]...))
	return nil
}

func (d *decodeState) unmarshaler(u Unmarshaler) error {
	start := d.pos
	if err := d.skip(); err != nil {
		return err
	}
	if err := u.UnmarshalBencode(d.data[start:d.pos:d.pos]); err != nil {
		var se *SyntaxError
		if errors.As(err, &se) {
			return err
		}
		return &SyntaxError{Offset: d.base + int64(start), Msg: err.Error()}
	}
	return nil
}

// emptyInterface reports whether v is an `any` that takes whatever comes.
func emptyInterface(v reflect.Value) bool {
	return v.Kind() == reflect.Interface && v.NumMethod() == 0
}

func (d *decodeState) intValue(v reflect.Value) error {
	start := d.pos
	neg, mag, err := d.integer()
	if err != nil {
		return err
	}
	rangeErr := func() error {
		s := strconv.FormatUint(mag, 10)
		if neg {
			s = "-" + s
		}
		return d.typeError("integer "+s, v.Type(), start)
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var n int64
		switch {
		case neg && mag <= 1<<63:
			n = -int64(mag)
		case !neg && mag <= math.MaxInt64:
			n = int64(mag)
		default:
			return rangeErr()
		}
		if v.OverflowInt(n) {
			return rangeErr()
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if neg && mag != 0 || v.OverflowUint(mag) {
			return rangeErr()
		}
		v.SetUint(mag)
	case reflect.Bool:
		v.SetBool(mag != 0)
	case reflect.Interface:
		if !emptyInterface(v) {
			return d.typeError("integer", v.Type(), start)
		}
		if neg && mag > 1<<63 || !neg && mag > math.MaxInt64 {
			return d.syntax(start, "integer overflows int64")
		}
		n := int64(mag)
		if neg {
			n = -n
		}
		v.Set(reflect.ValueOf(n))
	default:
		return d.typeError("integer", v.Type(), start)
	}
	return nil
}

func (d *decodeState) stringValue(v reflect.Value) error {
	start := d.pos
	s, err := d.str()
	if err != nil {
		return err
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(string(s))
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.Uint8 {
			return d.typeError("string", v.Type(), start)
		}
		v.SetBytes(append(v.Bytes()[:0], s...))
	case reflect.Array:
		if v.Type().Elem().Kind() != reflect.Uint8 {
			return d.typeError("string", v.Type(), start)
		}
		if len(s) != v.Len() {
			return d.typeError("string of "+strconv.Itoa(len(s))+" bytes", v.Type(), start)
		}
		reflect.Copy(v, reflect.ValueOf(s))
	case reflect.Interface:
		if !emptyInterface(v) {
			return d.typeError("string", v.Type(), start)
		}
		v.Set(reflect.ValueOf(string(s)))
	default:
		return d.typeError("string", v.Type(), start)
	}
	return nil
}

func (d *decodeState) listValue(v reflect.Value) error {
	start := d.pos
	switch v.Kind() {
	case reflect.Interface:
		if !emptyInterface(v) {
			return d.typeError("list", v.Type(), start)
		}
		x, err := d.anyValue()
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(x))
		return nil
	case reflect.Slice, reflect.Array:
	default:
		return d.typeError("list", v.Type(), start)
	}
	if err := d.enter(); err != nil {
		return err
	}
	isSlice := v.Kind() == reflect.Slice
	if isSlice {
		v.SetLen(0)
	}
	i := 0
	for ; ; i++ {
		end, err := d.atEnd()
		if err != nil {
			return err
		}
		if end {
			break
		}
		if isSlice {
			if i >= v.Cap() {
				v.Grow(1)
			}
			v.SetLen(i + 1)
			v.Index(i).SetZero()
		} else if i >= v.Len() {
			return d.typeError("list longer than "+strconv.Itoa(v.Len()), v.Type(), start)
		}
		if err := d.value(v.Index(i)); err != nil {
			return err
		}
	}
	if isSlice && v.IsNil() {
		// "le" decodes to an empty, non-nil slice, as in encoding/json.
		v.Set(reflect.MakeSlice(v.Type(), 0, 0))
	}
	for ; !isSlice && i < v.Len(); i++ {
		v.Index(i).SetZero()
	}
	return nil
}

func (d *decodeState) dictValue(v reflect.Value) error {
	start := d.pos
	switch v.Kind() {
	case reflect.Struct:
		return d.structValue(v)
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return d.typeError("dict", v.Type(), start)
		}
		return d.mapValue(v)
	case reflect.Interface:
		if !emptyInterface(v) {
			return d.typeError("dict", v.Type(), start)
		}
		x, err := d.anyValue()
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(x))
		return nil
	}
	return d.typeError("dict", v.Type(), start)
}

func (d *decodeState) structValue(v reflect.Value) error {
	ti := infoFor(v.Type())
	if err := d.enter(); err != nil {
		return err
	}
	var prev []byte
	for first := true; ; first = false {
		end, err := d.atEnd()
		if err != nil || end {
			return err
		}
		k, err := d.key(prev, first)
		if err != nil {
			return err
		}
		prev = k
		i, ok := ti.byName[string(k)]
		if !ok {
			if err := d.skip(); err != nil {
				return err
			}
			continue
		}
		if err := d.value(v.Field(ti.fields[i].index)); err != nil {
			var te *UnmarshalTypeError
			if errors.As(err, &te) {
				te.Field = prefixField(v.Type().Field(ti.fields[i].index).Name, te.Field)
			}
			return err
		}
	}
}

func prefixField(name, rest string) string {
	if rest == "" {
		return name
	}
	return name + "." + rest
}

func (d *decodeState) mapValue(v reflect.Value) error {
	t := v.Type()
	if v.IsNil() {
		v.Set(reflect.MakeMap(t))
	}
	if err := d.enter(); err != nil {
		return err
	}
	elem := reflect.New(t.Elem()).Elem()
	var prev []byte
	for first := true; ; first = false {
		end, err := d.atEnd()
		if err != nil || end {
			return err
		}
		k, err := d.key(prev, first)
		if err != nil {
			return err
		}
		prev = k
		elem.SetZero()
		if err := d.value(elem); err != nil {
			return err
		}
		v.SetMapIndex(reflect.ValueOf(string(k)).Convert(t.Key()), elem)
	}
}

// anyValue decodes the value at the current position into the generic
// form: int64, string, []any or map[string]any.
func (d *decodeState) anyValue() (any, error) {
	if d.pos >= len(d.data) {
		return nil, d.eof()
	}
	switch c := d.data[d.pos]; {
	case c == 'i':
		return d.int64()
	case c >= '0' && c <= '9':
		s, err := d.str()
		return string(s), err
	case c == 'l':
		if err := d.enter(); err != nil {
			return nil, err
		}
		list := []any{}
		for {
			end, err := d.atEnd()
			if err != nil {
				return nil, err
			}
			if end {
				return list, nil
			}
			x, err := d.anyValue()
			if err != nil {
				return nil, err
			}
			list = append(list, x)
		}
	case c == 'd':
		if err := d.enter(); err != nil {
			return nil, err
		}
		m := map[string]any{}
		var prev []byte
		for first := true; ; first = false {
			end, err := d.atEnd()
			if err != nil {
				return nil, err
			}
			if end {
				return m, nil
			}
			k, err := d.key(prev, first)
			if err != nil {
				return nil, err
			}
			prev = k
			x, err := d.anyValue()
			if err != nil {
				return nil, err
			}
			m[string(k)] = x
		}
	default:
		return nil, d.syntax(d.pos, "invalid byte "+strconv.QuoteRune(rune(c))+" at start of value")
	}
}
