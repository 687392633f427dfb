package bencode

import (
	"bytes"
	"math"
	"reflect"
	"strconv"
)

// decodeState decodes one value from an in-memory buffer. Every decode, the
// streaming Decoder's included, ends up here: the Decoder first reads one
// value's bytes, then decodes them.
type decodeState struct {
	data   []byte
	pos    int
	depth  int
	tokens int
	lim    Limits
	strict bool
	// base is added to offsets in errors, so that a stream decoder reports
	// positions in the stream rather than in its buffer.
	base int64
}

func (d *decodeState) unmarshal(v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return &InvalidUnmarshalError{Type: reflect.TypeOf(v)}
	}
	return d.value(rv.Elem())
}

func (d *decodeState) syntax(pos int, msg string) error {
	return &SyntaxError{Offset: d.base + int64(pos), Msg: msg}
}

func (d *decodeState) eof() error {
	return d.syntax(d.pos, "unexpected end of input")
}

// token counts one value against the token limit.
func (d *decodeState) token() error {
	d.tokens++
	if d.tokens > d.lim.MaxTokens {
		return &LimitError{Offset: d.base + int64(d.pos), Limit: "tokens", Max: int64(d.lim.MaxTokens), Value: int64(d.tokens)}
	}
	return nil
}

// enter opens a list or dictionary: it counts the token, checks the depth
// and steps over the opening byte.
func (d *decodeState) enter() error {
	if err := d.token(); err != nil {
		return err
	}
	d.depth++
	if d.depth > d.lim.MaxDepth {
		return &LimitError{Offset: d.base + int64(d.pos), Limit: "depth", Max: int64(d.lim.MaxDepth), Value: int64(d.depth)}
	}
	d.pos++
	return nil
}

// atEnd reports whether the next byte closes the open list or dictionary,
// and steps over it if so.
func (d *decodeState) atEnd() (bool, error) {
	if d.pos >= len(d.data) {
		return false, d.eof()
	}
	if d.data[d.pos] == 'e' {
		d.pos++
		d.depth--
		return true, nil
	}
	return false, nil
}

// maxIntegerDigits bounds an integer's digits. 20 digits hold any 64-bit
// value; the rest of the allowance is for the leading zeros a lenient decode
// accepts. Both decoders share it so they agree on what is valid.
const maxIntegerDigits = 32

// integer reads "i<digits>e" and returns its sign and magnitude, so that
// callers can range-check for their own type, uint64 included.
func (d *decodeState) integer() (neg bool, mag uint64, err error) {
	start := d.pos
	if err := d.token(); err != nil {
		return false, 0, err
	}
	p := d.pos + 1 // past 'i'
	if p < len(d.data) && d.data[p] == '-' {
		neg = true
		p++
	}
	digits := p
	for p < len(d.data) && d.data[p] >= '0' && d.data[p] <= '9' {
		if p-digits >= maxIntegerDigits {
			return false, 0, d.syntax(start, "integer is too long")
		}
		c := uint64(d.data[p] - '0')
		if mag > (math.MaxUint64-c)/10 {
			return false, 0, d.syntax(start, "integer overflows 64 bits")
		}
		mag = mag*10 + c
		p++
	}
	if p >= len(d.data) {
		d.pos = p
		return false, 0, d.eof()
	}
	if d.data[p] != 'e' {
		return false, 0, d.syntax(p, "invalid byte "+strconv.QuoteRune(rune(d.data[p]))+" in integer")
	}
	n := p - digits
	if n == 0 {
		return false, 0, d.syntax(start, "integer has no digits")
	}
	if d.strict {
		if d.data[digits] == '0' && n > 1 {
			return false, 0, d.syntax(start, "integer has a leading zero")
		}
		if neg && mag == 0 {
			return false, 0, d.syntax(start, "integer is negative zero")
		}
	}
	d.pos = p + 1
	return neg, mag, nil
}

// int64 reads an integer that must fit in an int64.
func (d *decodeState) int64() (int64, error) {
	start := d.pos
	neg, mag, err := d.integer()
	if err != nil {
		return 0, err
	}
	if neg {
		if mag > 1<<63 {
			return 0, d.syntax(start, "integer overflows int64")
		}
		return -int64(mag), nil
	}
	if mag > math.MaxInt64 {
		return 0, d.syntax(start, "integer overflows int64")
	}
	return int64(mag), nil
}

