package engine

import (
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"time"

	"github.com/swarmlab/swarmlab/bitfield"
	"github.com/swarmlab/swarmlab/picker"
	"github.com/swarmlab/swarmlab/wire"
)

// Torrent is the state machine of one torrent.
type Torrent struct {
	cfg       Config
	numPieces int

	// have and started are held in the Torrent rather than pointed to:
	// every HAVE received asks have, and in a large simulated world each
	// pointer followed is a cache miss.
	have    bitfield.Bitfield
	started bitfield.Bitfield
	avail   *picker.Availability
	view    picker.View
	// viewPeersStale: view.Peers must be rebuilt before the next pick;
	// never, when the picker ignores it (picker.PeersIgnorer).
	viewPeersStale bool
	viewNoPeers    bool
	// partials are the pieces under way, by index. Not a slice by
	// piece: a few dozen are under way at a time, and a slot for every
	// piece was 8 bytes a piece in each of a simulated world's engines.
	partials partialTable
	active   []*partial // under way, in start order
	// open are the pieces under way that may have a free block, in
	// start order; startSeq numbers the starts.
	open     []*partial
	startSeq uint32
	// requested counts the blocks of pieces under way in state
	// blockRequested (setBlock keeps it), so that the end game can tell
	// at once whether any is asked of someone else.
	requested int

	peers  []*peer // connection order, for deterministic iteration
	byConn connIndex

	actions *ActionBuffer // Config.Actions, or the torrent's own
	now     time.Duration

	lastTick      time.Duration
	lastRechoke   time.Duration
	lastFullRound time.Duration
	nextGossip    time.Duration
	rechokeSoon   bool
	rechokedOnce  bool
	completed     bool // Completed has been emitted

	stats Stats
	left  int64 // bytes of the pieces we lack
	// revealCount counts, per piece, the peers a super-seed has shown it
	// to; sentBlocks the blocks of it we have handed out for upload. Only
	// a super-seed has them.
	revealCount []int32
	sentBlocks  []int32
	// digestSeed keys the block digests used to find senders of bad data;
	// a random key means a liar cannot craft data that collides.
	digestSeed maphash.Seed
}

// Stats are a torrent's running totals, for announces and reports.
type Stats struct {
	// Downloaded and Uploaded count piece payload bytes received and
	// sent.
	Downloaded, Uploaded int64
	// Wasted counts the payload bytes received that were no use:
	// duplicates from the end game, blocks arriving after their cancel,
	// useless gossip pushes, pieces that failed. Downloaded - Wasted is
	// what we kept.
	Wasted int64
	// HashFails counts pieces that failed verification.
	HashFails int
	// Gossip counters: pieces pushed and pulls sent by us, and pushes to
	// us that were useless (we had or were getting the piece).
	Pushes, Pulls, Useless int
	// Left is what we still need, in bytes.
	Left int64
	// Have is how many pieces we have verified.
	Have int
	// Peers is the number of connections.
	Peers int
}

// PeerStats are one connection's totals.
type PeerStats struct {
	ID                   [20]byte
	Downloaded, Uploaded int64
	HashFails            int
}

// ErrConfig reports an unusable Config.
var ErrConfig = errors.New("engine: bad config")

// New returns a Torrent ready for peers.
func New(cfg Config) (*Torrent, error) {
	cfg = cfg.withDefaults()
	n := cfg.Layout.NumPieces()
	switch {
	case n == 0:
		return nil, fmt.Errorf("%w: layout has no pieces", ErrConfig)
	case cfg.Picker == nil || cfg.Choker == nil || cfg.Rand == nil:
		return nil, fmt.Errorf("%w: Picker, Choker and Rand are required", ErrConfig)
	case cfg.Have != nil && cfg.Have.Len() != n:
		return nil, fmt.Errorf("%w: Have holds %d pieces, layout has %d", ErrConfig, cfg.Have.Len(), n)
	}
	t := &Torrent{
		cfg:        cfg,
		numPieces:  n,
		have:       *bitfield.New(n),
		started:    *bitfield.New(n),
		avail:      picker.NewAvailability(n),
		digestSeed: maphash.MakeSeed(),
		actions:    cfg.Actions,
	}
	if t.actions == nil {
		t.actions = &ActionBuffer{}
	}
	if cfg.Have != nil {
		t.have = *cfg.Have.Clone()
	}
	if cfg.SuperSeed {
		t.revealCount, t.sentBlocks = make([]int32, n), make([]int32, n)
	}
	// Left is kept up to date as pieces verify: drivers read Stats after
	// every event, and summing it afresh cost a pass over all pieces each
	// time (4,096 pieces x 65,536 blocks for a 1 GiB download).
	for p := range n {
		if !t.have.Has(p) {
			t.left += cfg.Layout.PieceSize(p)
		}
	}
	t.view = picker.View{Have: &t.have, Started: &t.started, Avail: t.avail, Rand: cfg.Rand, PieceLength: cfg.Layout.PieceLength}
	if pi, ok := cfg.Picker.(picker.PeersIgnorer); ok && pi.IgnoresPeers() {
		t.viewNoPeers = true
	}
	t.completed = t.have.All()
	return t, nil
}

