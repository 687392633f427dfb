package engine

import "github.com/swarmlab/swarmlab/wire"

// superSeedWindow is how many pieces a super-seed reveals to a peer at
// once. One: with a window of two, a flash crowd of 100 leechers was
// shown 200 pieces of 128 at the start, so pieces went out twice (the
// seed uploaded 1.25-1.32 times the content in the simulator); the gap a
// window of one leaves between pieces is a round trip.
const superSeedWindow = 1

// superSeeding reports whether we hide our pieces and reveal them a few
// at a time (BEP 16). It applies only while we are a seed.
func (t *Torrent) superSeeding() bool { return t.cfg.SuperSeed && t.have.All() }

// reveal tells p about pieces it lacks until it has superSeedWindow
// revealed and unfinished, choosing each time the piece we have sent
// fewest blocks of, then revealed least often (ties at random). Spreading
// the first copies this way is what lets a seed send each piece about
// once: a leecher can only ask for what it was shown, and what it was
// shown is what the swarm has had least of from us.
func (t *Torrent) reveal(p *peer) {
	r := p.rareState()
	for len(r.revealed) < superSeedWindow {
		best, bestCount, ties := -1, 0, 0
		for i := range t.numPieces {
			if p.has.Has(i) || containsPiece(r.revealed, uint32(i)) {
				continue
			}
			// One key: blocks sent dominate, reveals break their ties.
			c := int(t.sentBlocks[i])<<20 + int(t.revealCount[i])
			switch {
			case best < 0 || c < bestCount:
				best, bestCount, ties = i, c, 1
			case c == bestCount:
				// Reservoir sampling over the ties: uniform, one pass.
				ties++
				if t.cfg.Rand.IntN(ties) == 0 {
					best = i
				}
			}
		}
		if best < 0 {
			return // the peer lacks nothing we have not shown it
		}
		r.revealed = append(r.revealed, uint32(best))
		t.revealCount[best]++
		t.send(p, wire.Message{Type: wire.Have, Index: uint32(best)})
	}
}

// superSeedHave updates p's revealed pieces when it announces a piece: a
// revealed piece it finished makes room for the next.
func (t *Torrent) superSeedHave(p *peer, piece uint32) {
	r := p.rareState()
	for i, v := range r.revealed {
		if v == piece {
			r.revealed = append(r.revealed[:i], r.revealed[i+1:]...)
			break
		}
	}
	t.reveal(p)
}

func containsPiece(ps []uint32, x uint32) bool {
	for _, p := range ps {
		if p == x {
			return true
		}
	}
	return false
}