// str reads "<length>:<bytes>" and returns the bytes, aliasing the input.
// The declared length is checked against the bytes that remain before any
// use, so a hostile "99999999999:" costs nothing.
func (d *decodeState) str() ([]byte, error) {
	start := d.pos
	if err := d.token(); err != nil {
		return nil, err
	}
	p := d.pos
	var n int64
	for p < len(d.data) && d.data[p] >= '0' && d.data[p] <= '9' {
		if p-start >= 18 { // 18 digits always fit in int64
			return nil, d.syntax(start, "string length is too large")
		}
		n = n*10 + int64(d.data[p]-'0')
		p++
	}
	if p >= len(d.data) {
		d.pos = p
		return nil, d.eof()
	}
	if d.data[p] != ':' {
		if p == start && d.data[p] == '-' {
			return nil, d.syntax(start, "negative string length")
		}
		return nil, d.syntax(p, "invalid byte "+strconv.QuoteRune(rune(d.data[p]))+" in string length")
	}
	if p == start {
		return nil, d.syntax(start, "string length has no digits")
	}
	if d.strict && d.data[start] == '0' && p-start > 1 {
		return nil, d.syntax(start, "string length has a leading zero")
	}
	p++ // past ':'
	if rest := int64(len(d.data) - p); n > rest {
		return nil, d.syntax(start, "string of "+strconv.FormatInt(n, 10)+" bytes overruns the input ("+strconv.FormatInt(rest, 10)+" bytes left)")
	}
	if n > d.lim.MaxStringLength {
		return nil, &LimitError{Offset: d.base + int64(start), Limit: "string length", Max: d.lim.MaxStringLength, Value: n}
	}
	d.pos = p + int(n)
	return d.data[p:d.pos], nil
}

// key reads a dictionary key and, in strict mode, checks that it sorts
// strictly after the previous one.
func (d *decodeState) key(prev []byte, first bool) ([]byte, error) {
	start := d.pos
	if c := d.data[d.pos]; c < '0' || c > '9' {
		return nil, d.syntax(start, "dictionary key is not a string")
	}
	k, err := d.str()
	if err != nil {
		return nil, err
	}
	if d.strict && !first {
		switch c := bytes.Compare(prev, k); {
		case c == 0:
			return nil, d.syntax(start, "duplicate dictionary key "+strconv.Quote(string(k)))
		case c > 0:
			return nil, d.syntax(start, "dictionary key "+strconv.Quote(string(k))+" out of order")
		}
	}
	return k, nil
}

// skip steps over one value, checking its syntax and limits.
func (d *decodeState) skip() error {
	if d.pos >= len(d.data) {
		return d.eof()
	}
	switch c := d.data[d.pos]; {
	case c == 'i':
		_, _, err := d.integer()
		return err
	case c >= '0' && c <= '9':
		_, err := d.str()
		return err
	case c == 'l':
		if err := d.enter(); err != nil {
			return err
		}
		for {
			end, err := d.atEnd()
			if err != nil || end {
				return err
			}
			if err := d.skip(); err != nil {
				return err
			}
		}
	case c == 'd':
		if err := d.enter(); err != nil {
			return err
		}
		var prev []byte
		for first := true; ; first = false {
			end, err := d.atEnd()
			if err != nil || end {
				return err
			}
			if prev, err = d.key(prev, first); err != nil {
				return err
			}
			if err := d.skip(); err != nil {
				return err
			}
		}
	default:
		return d.syntax(d.pos, "invalid byte "+strconv.QuoteRune(rune(c))+" at start of value")
	}
}

// kindAt names the kind of value starting at the current position, for
// type errors.
func (d *decodeState) kindAt() string {
	if d.pos >= len(d.data) {
		return "nothing"
	}
	switch c := d.data[d.pos]; {
	case c == 'i':
		return "integer"
	case c == 'l':
		return "list"
	case c == 'd':
		return "dict"
	case c >= '0' && c <= '9':
		return "string"
	}
	return "invalid value"
}

func (d *decodeState) typeError(what string, t reflect.Type, pos int) error {
	return &UnmarshalTypeError{Value: what, Type: t, Offset: d.base + int64(pos)}
}
