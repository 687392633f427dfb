package bencode

// Default limits, used for every zero field of Limits. They are generous for
// real BitTorrent data (a 100,000-file torrent uses under a million tokens,
// nests four deep) and small enough that hostile input cannot make a decoder
// allocate or recurse without bound.
const (
	DefaultMaxDepth        = 100
	DefaultMaxStringLength = 128 << 20
	DefaultMaxTokens       = 4 << 20
)

// Limits bound the work a decode may do. A zero field means its default.
type Limits struct {
	// MaxDepth is the deepest nesting of lists and dictionaries allowed.
	MaxDepth int
	// MaxStringLength is the longest string allowed, in bytes. Independently
	// of it, a string may never claim more bytes than the input holds.
	MaxStringLength int64
	// MaxTokens is the most values (integers, strings, lists, dictionaries,
	// dictionary keys included) one decode may read.
	MaxTokens int
}

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxStringLength <= 0 {
		l.MaxStringLength = DefaultMaxStringLength
	}
	if l.MaxTokens <= 0 {
		l.MaxTokens = DefaultMaxTokens
	}
	return l
}

// Options configure a decode. The zero value decodes leniently under the
// default limits, which is what Unmarshal does.
type Options struct {
	Limits Limits
	// Strict rejects encodings that are valid-looking but not canonical:
	// dictionary keys out of order or repeated, integers with leading zeros
	// or "-0", and string lengths with leading zeros. Canonical form matters
	// wherever bytes are hashed or signed; a lenient decoder accepts what
	// real clients send.
	Strict bool
}

// Unmarshal decodes data, which must hold exactly one bencoded value, into
// the value v points to.
func (o Options) Unmarshal(data []byte, v any) error {
	n, err := o.UnmarshalPrefix(data, v)
	if err != nil {
		return err
	}
	if n != len(data) {
		return &SyntaxError{Offset: int64(n), Msg: "trailing data after the value"}
	}
	return nil
}

// UnmarshalPrefix decodes the bencoded value at the start of data into the
// value v points to and returns how many bytes it used. Bytes after the value
// are left alone; BEP 9 metadata messages, for example, carry raw data after
// a bencoded header.
func (o Options) UnmarshalPrefix(data []byte, v any) (int, error) {
	d := decodeState{data: data, lim: o.Limits.withDefaults(), strict: o.Strict}
	if err := d.unmarshal(v); err != nil {
		return 0, err
	}
	return d.pos, nil
}

// Valid checks that data holds exactly one bencoded value within the limits
// (and canonical, when Strict is set), without decoding it.
func (o Options) Valid(data []byte) error {
	d := decodeState{data: data, lim: o.Limits.withDefaults(), strict: o.Strict}
	if err := d.skip(); err != nil {
		return err
	}
	if d.pos != len(data) {
		return &SyntaxError{Offset: int64(d.pos), Msg: "trailing data after the value"}
	}
	return nil
}

// Unmarshal decodes data, which must hold exactly one bencoded value, into
// the value v points to, leniently and under the default limits. See
// Options for strict decoding and other limits.
//
// Dictionaries decode into structs (by `bencode:"key"` tag or field name,
// unknown keys ignored) and into map[string]T; lists into slices and arrays;
// strings into string, []byte and [N]byte (exactly N bytes); integers into
// every integer kind (range-checked) and bool (0 is false). Into an empty
// interface they decode as int64, string, []any and map[string]any.
// RawMessage receives a copy of a value's exact bytes.
func Unmarshal(data []byte, v any) error {
	return Options{}.Unmarshal(data, v)
}
