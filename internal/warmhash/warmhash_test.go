package warmhash

import (
	"crypto/sha1"
	"math/rand/v2"
	"testing"
)

func TestSumMatchesSHA1(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 63, 64, 65, chunk - 1, chunk, chunk + 1, 3*chunk + 100, 256 << 10} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		if got, want := Sum1(b), sha1.Sum(b); got != want {
			t.Errorf("%d bytes: %x, want %x", n, got, want)
		}
		h := sha1.New()
		Write(h, b[:n/2])
		Write(h, b[n/2:])
		if got, want := [sha1.Size]byte(h.Sum(nil)), sha1.Sum(b); got != want {
			t.Errorf("%d bytes in two writes: %x, want %x", n, got, want)
		}
	}
}

// BenchmarkSHA1 hashes 256 KiB pieces out of 256 MiB, far more than the
// cache holds, directly and with Write's warming; and for reference one
// piece over and over, from cache.
func BenchmarkSHA1(b *testing.B) {
	const piece = 256 << 10
	buf := make([]byte, 256<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	at := func(i int) []byte { o := (i % (len(buf) / piece)) * piece; return buf[o : o+piece] }
	b.Run("cached", func(b *testing.B) {
		b.SetBytes(piece)
		for b.Loop() {
			sha1.Sum(at(0))
		}
	})
	b.Run("direct", func(b *testing.B) {
		b.SetBytes(piece)
		for i := 0; b.Loop(); i++ {
			sha1.Sum(at(i))
		}
	})
	b.Run("warm", func(b *testing.B) {
		b.SetBytes(piece)
		for i := 0; b.Loop(); i++ {
			Sum1(at(i))
		}
	})
}
