package scenario

import (
	"cmp"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/swarmlab/swarmlab/internal/splitmix"
)

// maxSeconds is about the longest time a Duration holds (292 years).
const maxSeconds = float64(math.MaxInt64/time.Second) - 1

// Join is one scheduled arrival: peer Index of Groups[Group] joins At
// after the world starts.
type Join struct {
	At    time.Duration
	Group int
	Index int
}

// Schedule returns every first arrival of the world, in time order (ties
// by group, then index). It depends only on the world's groups and seed:
// each group's Poisson process draws from its own stream, so adding a
// group leaves the others' arrivals where they were. Restarts are not
// scheduled: they happen when a peer finishes.
func (w World) Schedule() []Join {
	var out []Join
	for gi, g := range w.Groups {
		switch g.Arrival.Kind {
		case Poisson:
			rng := w.Rand("arrival", gi)
			t := g.Arrival.At.Seconds()
			for i := range g.Count {
				// Exponential gaps of mean 1/Rate seconds. A tiny rate
				// gives gaps beyond what a Duration holds; such peers
				// would never join anyway, so they are put at the end of
				// time rather than overflow into the past.
				t += rng.ExpFloat64() / g.Arrival.Rate
				at := time.Duration(math.MaxInt64)
				if t < maxSeconds {
					at = time.Duration(t * float64(time.Second))
				}
				out = append(out, Join{At: at, Group: gi, Index: i})
			}
		default:
			for i := range g.Count {
				out = append(out, Join{At: g.Arrival.At, Group: gi, Index: i})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Join) int { return cmp.Compare(a.At, b.At) })
	return out
}

// Derive returns a seed for one use of the world's randomness: a stream
// name ("content", "arrival", "peer"…) and indices pick it. Different
// streams are independent, so that, say, changing the content size does
// not move the arrivals. The result is never 0, which live.TorrentConfig
// reads as "seed from the clock".
func (w World) Derive(stream string, idx ...int) uint64 {
	h := fnv.New64a()
	var b [8]byte
	put := func(v uint64) {
		for i := range b {
			b[i] = byte(v >> (8 * i))
		}
		h.Write(b[:])
	}
	put(w.Seed)
	h.Write([]byte(stream))
	for _, i := range idx {
		put(uint64(i))
	}
	// splitmix64's finaliser spreads FNV's weak low bits.
	z := splitmix.Mix(h.Sum64())
	if z == 0 {
		z = 1
	}
	return z
}

// Rand returns a random source for one stream (see Derive).
func (w World) Rand(stream string, idx ...int) *rand.Rand {
	s := w.Derive(stream, idx...)
	return rand.New(rand.NewPCG(s, s^0x6a09e667f3bcc909))
}
