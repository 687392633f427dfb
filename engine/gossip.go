package engine

import (
	"time"

	"github.com/swarmlab/swarmlab/bencode"
	"github.com/swarmlab/swarmlab/wire"
)

// GossipMode selects how pieces spread in gossip dissemination.
type GossipMode uint8

const (
	// Push: each round, send a random piece we have to each sampled peer,
	// whether or not it needs it.
	Push GossipMode = iota + 1
	// Pull: each round, ask each sampled peer for a random piece we lack.
	Pull
	// PushPull: both.
	PushPull
)

func (m GossipMode) String() string {
	switch m {
	case Push:
		return "push"
	case Pull:
		return "pull"
	case PushPull:
		return "pushpull"
	}
	return "none"
}

// GossipConfig turns on gossip dissemination, the model of seed 001
// (after Demers et al.'s epidemic algorithms): instead of BitTorrent's
// interest, choking and piece picking, every Interval a peer samples
// Fanout of its gossiping peers at random (without repeats) and pushes a
// random piece it has to each, pulls a random piece it lacks from each, or
// both. A push is blind, as in the seed: the receiver may already hold the
// piece, and that transfer is counted as useless. A pull asks for a piece
// the target may not have; then nothing moves.
//
// It runs only between peers that both offer the "swarmlab_gossip"
// extension in their BEP 10 handshake; other peers never see it. The sample
// is drawn from the connected peers rather than from a fresh tracker
// answer each round; in a world where every peer connects to every other
// (as the lab's worlds do) the two are the same uniform sample.
//
// A push of a piece we are pulling is taken all the same: the pull may
// fail, since its target may lack the piece, and a push-pull peer that
// refused pushes while its pull was out would spread like pull alone. If
// both arrive, the second copy is wasted. A second push of a piece is
// useless.
//
// Real links are not instant, so a peer does not push again to a peer
// still receiving its last push or its answer to a pull, nor pull again
// from a peer still answering its last pull: one transfer in flight per
// pair and direction.
type GossipConfig struct {
	Mode     GossipMode
	Fanout   int           // peers per round (seed 001: 3)
	Interval time.Duration // round length (seed 001: 1 s)
}

// gossipExt is the extension's name in BEP 10 handshakes, and gossipOurID
// the id we ask peers to use when they send it to us.
const (
	gossipExt   = "swarmlab_gossip"
	gossipOurID = 7
)

// gossipMsg is the extension's payload.
type gossipMsg struct {
	Kind  int `bencode:"t"` // gossipPush, gossipPull or gossipNone
	Piece int `bencode:"p"`
}

const (
	gossipPush = iota // the sender is about to send Piece's blocks
	gossipPull        // the sender asks for Piece (its requests follow)
	gossipNone        // the answer to a pull for a piece the sender lacks
)

func (t *Torrent) gossiping() bool { return t.cfg.Gossip != nil }

// gossipRound runs one round: sample, then push and/or pull.
func (t *Torrent) gossipRound() {
	var cands []*peer
	for _, p := range t.peers {
		if p.rare != nil && p.rare.gossipID != 0 && !p.closing && p.counted {
			cands = append(cands, p)
		}
	}
	g := t.cfg.Gossip
	k := min(g.Fanout, len(cands))
	// A partial Fisher-Yates shuffle: k distinct peers, uniformly.
	for i := range k {
		j := i + t.cfg.Rand.IntN(len(cands)-i)
		cands[i], cands[j] = cands[j], cands[i]
	}
	for _, p := range cands[:k] {
		if g.Mode == Push || g.Mode == PushPull {
			t.gossipPushTo(p)
		}
		if g.Mode == Pull || g.Mode == PushPull {
			t.gossipPullFrom(p)
		}
	}
}

// sendGossip sends p a gossip message, if it gave us an id to send it
// under. BEP 10 lets a peer send us gossip under our id without offering
// its own; an answer to such a peer's pull has nowhere to go.
func (t *Torrent) sendGossip(p *peer, kind, piece int) {
	if p.rare == nil || p.rare.gossipID == 0 {
		return
	}
	payload, _ := bencode.Marshal(gossipMsg{Kind: kind, Piece: piece})
	t.send(p, wire.Message{Type: wire.Extended, ExtendedID: p.rare.gossipID, Payload: payload})
}