// Have returns our verified pieces. The caller must not modify it.
func (t *Torrent) Have() *bitfield.Bitfield { return &t.have }

// Seeding reports whether we have every piece.
func (t *Torrent) Seeding() bool { return t.have.All() }

// Stats returns the running totals.
func (t *Torrent) Stats() Stats {
	s := t.stats
	s.Have = t.have.Count()
	s.Peers = len(t.peers)
	s.Left = t.left
	return s
}

// PeerStats returns a connection's totals; ok is false for an unknown one.
func (t *Torrent) PeerStats(c ConnID) (PeerStats, bool) {
	p := t.byConn.get(c)
	if p == nil {
		return PeerStats{}, false
	}
	return PeerStats{ID: p.peerID, Downloaded: p.down.total, Uploaded: p.up.total, HashFails: int(p.hashFails)}, true
}

// Actions appends what the engine wants done to dst, forgets it, and
// returns the result. Call it after every input.
//
// As with append, use the result, not dst: given an empty dst, the engine
// hands over its own array and keeps dst's for the actions to come, so
// dst must not be written to afterwards.
func (t *Torrent) Actions(dst []Action) []Action {
	return t.actions.take(t, dst)
}

// TakeActions is Actions for a driver that handles a message sent to
// many connections at once: it replaces batch's contents with what the
// engine wants done, where a HAVE to several neighbours is one SendEach
// action rather than a Send each, and forgets it. The batch must not be
// used from another goroutine meanwhile.
func (t *Torrent) TakeActions(batch *ActionBatch) {
	t.actions.takeBatch(t, batch)
}

// Pending reports whether the engine has actions for the driver to
// take, which is cheaper to ask than taking none.
func (t *Torrent) Pending() bool {
	return len(t.actions.acts) > 0 && t.actions.owner == t
}

func (t *Torrent) emit(a Action) { t.actions.add(t, a) }

func (t *Torrent) send(p *peer, m wire.Message) {
	t.emit(Action{Kind: Send, Conn: p.id, Msg: m})
}

// drop asks the driver to close a connection and stops acting on it.
func (t *Torrent) drop(p *peer, ban bool, format string, args ...any) {
	if p.closing {
		return
	}
	p.closing = true
	t.viewPeersStale = true
	t.emit(Action{Kind: Close, Conn: p.id, Ban: ban, Reason: fmt.Sprintf(format, args...)})
}

// AddPeer registers a connection whose handshake for this torrent is
// done, and queues our opening messages.
func (t *Torrent) AddPeer(c ConnID, info PeerInfo, now time.Duration) {
	t.now = now
	if t.byConn.get(c) != nil {
		return
	}
	p := &peer{
		id:          c,
		peerID:      info.ID,
		fast:        t.cfg.Fast && info.Reserved.Fast(),
		ext:         t.cfg.Extensions && info.Reserved.Extensions(),
		connectedAt: now,
		has:         *bitfield.New(t.numPieces),
		amChoking:   true,
		peerChoking: true,
		maxOut:      uint16(t.cfg.MinQueue),
		lastBlock:   now,
	}
	t.peers = append(t.peers, p)
	t.byConn.put(c, p)
	t.viewPeersStale = true

	// BEP 3 and BEP 6: what we have comes first. A super-seed says it has
	// nothing, then reveals pieces one by one.
	switch {
	case t.superSeeding():
		if p.fast {
			t.send(p, wire.Message{Type: wire.HaveNone})
		}
	case p.fast && t.have.All():
		t.send(p, wire.Message{Type: wire.HaveAll})
	case p.fast && t.have.None():
		t.send(p, wire.Message{Type: wire.HaveNone})
	case !t.have.None():
		t.send(p, wire.Message{Type: wire.Bitfield, Bitfield: t.have.AppendWire(nil)})
	}
	if p.ext {
		t.sendExtHandshake(p, false)
	}
	if t.superSeeding() {
		t.reveal(p)
	}
	t.rechokeSoon = true
}

