package picker

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

// Pick implements Picker.
func (r Rarest) Pick(v *View, p Peer) (int, bool) {
	if v.Have.Count() < r.RandomFirst {
		return randomCandidate(v, p)
	}
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
