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
// ties, in two passes over the candidates: the lowest count and how many
// pieces have it, then the k-th of them for a random k. One random draw
// per pick, where sampling ties as they come draws once per tie.
func rarestOf(v *View, p Peer) (int, bool) {
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
