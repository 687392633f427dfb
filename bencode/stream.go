package bencode

import (
	"bufio"
	"errors"
	"io"
	"slices"
	"strconv"
)

// streamChunk caps how much of a string is read (and allocated) at once, so
// a declared length that the stream never delivers costs at most one chunk
// beyond the bytes that really arrived.
const streamChunk = 64 << 10

// Decoder reads successive bencoded values from a stream.
type Decoder struct {
	r    *bufio.Reader
	opts Options
	lim  Limits
	buf  []byte
	off  int64 // stream offset of the next value
	// tokens counts the values read so far of the current top-level value,
	// so the token limit holds before anything is buffered.
	tokens int
}

// NewDecoder returns a Decoder reading from r with default Options. It may
// read ahead of the values it returns; Buffered gives the bytes read but not
// yet used.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: bufio.NewReader(r), lim: Limits{}.withDefaults()}
}

// SetOptions sets the limits and strictness of later Decode calls.
func (d *Decoder) SetOptions(o Options) {
	d.opts = o
	d.lim = o.Limits.withDefaults()
}

// Buffered returns the bytes read from the stream but not yet decoded.
func (d *Decoder) Buffered() io.Reader {
	b, _ := d.r.Peek(d.r.Buffered())
	return bufioBytes(b)
}

type bufioBytes []byte

func (b bufioBytes) Read(p []byte) (int, error) {
	if len(b) == 0 {
		return 0, io.EOF
	}
	return copy(p, b), nil
}

// InputOffset returns the stream offset just past the last decoded value.
func (d *Decoder) InputOffset() int64 { return d.off }

// Decode reads the next value from the stream into the value v points to.
// At a clean end of stream, between values, it returns io.EOF; a stream
// that ends inside a value is a *SyntaxError.
func (d *Decoder) Decode(v any) error {
	d.buf = d.buf[:0]
	d.tokens = 0
	if err := d.read(0); err != nil {
		if errors.Is(err, io.EOF) && len(d.buf) == 0 {
			return io.EOF
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return &SyntaxError{Offset: d.off + int64(len(d.buf)), Msg: "unexpected end of input"}
		}
		return err
	}
	ds := decodeState{data: d.buf, lim: d.lim, strict: d.opts.Strict, base: d.off}
	err := ds.unmarshal(v)
	d.off += int64(len(d.buf))
	if len(d.buf) > 1<<20 {
		d.buf = nil // don't pin one large value's buffer for the Decoder's life
	}
	return err
}

func (d *Decoder) byte() (byte, error) {
	c, err := d.r.ReadByte()
	if err == nil {
		d.buf = append(d.buf, c)
	}
	return c, err
}

func (d *Decoder) syntax(msg string) error {
	return &SyntaxError{Offset: d.off + int64(len(d.buf)) - 1, Msg: msg}
}

// read appends the bytes of one value to d.buf. It checks only what
// decides how much to read (structure, lengths, limits); the full syntax
// check happens when the buffered value is decoded.
func (d *Decoder) read(depth int) error {
	c, err := d.byte()
	if err != nil {
		return err
	}
	d.tokens++
	if d.tokens > d.lim.MaxTokens {
		return &LimitError{Offset: d.off + int64(len(d.buf)) - 1, Limit: "tokens", Max: int64(d.lim.MaxTokens), Value: int64(d.tokens)}
	}
	switch {
	case c == 'i':
		for n := 0; ; n++ {
			c, err := d.byte()
			if err != nil {
				return err
			}
			if c == 'e' {
				return nil
			}
			if n > maxIntegerDigits { // the sign and the digits
				return d.syntax("integer is too long")
			}
		}
	case c >= '0' && c <= '9':
		return d.readString(c)
	case c == 'l' || c == 'd':
		if depth+1 > d.lim.MaxDepth {
			return &LimitError{Offset: d.off + int64(len(d.buf)) - 1, Limit: "depth", Max: int64(d.lim.MaxDepth), Value: int64(depth + 1)}
		}
		for {
			next, err := d.r.Peek(1)
			if err != nil {
				return err
			}
			if next[0] == 'e' {
				_, err := d.byte()
				return err
			}
			if err := d.read(depth + 1); err != nil {
				return err
			}
		}
	default:
		return d.syntax("invalid byte " + strconv.QuoteRune(rune(c)) + " at start of value")
	}
}

func (d *Decoder) readString(first byte) error {
	start := d.off + int64(len(d.buf)) - 1
	n := int64(first - '0')
	for digits := 1; ; digits++ {
		c, err := d.byte()
		if err != nil {
			return err
		}
		if c == ':' {
			break
		}
		if c < '0' || c > '9' {
			return d.syntax("invalid byte " + strconv.QuoteRune(rune(c)) + " in string length")
		}
		if digits >= 18 {
			return d.syntax("string length is too large")
		}
		n = n*10 + int64(c-'0')
	}
	if n > d.lim.MaxStringLength {
		return &LimitError{Offset: start, Limit: "string length", Max: d.lim.MaxStringLength, Value: n}
	}
	for n > 0 {
		chunk := min(n, streamChunk)
		at := len(d.buf)
		d.buf = slices.Grow(d.buf, int(chunk))[:at+int(chunk)]
		got, err := io.ReadFull(d.r, d.buf[at:])
		d.buf = d.buf[:at+got]
		if err != nil {
			return err
		}
		n -= chunk
	}
	return nil
}