// sendExtHandshake sends p our BEP 10 handshake, saying we are upload
// only (BEP 21) if told to.
func (t *Torrent) sendExtHandshake(p *peer, uploadOnly bool) {
	exts := map[string]int64{}
	if t.gossiping() {
		exts[gossipExt] = gossipOurID
	}
	h := wire.ExtendedHandshake{
		M:       exts,
		Version: t.cfg.ClientName,
		Port:    int64(t.cfg.ListenPort),
		Reqq:    int64(t.cfg.MaxIncoming),
	}
	if uploadOnly {
		h.UploadOnly = 1
	}
	if m, err := wire.ExtendedHandshakeMessage(&h); err == nil {
		t.send(p, m)
	}
}

// RemovePeer forgets a connection: after a Close action, or when the
// driver lost it.
func (t *Torrent) RemovePeer(c ConnID, now time.Duration) {
	t.now = now
	p := t.byConn.get(c)
	if p == nil {
		return
	}
	t.byConn.remove(c)
	t.viewPeersStale = true
	// The connection is gone: nothing more goes to it (releaseRequests
	// sent it cancels before; FuzzEngine found them), and what a driver
	// still delivers through a ref to it (PeerRef) is ignored, as for a
	// connection we are closing.
	p.closing = true
	for i, q := range t.peers {
		if q == p {
			// slices.Delete clears the slot it vacates at the end;
			// append(t.peers[:i], t.peers[i+1:]...) left a stale
			// pointer there, which kept a departed peer and its
			// bitfield alive as long as the array.
			t.peers = slices.Delete(t.peers, i, i+1)
			break
		}
	}
	if p.counted {
		t.avail.RemovePeer(&p.has)
	}
	t.releaseRequests(p)
	t.abandonParole(p)
	if !p.amChoking {
		t.rechokeSoon = true
	}
	// Other peers may now get the blocks it held.
	t.fillAll()
}

// Receive handles one message from a connection. msg's slices are only
// read during the call, except that Write actions alias the block.
func (t *Torrent) Receive(c ConnID, msg *wire.Message, now time.Duration) {
	t.receive(t.byConn.get(c), msg, now)
}

// ReceiveRef is Receive through a connection's ref (see PeerRef).
func (t *Torrent) ReceiveRef(r PeerRef, msg *wire.Message, now time.Duration) {
	t.receive(r.p, msg, now)
}

