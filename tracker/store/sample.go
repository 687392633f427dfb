package store

import "math/bits"

// rng is wyrand: one 64-bit add and one 64×64→128-bit multiply per draw,
// a 2^64 period, and output that passes BigCrush and PractRand. A peer
// sample needs dozens of draws per announce, so the generator's cost is
// felt; math/rand/v2's Rand adds an interface call per draw in front of a
// slower PCG. Each shard owns one under its lock.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(r.s, r.s^0xe7037ed1a0b428db)
	return hi ^ lo
}

// intn returns a uniform draw from [0, n), n > 0, by Lemire's
// multiply-and-reject: the high word of draw×n, redrawn in the rare case
// (probability < n/2^64) that the low word falls where that would favour
// some results.
func (r *rng) intn(n int) int {
	u := uint64(n)
	hi, lo := bits.Mul64(r.next(), u)
	if lo < u {
		for thresh := -u % u; lo < thresh; {
			hi, lo = bits.Mul64(r.next(), u)
		}
	}
	return int(hi)
}

// stackPicks is the scratch an announce keeps on its stack when it has
// more than smallPicks candidates: enough for the common samples of such
// swarms (a few dozen peers) without touching the heap.
const stackPicks = 256

// smallPicks bounds the candidates of a sample drawn by pick8, which is
// most samples: most swarms are small.
const smallPicks = 256

// identity8 is [0, 1, ..., smallPicks-1], which pick8 starts its shuffles
// from. It is never written.
var identity8 = func() (t [smallPicks]uint8) {
	for i := range t {
		t[i] = uint8(i)
	}
	return t
}()

// pick8 is picker.pick for at most smallPicks candidates, with one-byte
// indices in buf, which the caller keeps on its stack. Most announces
// sample that few, and 256 bytes of scratch cost less to set up than
// picker's 1 KiB of int32s, which Go zeroes before pick fills it: in a
// profile of BenchmarkUDPHandleCold that zeroing alone took a tenth of the
// store's time, and pick8 took 10-17% off BenchmarkUDPHandle100. Large
// samples shuffle, as pick does; small ones reject repeats in a 256-bit
// set.
func pick8(r *rng, buf *[smallPicks]uint8, n, k int) []uint8 {
	k = min(k, n)
	if k <= 0 {
		return nil
	}
	if n <= 4*k {
		idx := buf[:n]
		copy(idx, identity8[:n])
		for i := 0; i < k; i++ {
			if left := n - i; left > 1 {
				j := i + r.intn(left)
				idx[i], idx[j] = idx[j], idx[i]
			}
		}
		return idx[:k]
	}
	var seen [smallPicks / 64]uint64
	out := buf[:0:k]
	for len(out) < k {
		v := r.intn(n)
		if bit := uint64(1) << (v % 64); seen[v/64]&bit == 0 {
			seen[v/64] |= bit
			out = append(out, uint8(v))
		}
	}
	return out
}

// picker draws samples. small is the caller's stack scratch; big is the
// shard's, grown for the rare sample that does not fit small and kept. It
// never exceeds 4 bytes per peer of the shard's biggest swarm, and only an
// announce that asks for a large share of a large swarm grows it that far;
// behind the server, whose numwant is capped (200 by default), it stays
// within a few KiB.
type picker struct {
	rng   *rng
	small *[stackPicks]int32
	big   *[]int32
}

// pick returns min(k, n) distinct indices drawn uniformly from [0, n), in
// uniformly random order: every ordered sample is equally likely. The
// result aliases p's scratch.
//
// When the sample is a large share of the candidates, a partial
// Fisher-Yates shuffle of the index list [0, n) costs n writes and k
// draws. When it is a small share, drawing indices and rejecting repeats
// (found in a small hash set) costs about k·(1 + k/2n) draws and needs
// memory in proportion to k only, however big the swarm. Either way the
// order of the draws is the order of the output, so no final shuffle is
// needed.
func (p *picker) pick(n, k int) []int32 {
	k = min(k, n)
	if k <= 0 {
		return nil
	}
	if n <= 4*k {
		idx := p.scratch(n)
		for i := range idx {
			idx[i] = int32(i)
		}
		for i := 0; i < k; i++ {
			if left := n - i; left > 1 {
				j := i + p.rng.intn(left)
				idx[i], idx[j] = idx[j], idx[i]
			}
		}
		return idx[:k]
	}
	// The hash set lives in the same scratch, after the k picks: a
	// power-of-two table at least twice as large as k (so probes stay
	// short), holding index+1 with 0 for empty.
	size := 1 << bits.Len(uint(2*k-1))
	buf := p.scratch(k + size)
	out, table := buf[:0:k], buf[k:]
	clear(table)
	shift := 64 - bits.Len(uint(size-1))
	mask := size - 1
	for len(out) < k {
		v := int32(p.rng.intn(n))
		// Fibonacci hashing spreads consecutive indices over the table.
		h := int((uint64(v) * 0x9e3779b97f4a7c15) >> shift)
		for {
			t := table[h]
			if t == 0 {
				table[h] = v + 1
				out = append(out, v)
				break
			}
			if t == v+1 {
				break // a repeat: draw again
			}
			h = (h + 1) & mask
		}
	}
	return out
}

// scratch returns n int32s of scratch with unspecified contents.
func (p *picker) scratch(n int) []int32 {
	if n <= len(p.small) {
		return p.small[:n]
	}
	if cap(*p.big) < n {
		*p.big = make([]int32, n)
	}
	return (*p.big)[:n]
}
