package picker

import "math/bits"

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

// fewCandidates is how many candidates Pick compares one by one instead
// of walking the availability order. Walking from the rarest bucket up
// finds a candidate quickly when there are many, but when there are few
// (late in a download, or a neighbour with little we lack) it visits
// nearly every piece before giving up: in a large simulated swarm that
// failed walk, run on every HAVE, was most of the picker's time.
const fewCandidates = 64

// Pick implements Picker.
func (r Rarest) Pick(v *View, p Peer) (int, bool) {
	if v.Have.Count() < r.RandomFirst {
		return randomCandidate(v, p)
	}
	switch n := countCandidates(v, p, fewCandidates); {
	case n > fewCandidates:
		return r.walk(v, p)
	case n == 0:
		return 0, false
	}
	return rarestOf(v, p)
}

// walk goes through the pieces from the rarest up and returns the first
// candidate.
func (r Rarest) walk(v *View, p Peer) (int, bool) {
	for c := range v.Avail.Buckets() {
		bucket := v.Avail.Bucket(c)
		n := len(bucket)
		if n == 0 {
			continue
		}
		// Start at a random place and wrap, which breaks ties at random
		// without shuffling the bucket.
		off := v.Rand.IntN(n)
		for k := range n {
			piece := int(bucket[(off+k)%n])
			if isCandidate(v, p, piece) {
				return piece, true
			}
		}
	}
	return 0, false
}

// rarestOf compares every candidate and returns one of the rarest,
// chosen uniformly among ties (reservoir sampling: the k-th tie replaces
// the choice with probability 1/k).
func rarestOf(v *View, p Peer) (int, bool) {
	best, bestCount, ties := -1, 0, 0
	for i := range p.Has.Words() {
		for w := candidates(v, p, i); w != 0; w &= w - 1 {
			piece := i<<6 + bits.TrailingZeros64(w)
			c := v.Avail.Count(piece)
			switch {
			case best < 0 || c < bestCount:
				best, bestCount, ties = piece, c, 1
			case c == bestCount:
				ties++
				if v.Rand.IntN(ties) == 0 {
					best = piece
				}
			}
		}
	}
	return best, best >= 0
}
