package bitfield

import (
	"errors"
	"math/bits"
)

// Bitfield is a set of indexes in [0, Len()). The zero value is an empty
// set of length 0; use New for a real one.
type Bitfield struct {
	words []uint64
	n     int
	count int
}

// New returns an empty bitfield for n pieces.
func New(n int) *Bitfield {
	return &Bitfield{words: make([]uint64, (n+63)/64), n: n}
}

// Full returns a bitfield for n pieces with every bit set.
func Full(n int) *Bitfield {
	b := New(n)
	b.SetAll()
	return b
}

// ErrWireSize reports a wire bitfield whose size does not match the piece
// count, or that sets bits past the last piece.
var ErrWireSize = errors.New("bitfield: wrong size for the piece count or spare bits set")

// FromWire reads the wire form: ceil(n/8) bytes, bit 7 of byte 0 is piece
// 0, spare bits at the end must be clear.
func FromWire(b []byte, n int) (*Bitfield, error) {
	bf := New(n)
	if err := bf.LoadWire(b); err != nil {
		return nil, err
	}
	return bf, nil
}

// LoadWire replaces the set with the wire form w, as FromWire reads it
// for the bitfield's length, in place. An engine takes every neighbour's
// first bitfield this way into the one it made for the connection, which
// a new bitfield would have left as garbage. On error the set is as it
// was.
func (b *Bitfield) LoadWire(w []byte) error {
	if len(w) != (b.n+7)/8 {
		return ErrWireSize
	}
	if extra := len(w)*8 - b.n; extra > 0 && w[len(w)-1]&(1<<extra-1) != 0 {
		return ErrWireSize
	}
	clear(b.words)
	for i, c := range w {
		if c == 0 {
			continue
		}
		// Reverse so that the wire's MSB-first order becomes bit 0 first.
		r := uint64(bits.Reverse8(c))
		b.words[i/8] |= r << (8 * (i % 8))
	}
	b.recount()
	return nil
}

// AppendWire appends the wire form to dst.
func (b *Bitfield) AppendWire(dst []byte) []byte {
	nbytes := (b.n + 7) / 8
	for i := range nbytes {
		dst = append(dst, bits.Reverse8(byte(b.words[i/8]>>(8*(i%8)))))
	}
	return dst
}

func (b *Bitfield) recount() {
	c := 0
	for _, w := range b.words {
		c += bits.OnesCount64(w)
	}
	b.count = c
}

// Len is the number of pieces the set ranges over.
func (b *Bitfield) Len() int { return b.n }

// Count is the number of set bits, kept up to date on every change.
func (b *Bitfield) Count() int { return b.count }

// All reports whether every bit is set (a seed's bitfield).
func (b *Bitfield) All() bool { return b.count == b.n }

// None reports whether no bit is set.
func (b *Bitfield) None() bool { return b.count == 0 }

// Has reports whether bit i is set; out-of-range i is never set.
func (b *Bitfield) Has(i int) bool {
	if uint(i) >= uint(b.n) {
		return false
	}
	return b.words[i>>6]&(1<<(uint(i)&63)) != 0
}

// Set sets bit i and reports whether it was clear before. It panics if i
// is out of range: callers validate peer input first.
func (b *Bitfield) Set(i int) bool {
	if uint(i) >= uint(b.n) {
		panic("bitfield: index out of range")
	}
	w, m := &b.words[i>>6], uint64(1)<<(uint(i)&63)
	if *w&m != 0 {
		return false
	}
	*w |= m
	b.count++
	return true
}

// Clear clears bit i and reports whether it was set before.
func (b *Bitfield) Clear(i int) bool {
	if uint(i) >= uint(b.n) {
		panic("bitfield: index out of range")
	}
	w, m := &b.words[i>>6], uint64(1)<<(uint(i)&63)
	if *w&m == 0 {
		return false
	}
	*w &^= m
	b.count--
	return true
}

// SetAll sets every bit.
func (b *Bitfield) SetAll() {
	for i := range b.words {
		b.words[i] = ^uint64(0)
	}
	if r := b.n % 64; r != 0 {
		b.words[len(b.words)-1] = 1<<r - 1
	}
	b.count = b.n
}

// Clone returns an independent copy.
func (b *Bitfield) Clone() *Bitfield {
	return &Bitfield{words: append([]uint64(nil), b.words...), n: b.n, count: b.count}
}

// Word returns the 64 bits starting at bit 64*i (bit 0 of the result is
// piece 64*i). Pickers combine words of several sets to scan 64 pieces at
// a time.
func (b *Bitfield) Word(i int) uint64 { return b.words[i] }

// Words is the number of words, (Len()+63)/64.
func (b *Bitfield) Words() int { return len(b.words) }

// CountAndNot returns |b \ other|: how many pieces b has that other lacks.
// Both must have the same length.
func (b *Bitfield) CountAndNot(other *Bitfield) int {
	c := 0
	for i, w := range b.words {
		c += bits.OnesCount64(w &^ other.words[i])
	}
	return c
}

// NextSet returns the first set bit at or after i, or -1.
func (b *Bitfield) NextSet(i int) int {
	if i < 0 {
		i = 0
	}
	if i >= b.n {
		return -1
	}
	wi := i >> 6
	w := b.words[wi] >> (uint(i) & 63)
	if w != 0 {
		return i + bits.TrailingZeros64(w)
	}
	for wi++; wi < len(b.words); wi++ {
		if b.words[wi] != 0 {
			return wi<<6 + bits.TrailingZeros64(b.words[wi])
		}
	}
	return -1
}
