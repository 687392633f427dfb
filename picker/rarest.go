package picker

import (
	"math"
	"math/bits"
)

// Rarest is rarest-first (Cohen, "Incentives Build Robustness in
// BitTorrent", 2003): start the piece the fewest connected peers have, so
// rare pieces spread before their holders leave and every peer keeps
// something others want. Ties break at random.
//
// A peer with almost nothing gains more from any complete piece than
// from a rare one that takes long to arrive, so until we hold RandomFirst
// pieces Rarest picks at random among the candidates, as mainline
// BitTorrent's "random first piece" policy does.
type Rarest struct {
	RandomFirst int
}

// IgnoresPeers implements PeersIgnorer.
func (Rarest) IgnoresPeers() bool { return true }

// Pick implements Picker.
func (r Rarest) Pick(v *View, p Peer) (int, bool) {
	if v.Have.Count() < r.RandomFirst {
		return randomCandidate(v, p)
	}
	return rarestOf(v, p)
}

// rarestOf returns one of the rarest candidates, chosen uniformly among
// ties: the k-th of the candidates with the lowest count, in piece order,
// for one random k below their number. One random draw per pick, where
// sampling ties as they come draws once per tie.
//
// The scan of the candidates' counts was a sixth of a small simulated
// world's instructions; on a processor with AVX-512 it compares 32 counts
// an instruction (rarestOfSIMD), which took bigswarm's wall time down by
// 10% at 100 leechers; at 1,000 to 3,000 the gain is within the noise of
// single runs, as cache misses elsewhere weigh more there. Both ways give
// the same piece for the same random source, so a world's results do not
// depend on the machine.
func rarestOf(v *View, p Peer) (int, bool) {
	if simdLowest && cap(v.Avail.count) >= p.Has.Words()*64 {
		return rarestOfSIMD(v, p)
	}
	return rarestOfScalar(v, p)
}

// rarestOfScalar is rarestOf in two passes over the candidates: the
// lowest count and how many pieces have it, then the k-th of them.
func rarestOfScalar(v *View, p Peer) (int, bool) {
	counts := v.Avail.count // seeds raise every count alike: no need to add them
	lowest, ties := uint16(0), 0
	for i := range p.Has.Words() {
		for w := candidates(v, p, i); w != 0; w &= w - 1 {
			switch c := counts[i<<6+bits.TrailingZeros64(w)]; {
			case ties == 0 || c < lowest:
				lowest, ties = c, 1
			case c == lowest:
				ties++
			}
		}
	}
	if ties == 0 {
		return 0, false
	}
	k := v.Rand.IntN(ties)
	for i := range p.Has.Words() {
		for w := candidates(v, p, i); w != 0; w &= w - 1 {
			piece := i<<6 + bits.TrailingZeros64(w)
			if counts[piece] != lowest {
				continue
			}
			if k == 0 {
				return piece, true
			}
			k--
		}
	}
	return 0, false // unreachable: the same candidates were counted
}

// simdChunk is how many words of candidates rarestOfSIMD holds at once,
// on the stack: 2,048 pieces.
const simdChunk = 32

// rarestOfSIMD is rarestOf with the AVX-512 kernels, a chunk of words at a
// time: the lowest count over all chunks, then each chunk's ties, then
// the k-th tie. A torrent of one chunk (bigswarm's 1,000 pieces) computes
// its candidates and ties once.
func rarestOfSIMD(v *View, p Peer) (int, bool) {
	words := p.Has.Words()
	counts := v.Avail.count[:words*64] // NewAvailability pads to whole words
	var cand, eq [simdChunk]uint64
	lowest, found := uint16(math.MaxUint16), false
	for base := 0; base < words; base += simdChunk {
		n := fillCandidates(&cand, v, p, base, words)
		var or uint64
		for _, w := range cand[:n] {
			or |= w
		}
		if or != 0 {
			found = true
			lowest = min(lowest, lowestAVX512(&counts[base*64], &cand[0], n))
		}
	}
	if !found {
		return 0, false
	}
	// ties fills eq with the ties among the candidates of the chunk at
	// base, computing the candidates again unless cand still holds them.
	ties := func(base int) int {
		n := min(simdChunk, words-base)
		if words > simdChunk {
			fillCandidates(&cand, v, p, base, words)
		}
		tiesAVX512(&counts[base*64], &cand[0], &eq[0], n, lowest)
		return n
	}
	total := 0
	for base := 0; base < words; base += simdChunk {
		for _, w := range eq[:ties(base)] {
			total += bits.OnesCount64(w)
		}
	}
	k := v.Rand.IntN(total)
	for base := 0; base < words; base += simdChunk {
		n := min(simdChunk, words-base)
		if words > simdChunk {
			ties(base)
		}
		for i, w := range eq[:n] {
			if c := bits.OnesCount64(w); k >= c {
				k -= c
				continue
			}
			for ; k > 0; k-- {
				w &= w - 1
			}
			return (base+i)<<6 + bits.TrailingZeros64(w), true
		}
	}
	return 0, false // unreachable: the same ties were counted
}

// fillCandidates puts the candidates of words [base, base+simdChunk) in
// cand and returns how many words that is.
func fillCandidates(cand *[simdChunk]uint64, v *View, p Peer, base, words int) int {
	n := min(simdChunk, words-base)
	for i := range n {
		cand[i] = candidates(v, p, base+i)
	}
	return n
}