func (t *Torrent) receive(p *peer, msg *wire.Message, now time.Duration) {
	t.now = now
	if p == nil || p.closing || msg.KeepAlive {
		return
	}
	switch msg.Type {
	case wire.Choke:
		p.peerChoking = true
		if !p.fast {
			// Without the fast extension a choke discards our requests;
			// with it, the peer rejects each one explicitly.
			t.releaseRequests(p)
		}
	case wire.Unchoke:
		p.peerChoking = false
		t.fill(p)
	case wire.Interested:
		p.peerInterested = true
		if p.amChoking {
			t.rechokeSoon = true
		}
	case wire.NotInterested:
		p.peerInterested = false
		if !p.amChoking {
			t.rechokeSoon = true
		}
	case wire.Have:
		t.onHave(p, msg.Index)
	case wire.Bitfield:
		t.onBitfield(p, msg.Bitfield)
	case wire.HaveAll, wire.HaveNone:
		if !p.fast {
			t.drop(p, false, "%v without the fast extension", msg.Type)
			return
		}
		switch {
		case p.counted && msg.Type == wire.HaveAll:
			t.lateBitfield(p, bitfield.Full(t.numPieces))
		case p.counted:
			// A late have none sets nothing new.
		default:
			if msg.Type == wire.HaveAll {
				p.has.SetAll()
			}
			t.firstBitfield(p)
		}
	case wire.Request:
		t.onRequest(p, msg)
	case wire.Cancel:
		t.onCancel(p, msg)
	case wire.Piece:
		t.onBlock(p, msg)
	case wire.Reject:
		if !p.fast {
			t.drop(p, false, "reject without the fast extension")
			return
		}
		t.onReject(p, msg)
	case wire.AllowedFast:
		if p.fast && int(msg.Index) < t.numPieces && !p.isAllowedFast(msg.Index) && (p.rare == nil || len(p.rare.allowedFast) < 64) {
			r := p.rareState()
			r.allowedFast = append(r.allowedFast, msg.Index)
			p.allowsFast = true
			t.fill(p)
		}
	case wire.Extended:
		switch {
		case !p.ext:
		case msg.ExtendedID == wire.ExtendedHandshakeID:
			h, err := wire.ParseExtendedHandshake(msg.Payload)
			if err != nil {
				t.drop(p, false, "%v", err)
				return
			}
			p.reqq = uint16(min(h.Reqq, maxPeerCount))
			// BEP 10: the m dictionary is additive, and id 0 withdraws
			// an extension (the wire reader keeps ids within 0-255).
			if id, ok := h.M[gossipExt]; ok && t.gossiping() {
				switch {
				case id > 0:
					p.rareState().gossipID = uint8(id)
				case p.rare != nil:
					p.rare.gossipID = 0
				}
			}
			p.uploadOnly = h.UploadOnly != 0
			if p.uploadOnly && t.have.All() {
				t.drop(p, false, "both seeds (it is upload only)")
			}
		case msg.ExtendedID == gossipOurID && t.gossiping():
			t.onGossip(p, msg.Payload)
		}
	}
	// Port, Suggest and unknown messages need nothing from us (BEP 3:
	// ignore what you do not understand).
}

// onHave records that p has a piece.
func (t *Torrent) onHave(p *peer, index uint32) {
	i := int(index)
	if i >= t.numPieces {
		t.drop(p, false, "have for piece %d of %d", i, t.numPieces)
		return
	}
	if !p.counted {
		t.avail.AddPeer(&p.has) // an empty bitfield: nothing to count yet
		p.counted = true
		t.viewPeersStale = true
	}
	if !p.has.Set(i) {
		return
	}
	// A super-seed reveals a piece in answer once the HAVE is counted.
	superSeeding := t.superSeeding()
	t.avail.Inc(i)
	if p.has.All() {
		t.avail.PromoteToSeed()
	}
	if !t.have.Has(i) {
		p.wanted++
		t.updateInterest(p)
		t.fill(p)
	}
	if p.has.All() && t.have.All() {
		t.drop(p, false, "both seeds")
	}
	if superSeeding {
		t.superSeedHave(p, index)
	}
}

// onBitfield takes a peer's bitfield (or have all / have none).
//
// BEP 3 puts the bitfield first, but real clients send one later too:
// aria2 opens with have none and then sends a bitfield whenever that is
// shorter than the haves it owes. A late bitfield is read as a batch of
// haves for its newly set bits; cleared bits are ignored, since a peer
// does not lose pieces. libtorrent accepts late bitfields the same way.
func (t *Torrent) onBitfield(p *peer, wireBits []byte) {
	if p.counted {
		b, err := bitfield.FromWire(wireBits, t.numPieces)
		if err != nil {
			t.drop(p, false, "%v", err)
			return
		}
		t.lateBitfield(p, b)
		return
	}
	// Until it is counted, p.has is the empty set AddPeer made: it takes
	// the bitfield in place, rather than a new one that would leave it
	// garbage for every connection a simulated world makes.
	if err := p.has.LoadWire(wireBits); err != nil {
		t.drop(p, false, "%v", err)
		return
	}
	t.firstBitfield(p)
}

