package warmhash

import (
	"crypto/sha1"
	"hash"
)

// chunk is how much is brought into cache ahead of the hash at a time:
// small enough to stay in L1/L2 until the hash reaches its end.
const chunk = 16 << 10

// lineSize is the cache line of the CPUs we run on (x86-64, arm64).
const lineSize = 64

// Write feeds b to h, a chunk at a time, touching each chunk's cache
// lines before h reads them.
func Write(h hash.Hash, b []byte) {
	var x byte
	for len(b) > 0 {
		n := min(len(b), chunk)
		x ^= touch(b[:n])
		h.Write(b[:n])
		b = b[n:]
	}
	sink(x)
}

// Sum1 is sha1.Sum with Write's warming.
func Sum1(b []byte) [sha1.Size]byte {
	h := sha1.New()
	Write(h, b)
	var sum [sha1.Size]byte
	h.Sum(sum[:0])
	return sum
}

// touch loads one byte of every cache line of b. The loads do not
// depend on each other, so the CPU has many of them in flight at once.
func touch(b []byte) (x byte) {
	for i := 0; i < len(b); i += lineSize {
		x ^= b[i]
	}
	return x
}

// sink keeps the loads from being optimised away.
//
//go:noinline
func sink(byte) {}
