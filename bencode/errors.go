package bencode

import (
	"fmt"
	"reflect"
)

// SyntaxError reports input that is not valid bencoding, or (in strict mode)
// not canonical bencoding.
type SyntaxError struct {
	Offset int64  // byte offset of the problem in the input
	Msg    string // what is wrong, e.g. "string length has a leading zero"
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("bencode: %s at offset %d", e.Msg, e.Offset)
}

// LimitError reports input that exceeds one of the decoder's Limits. The
// input may be valid bencoding; it is refused because decoding it would cost
// more than the caller allowed.
type LimitError struct {
	Offset int64  // byte offset where the limit was crossed
	Limit  string // "depth", "string length" or "tokens"
	Max    int64  // the limit in force
	Value  int64  // the value that crossed it (for a string, its declared length)
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("bencode: %s %d exceeds the limit of %d at offset %d", e.Limit, e.Value, e.Max, e.Offset)
}

// UnmarshalTypeError reports a bencoded value that cannot be stored in the Go
// value it was decoded into.
type UnmarshalTypeError struct {
	Value  string       // "integer", "string", "list", "dict", or a description like "integer 300"
	Type   reflect.Type // the Go type it could not be stored in
	Offset int64        // byte offset of the value
	Field  string       // dotted path of the struct field, if known
}

func (e *UnmarshalTypeError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("bencode: cannot decode %s into field %s of type %s at offset %d", e.Value, e.Field, e.Type, e.Offset)
	}
	return fmt.Sprintf("bencode: cannot decode %s into Go value of type %s at offset %d", e.Value, e.Type, e.Offset)
}

// InvalidUnmarshalError reports a target that Unmarshal cannot write to: nil
// or not a pointer.
type InvalidUnmarshalError struct {
	Type reflect.Type
}

func (e *InvalidUnmarshalError) Error() string {
	if e.Type == nil {
		return "bencode: Unmarshal(nil)"
	}
	if e.Type.Kind() != reflect.Pointer {
		return "bencode: Unmarshal(non-pointer " + e.Type.String() + ")"
	}
	return "bencode: Unmarshal(nil " + e.Type.String() + ")"
}

// UnsupportedTypeError reports a Go value that has no bencoding: floats,
// complex numbers, channels, functions, maps with non-string keys, or a nil
// value where bencode has no way to say "nothing".
type UnsupportedTypeError struct {
	Type   reflect.Type
	Reason string
}

func (e *UnsupportedTypeError) Error() string {
	if e.Reason != "" {
		return "bencode: unsupported type " + e.Type.String() + ": " + e.Reason
	}
	return "bencode: unsupported type " + e.Type.String()
}
