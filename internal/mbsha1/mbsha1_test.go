package mbsha1

import (
	"crypto/sha1"
	"fmt"
	"math/rand/v2"
	"testing"
)

// split cuts b into segments at the given lengths, cycling through them;
// the last segment takes what is left.
func split(b []byte, lengths ...int) Message {
	var m Message
	for i := 0; len(b) > 0; i++ {
		n := min(lengths[i%len(lengths)], len(b))
		m = append(m, b[:n])
		b = b[n:]
	}
	return m
}

func flat(m Message) []byte {
	var b []byte
	for _, s := range m {
		b = append(b, s...)
	}
	return b
}

// check hashes msgs through sum and compares every digest with
// crypto/sha1's.
func check(t *testing.T, name string, sum func([][Size]byte, []Message), msgs []Message) {
	t.Helper()
	sums := make([][Size]byte, len(msgs))
	sum(sums, msgs)
	for i, m := range msgs {
		if want := sha1.Sum(flat(m)); sums[i] != want {
			t.Fatalf("%s: message %d of %d (%d bytes in %d segments): got %x, want %x", name, i, len(msgs), len(flat(m)), len(m), sums[i], want)
		}
	}
}

// checkAll checks Sum, and every kernel this processor can run however
// few the messages.
func checkAll(t *testing.T, msgs []Message) {
	t.Helper()
	check(t, "Sum", Sum, msgs)
	for _, k := range kernels() {
		check(t, kernelName(k), func(sums [][Size]byte, msgs []Message) { sumLanes(k, sums, msgs) }, msgs)
	}
}

func TestSumMatchesCryptoSHA1(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	piece := func(n int, segs ...int) Message { return split(data[:n], segs...) }
	cases := []struct {
		name string
		msgs []Message
	}{
		{"none", nil},
		{"one empty message", []Message{nil}},
		{"empty segments", []Message{{nil, data[:10], nil, data[10:64], nil}}},
		{"lengths around the padding edge", func() []Message {
			var ms []Message
			for n := 50; n <= 140; n++ {
				ms = append(ms, piece(n, n))
			}
			return ms
		}()},
		{"pieces of 16 KiB blocks", func() []Message {
			var ms []Message
			for i := range 40 {
				ms = append(ms, split(data[i*1024:i*1024+256<<10], 16<<10))
			}
			return ms
		}()},
		{"a short last piece among full ones", []Message{piece(256<<10, 16<<10), piece(100_000, 16<<10), piece(256<<10, 16<<10), piece(3, 1)}},
		{"segments that straddle blocks", []Message{piece(5000, 1, 63, 65, 7, 128, 200), piece(5000, 100), piece(5000, 64, 1), piece(777, 33, 31)}},
		{"lanes of very different lengths", []Message{piece(1<<20, 16<<10), piece(64, 64), piece(0), piece(128, 64), piece(4096, 4096)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkAll(t, c.msgs)
		})
	}
}

// TestSumRandomBatches checks batches of every size up to three runs of
// the lanes, with random lengths and cuts.
func TestSumRandomBatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	data := make([]byte, 64<<10)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	for count := 0; count <= 3*Lanes; count++ {
		msgs := make([]Message, count)
		for i := range msgs {
			start := rng.IntN(len(data))
			n := rng.IntN(len(data) - start + 1)
			msgs[i] = split(data[start:start+n], 1+rng.IntN(300), 64*(1+rng.IntN(64)))
		}
		t.Run(fmt.Sprint(count), func(t *testing.T) {
			checkAll(t, msgs)
		})
	}
}

// FuzzSum cuts its input into messages and segments as cuts says: each
// byte of cuts gives a segment's length, and a 0 ends a message.
func FuzzSum(f *testing.F) {
	f.Add([]byte("abc"), []byte{3})
	f.Add(make([]byte, 300), []byte{64, 64, 0, 55, 0, 56, 0, 1, 63, 64})
	f.Add(make([]byte, 2000), []byte{200, 1, 0, 0, 128, 127, 255, 0})
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		var msgs []Message
		var m Message
		for _, c := range cuts {
			if c == 0 {
				msgs = append(msgs, m)
				m = nil
				continue
			}
			n := min(int(c), len(data))
			m = append(m, data[:n])
			data = data[n:]
		}
		msgs = append(msgs, append(m, data))
		checkAll(t, msgs)
	})
}

// BenchmarkSum hashes batches of 256 KiB pieces, each as 16 KiB blocks,
// by the number of pieces in a batch; "crypto-sha1" is the same pieces
// one at a time.
func BenchmarkSum(b *testing.B) {
	const pieceSize = 256 << 10
	data := make([]byte, 16*pieceSize)
	for i := range data {
		data[i] = byte(i * 7)
	}
	batch := func(n int) []Message {
		msgs := make([]Message, n)
		for i := range msgs {
			msgs[i] = split(data[i*pieceSize:(i+1)*pieceSize], 16<<10)
		}
		return msgs
	}
	for _, k := range kernels() {
		for _, n := range []int{1, 2, 3, 4, 8, 16} {
			msgs := batch(n)
			sums := make([][Size]byte, n)
			b.Run(fmt.Sprintf("%s/%d", kernelName(k), n), func(b *testing.B) {
				b.SetBytes(int64(n * pieceSize))
				for b.Loop() {
					sumLanes(k, sums, msgs)
				}
			})
		}
	}
	b.Run("crypto-sha1", func(b *testing.B) {
		b.SetBytes(pieceSize)
		m := batch(1)[0]
		for b.Loop() {
			sumOne(m)
		}
	})
}
