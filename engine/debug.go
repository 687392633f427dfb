package engine

import (
	"fmt"
	"strings"
)

// Describe returns a human-readable dump of the torrent's state: pieces
// under way and each peer's flags and queues. It is for logs and for
// diagnosing a stalled transfer.
func (t *Torrent) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "have %d/%d, under way %d, peers %d\n", t.have.Count(), t.numPieces, len(t.active), len(t.peers))
	for _, pp := range t.active {
		free, req, got := 0, 0, 0
		for b := range pp.blocks() {
			switch pp.block(b).state {
			case blockFree:
				free++
			case blockRequested:
				req++
			case blockReceived:
				got++
			}
		}
		fmt.Fprintf(&b, "  piece %d: free %d requested %d received %d verifying=%v parole=%v owner=%d\n",
			pp.piece, free, req, got, pp.verifying, pp.parole, pp.owner())
	}
	for _, p := range t.peers {
		fmt.Fprintf(&b, "  conn %d: has %d wanted %d amInterested=%v peerChoking=%v amChoking=%v peerInterested=%v out %d/%d queued %d inflight %d snubbed=%v closing=%v fails %d\n",
			p.id, p.has.Count(), p.wanted, p.amInterested, p.peerChoking, p.amChoking, p.peerInterested,
			len(p.out), p.maxOut, len(p.queued), p.inflight, p.snubbed, p.closing, p.hashFails)
	}
	return b.String()
}