// lateBitfield takes the newly set bits of a bitfield that came after
// p's pieces were first counted, as haves.
func (t *Torrent) lateBitfield(p *peer, b *bitfield.Bitfield) {
	for i := b.NextSet(0); i >= 0 && !p.closing; i = b.NextSet(i + 1) {
		if !p.has.Has(i) {
			t.onHave(p, uint32(i))
		}
	}
}

// firstBitfield counts p's pieces, now in p.has, for the first time.
func (t *Torrent) firstBitfield(p *peer) {
	b := &p.has
	p.counted = true
	t.viewPeersStale = true
	t.avail.AddPeer(b)
	p.wanted = int32(b.CountAndNot(&t.have))
	if p.has.All() && t.have.All() {
		t.drop(p, false, "both seeds")
		return
	}
	if t.superSeeding() {
		// Reveals made before its bitfield came may name pieces it has;
		// those are done with.
		rs := p.rareState()
		kept := rs.revealed[:0]
		for _, r := range rs.revealed {
			if !b.Has(int(r)) {
				kept = append(kept, r)
			}
		}
		rs.revealed = kept
		t.reveal(p)
	}
	t.updateInterest(p)
	t.fill(p)
}

// updateInterest tells the peer when we start or stop wanting its pieces.
func (t *Torrent) updateInterest(p *peer) {
	if (p.wanted > 0) != p.amInterested {
		t.flipInterest(p) // apart, so that the common case inlines
	}
}

func (t *Torrent) flipInterest(p *peer) {
	want := !p.amInterested
	p.amInterested = want
	if want {
		t.send(p, wire.Message{Type: wire.Interested})
	} else {
		t.send(p, wire.Message{Type: wire.NotInterested})
	}
}

// Tick advances time: rates, snubbed peers, and rechoking.
func (t *Torrent) Tick(now time.Duration) {
	t.now = now
	dt := now - t.lastTick
	t.lastTick = now
	t.viewPeersStale = true // rates move on every tick
	for _, p := range t.peers {
		p.down.tick(dt)
		p.up.tick(dt)
		t.resizeQueue(p)
		if len(p.out) > 0 && now-max(p.lastBlock, p.out[0].at) >= t.cfg.SnubTimeout && !p.snubbed {
			p.snubbed = true
			t.releaseRequests(p)
			t.abandonParole(p)
		}
	}
	if t.gossiping() {
		t.gossipTick(now)
		return
	}
	interval := t.cfg.Choker.Interval()
	due := !t.rechokedOnce || now-t.lastFullRound >= interval
	early := t.rechokeSoon && now-t.lastRechoke >= t.cfg.MinRechokeGap
	if due || early {
		t.rechoke(due)
	}
	t.fillAll()
}

// TickInterval is how often the driver should call Tick: its own period,
// or shorter if the engine has work on a finer schedule. Gossip rounds run
// from Tick, so a gossiping torrent needs a tick per gossip interval; a
// driver that ticked more slowly would run fewer rounds than configured.
func (t *Torrent) TickInterval(driver time.Duration) time.Duration {
	if g := t.cfg.Gossip; g != nil && g.Interval < driver {
		return g.Interval
	}
	return driver
}

// gossipTick runs a gossip round when one is due, and gives up on pieces
// whose sender went away: in gossip mode nothing else would fetch them.
func (t *Torrent) gossipTick(now time.Duration) {
	for i := 0; i < len(t.active); {
		pp := t.active[i]
		if !pp.verifying && !t.pieceAsked(pp) && pp.received < int32(pp.n) {
			t.finishPiece(pp) // removes it from t.active
			continue
		}
		i++
	}
	if now >= t.nextGossip {
		t.gossipRound()
		t.nextGossip = now + t.cfg.Gossip.Interval
	}
}

// resizeQueue sets a peer's request queue depth from its rate: enough
// requests in flight to cover QueueTime of transfer at that rate.
func (t *Torrent) resizeQueue(p *peer) {
	n := int(p.down.ewma * t.cfg.QueueTime.Seconds() / BlockSize)
	limit := t.cfg.MaxQueue
	if p.reqq > 0 {
		limit = min(limit, int(p.reqq))
	}
	if p.snubbed {
		n, limit = 1, 1
	}
	p.maxOut = uint16(max(min(n, limit), min(t.cfg.MinQueue, limit)))
}
