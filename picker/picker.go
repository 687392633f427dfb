package picker

import (
	"math/bits"
	"math/rand/v2"
	"time"

	"github.com/swarmlab/swarmlab/bitfield"
)

// View is the snapshot a Picker decides on. The engine owns it and keeps it
// current; pickers must not modify it.
type View struct {
	// Have holds our verified pieces.
	Have *bitfield.Bitfield
	// Started holds pieces with a download under way (blocks requested or
	// received, not yet verified).
	Started *bitfield.Bitfield
	// Avail counts, per piece, the connected peers that have it.
	Avail *Availability
	// Rand is the torrent's seeded random source: the only randomness a
	// strategy may use, so that runs are reproducible.
	Rand *rand.Rand
	// Now is the driver's clock, as time since the torrent started.
	Now time.Duration
	// Peers lists every connected peer, in connection order, for
	// strategies that weigh who holds a piece (how fast its holders can
	// pass it on), not just how many do. It is empty for pickers that
	// implement PeersIgnorer.
	Peers []Peer
	// PieceLength converts HAVE rates into byte rates.
	PieceLength int64
}

// Peer is what a Picker knows about the peer it picks for.
type Peer struct {
	// Has holds the peer's pieces.
	Has *bitfield.Bitfield
	// Rate is the recent rate at which this peer sends us data, bytes/s.
	Rate float64
	// HavesPerSecond is how fast the peer's piece count grew over the last
	// choking round: an estimate of its download rate from the whole
	// swarm, which BitTyrant (Piatek et al., NSDI 2007) takes as a proxy
	// for its upload capacity.
	HavesPerSecond float64
}

// Picker chooses a piece to start downloading from a peer.
type Picker interface {
	// Pick returns a piece the peer has that we neither have nor have
	// started, or ok == false if there is none it wants to start.
	Pick(v *View, p Peer) (piece int, ok bool)
}

// PeersIgnorer is implemented by pickers that never read View.Peers. The
// engine leaves the list empty for them; for the others it keeps one per
// torrent, rebuilt as peers come and go and rates move. A simulated world
// has a torrent per simulated peer, and the lists took 2 KiB a peer for
// Rarest, which does not look at them.
type PeersIgnorer interface {
	IgnoresPeers() bool
}

// Func adapts an ordinary function to the Picker interface.
type Func func(v *View, p Peer) (int, bool)

// Pick calls f.
func (f Func) Pick(v *View, p Peer) (int, bool) { return f(v, p) }

// candidates returns word i of the pieces we could start from this peer:
// it has them, we don't, and nobody is fetching them.
func candidates(v *View, p Peer, i int) uint64 {
	return p.Has.Word(i) &^ v.Have.Word(i) &^ v.Started.Word(i)
}

// countCandidates counts the candidates.
func countCandidates(v *View, p Peer) int {
	total := 0
	for i := range p.Has.Words() {
		total += bits.OnesCount64(candidates(v, p, i))
	}
	return total
}

// randomCandidate picks uniformly among all candidates, in two passes over
// the words: count, then find the k-th.
func randomCandidate(v *View, p Peer) (int, bool) {
	total := countCandidates(v, p)
	if total == 0 {
		return 0, false
	}
	k := v.Rand.IntN(total)
	for i := range p.Has.Words() {
		w := candidates(v, p, i)
		c := bits.OnesCount64(w)
		if k >= c {
			k -= c
			continue
		}
		for ; k > 0; k-- {
			w &= w - 1 // drop the lowest set bit
		}
		return i<<6 + bits.TrailingZeros64(w), true
	}
	return 0, false // unreachable: total counted the same words
}