// gossipPushTo sends p a random piece we have.
func (t *Torrent) gossipPushTo(p *peer) {
	// A block handed to the driver has left gossipOut but not the link:
	// the transfer is over only when the driver reports it done.
	if t.have.None() || len(p.rareState().gossipOut) > 0 || p.inflight > 0 {
		return
	}
	k := t.cfg.Rand.IntN(t.have.Count())
	piece := t.have.NextSet(0)
	for ; k > 0; k-- {
		piece = t.have.NextSet(piece + 1)
	}
	t.sendGossip(p, gossipPush, piece)
	t.queuePiece(p, piece)
	t.stats.Pushes++
}

// queuePiece queues every block of a piece for upload to p, outside the
// choke: gossip has no choking.
func (t *Torrent) queuePiece(p *peer, piece int) {
	r := p.rareState()
	for b := range t.cfg.Layout.blocks(piece) {
		begin, length := t.blockRef(piece, b)
		r.gossipOut = append(r.gossipOut, request{piece: uint32(piece), begin: begin, length: length, at: t.now})
	}
	t.pumpUploads(p)
}

// gossipPullFrom asks p for a random piece we lack and nobody is sending.
func (t *Torrent) gossipPullFrom(p *peer) {
	if p.rareState().pulling || t.have.All() {
		return
	}
	var missing []int
	for i := range t.numPieces {
		if !t.have.Has(i) && !t.started.Has(i) {
			missing = append(missing, i)
		}
	}
	if len(missing) == 0 {
		return
	}
	piece := missing[t.cfg.Rand.IntN(len(missing))]
	p.rare.pulling = true
	t.sendGossip(p, gossipPull, piece)
	t.expectPiece(p, piece)
	t.stats.Pulls++
}

// expectPiece records every block of piece as requested from p, so that
// the blocks it is about to send are taken like answers to requests.
func (t *Torrent) expectPiece(p *peer, piece int) *partial {
	pp := t.startPiece(piece)
	t.expectFrom(p, pp)
	return pp
}

// expectFrom records the blocks of a piece under way that we still lack
// as requested from p as well.
func (t *Torrent) expectFrom(p *peer, pp *partial) {
	for b := range pp.blocks() {
		if pp.block(b).state == blockReceived {
			continue
		}
		begin, _ := t.blockRef(int(pp.piece), b)
		t.setBlock(pp, b, blockRequested)
		pp.block(b).asks++
		p.out = append(p.out, ask{piece: pp.piece, begin: begin, at: t.now})
	}
	pp.nextFree = int32(pp.n)
}

// onGossip handles the extension's messages.
func (t *Torrent) onGossip(p *peer, payload []byte) {
	var m gossipMsg
	if err := bencode.Unmarshal(payload, &m); err != nil || m.Piece < 0 || m.Piece >= t.numPieces {
		t.drop(p, false, "bad gossip message")
		return
	}
	switch m.Kind {
	case gossipPush:
		pp := t.partials.get(uint32(m.Piece))
		if t.have.Has(m.Piece) || pp != nil && (pp.pushed || pp.verifying) {
			// Redundant: we have it or a push of it is coming. Its
			// blocks are taken and thrown away (counted as wasted when
			// they come).
			p.rareState().useless += t.cfg.Layout.blocks(m.Piece)
			t.stats.Useless++
			return
		}
		if pp != nil {
			t.expectFrom(p, pp) // we are pulling it, and the pull may fail
		} else {
			pp = t.expectPiece(p, m.Piece)
		}
		pp.pushed = true
	case gossipPull:
		if t.have.Has(m.Piece) {
			t.queuePiece(p, m.Piece)
		} else {
			t.sendGossip(p, gossipNone, m.Piece)
		}
	case gossipNone:
		p.rareState().pulling = false
		for i := 0; i < len(p.out); {
			if r := p.out[i]; int(r.piece) == m.Piece {
				p.removeOut(i)
				t.unask(r)
				continue
			}
			i++
		}
		if pp := t.partials.get(uint32(m.Piece)); pp != nil && pp.received == 0 && !t.pieceAsked(pp) {
			t.finishPiece(pp) // nobody is sending it after all
		}
	default:
		t.drop(p, false, "unknown gossip message %d", m.Kind)
	}
}

func (t *Torrent) pieceAsked(pp *partial) bool {
	for b := range pp.blocks() {
		if pp.block(b).asks > 0 {
			return true
		}
	}
	return false
}
