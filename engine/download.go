package engine

import (
	"hash/maphash"
	"slices"
	"time"

	"github.com/swarmlab/swarmlab/picker"
	"github.com/swarmlab/swarmlab/wire"
)

// setBlock sets a block's state, keeping t.requested.
func (t *Torrent) setBlock(pp *partial, b int, st uint8) {
	bs := pp.block(b)
	if bs.state == blockRequested {
		t.requested--
	}
	if st == blockRequested {
		t.requested++
	}
	bs.state = st
}

func (t *Torrent) startPiece(piece int) *partial {
	n := t.cfg.Layout.blocks(piece)
	pp := &partial{piece: uint32(piece), n: uint32(n)}
	if n > 1 {
		pp.more = &partialMore{rest: make([]blockSlot, n-1)}
	}
	t.partials.put(pp)
	t.started.Set(piece)
	t.active = append(t.active, pp)
	t.startSeq++
	pp.seq = t.startSeq
	if n > 1 {
		pp.open = true
		t.open = append(t.open, pp) // the newest start goes last
	}
	return pp
}

// reopen puts a piece that has a free block again back among the open
// pieces, in start order.
func (t *Torrent) reopen(pp *partial) {
	if pp.open || t.partials.get(pp.piece) != pp {
		return
	}
	pp.open = true
	i := len(t.open)
	for i > 0 && seqBefore(pp.seq, t.open[i-1].seq) {
		i--
	}
	t.open = append(t.open, nil)
	copy(t.open[i+1:], t.open[i:])
	t.open[i] = pp
}

// closeOpen removes the piece at t.open[i].
func (t *Torrent) closeOpen(i int) {
	t.open[i].open = false
	t.open = slices.Delete(t.open, i, i+1) // clears the vacated slot (see RemovePeer)
}

// finishPiece ends a piece's time under way, done or abandoned.
func (t *Torrent) finishPiece(pp *partial) {
	for b := range pp.blocks() {
		if pp.block(b).state == blockRequested {
			t.requested-- // no longer under way
		}
	}
	t.partials.delete(pp.piece)
	t.started.Clear(int(pp.piece))
	for i, q := range t.active {
		if q == pp {
			t.active = slices.Delete(t.active, i, i+1) // clears the vacated slot (see RemovePeer)
			break
		}
	}
	if pp.open {
		for i, q := range t.open {
			if q == pp {
				t.closeOpen(i)
				break
			}
		}
	}
}

// askLength is the length of the block a asks for.
func (t *Torrent) askLength(a ask) uint32 {
	_, length := t.blockRef(int(a.piece), int(a.begin/BlockSize))
	return length
}

// outIndex finds our outstanding request to p for a block of length
// bytes at begin, or -1: a block, or a reject, whose length is not the
// one we asked for answers nothing of ours.
func (t *Torrent) outIndex(p *peer, piece, begin, length uint32) int {
	i := p.outIndex(piece, begin)
	if i >= 0 && t.askLength(p.out[i]) != length {
		return -1
	}
	return i
}

func (t *Torrent) blockRef(piece, block int) (begin, length uint32) {
	begin = uint32(block * BlockSize)
	size := t.cfg.Layout.PieceSize(piece)
	return begin, uint32(min(int64(BlockSize), size-int64(begin)))
}

// canRequest says whether p will take requests for piece: unchoked, or
// choked but the piece is allowed fast (BEP 6).
func (t *Torrent) canRequest(p *peer, piece int) bool {
	return !p.peerChoking || p.fast && p.isAllowedFast(uint32(piece))
}

// fillAll tops up every peer's request queue.
func (t *Torrent) fillAll() {
	for _, p := range t.peers {
		t.fill(p)
	}
}

// fill sends p requests until its queue is full or nothing is left to ask.
func (t *Torrent) fill(p *peer) {
	if p.closing || !p.amInterested || t.have.All() || t.gossiping() {
		return
	}
	if p.peerChoking && !p.allowsFast {
		return
	}
	for len(p.out) < int(p.maxOut) {
		pp, block, ok := t.nextBlock(p)
		if !ok {
			return
		}
		begin, length := t.blockRef(int(pp.piece), block)
		if pp.block(block).state == blockFree {
			t.setBlock(pp, block, blockRequested)
		}
		pp.block(block).asks++
		if pp.parole && pp.owner() == 0 {
			pp.setOwner(p.id)
		}
		p.out = append(p.out, ask{piece: pp.piece, begin: begin, at: t.now})
		t.send(p, wire.Message{Type: wire.Request, Index: pp.piece, Begin: begin, Length: length})
	}
}

// nextBlock chooses the next block to request from p: first a free block
// of a piece already under way (finishing pieces early means fewer
// half-done pieces and sooner HAVEs), then the first block of a piece the
// picker chooses, and finally, in the end game, a block already requested
// from someone else.
//
// Only the open pieces, those that may have a free block, are searched
// for the first step: with small pieces nearly every piece under way is
// fully requested, and visiting them all on every request was the largest
// cost of a big simulated swarm.
func (t *Torrent) nextBlock(p *peer) (*partial, int, bool) {
	for i := 0; i < len(t.open); i++ {
		pp := t.open[i]
		if int(pp.nextFree) >= pp.blocks() {
			t.closeOpen(i)
			i--
			continue
		}
		if pp.verifying || !p.has.Has(int(pp.piece)) || !t.canRequest(p, int(pp.piece)) {
			continue
		}
		if pp.parole && pp.owner() != 0 && pp.owner() != p.id {
			continue
		}
		for b := int(pp.nextFree); b < pp.blocks(); b++ {
			if pp.block(b).state == blockFree {
				pp.nextFree = int32(b + 1)
				return pp, b, true
			}
		}
		pp.nextFree = int32(pp.n)
		t.closeOpen(i)
		i--
	}
	if piece, ok := t.pickNew(p); ok {
		pp := t.startPiece(piece)
		pp.nextFree = 1
		return pp, 0, true
	}
	return t.endgameBlock(p)
}

// pickNew asks the picker for a piece to start, or, while p chokes us,
// takes an allowed-fast piece.
func (t *Torrent) pickNew(p *peer) (int, bool) {
	if p.peerChoking {
		// Only the pieces it allowed us; fill calls only when there are
		// some (allowsFast), but a peer with none has no rare state.
		if p.rare == nil {
			return 0, false
		}
		for _, a := range p.rare.allowedFast {
			if i := int(a); p.has.Has(i) && !t.have.Has(i) && !t.started.Has(i) {
				return i, true
			}
		}
		return 0, false
	}
	t.view.Now = t.now
	if t.viewPeersStale && !t.viewNoPeers {
		t.refreshViewPeers()
	}
	piece, ok := t.cfg.Picker.Pick(&t.view, picker.Peer{Has: &p.has, Rate: p.down.ewma, HavesPerSecond: p.havesPerSecond})
	if ok && (piece < 0 || piece >= t.numPieces || !p.has.Has(piece) || t.have.Has(piece) || t.started.Has(piece)) {
		// A picker bug must not corrupt the engine's state.
		return 0, false
	}
	return piece, ok
}

// refreshViewPeers rebuilds the picker view's list of peers. What it
// copies changes only when a peer comes, goes, is first counted or starts
// closing, or on a tick (rates), so it is rebuilt then, at the next pick,
// rather than on every pick.
func (t *Torrent) refreshViewPeers() {
	t.view.Peers = t.view.Peers[:0]
	for _, q := range t.peers {
		if q.counted && !q.closing {
			t.view.Peers = append(t.view.Peers, picker.Peer{Has: &q.has, Rate: q.down.ewma, HavesPerSecond: q.havesPerSecond})
		}
	}
	t.viewPeersStale = false
}

// endgameBlock is the end game (Cohen 2003): once every missing piece is
// under way, a peer with free queue slots also asks for blocks already
// requested from others, and the first copy to arrive cancels the rest.
// Each block is asked of at most two peers, which bounds the waste.
func (t *Torrent) endgameBlock(p *peer) (*partial, int, bool) {
	if t.have.Count()+t.started.Count() < t.numPieces {
		return nil, 0, false
	}
	// Finding that p was asked for a block means searching its queue,
	// hundreds deep on a fast link, and a download from one peer ends
	// with every requested block asked of p: fill then searched for each
	// of them after every block received. The count of requested blocks
	// settles that case at once, since p's queue holds only requested
	// blocks, each once. (Counting them here instead, over every piece
	// under way, was 4% of the simulator's time at 10,000 leechers.)
	if t.requested <= len(p.out) {
		return nil, 0, false
	}
	for _, pp := range t.active {
		if pp.verifying || pp.parole || !p.has.Has(int(pp.piece)) || !t.canRequest(p, int(pp.piece)) {
			continue
		}
		for b := range pp.blocks() {
			if bs := pp.block(b); bs.state != blockRequested || bs.asks >= 2 {
				continue
			}
			begin, _ := t.blockRef(int(pp.piece), b)
			if p.outIndex(pp.piece, begin) < 0 {
				return pp, b, true
			}
		}
	}
	return nil, 0, false
}

// unask records that one request for a block is gone (answered,
// rejected, cancelled or abandoned); a block nobody is fetching any more
// becomes free again.
func (t *Torrent) unask(r ask) {
	pp := t.partials.get(r.piece)
	if pp == nil {
		return
	}
	b := int(r.begin / BlockSize)
	if b >= pp.blocks() || pp.block(b).asks == 0 {
		return
	}
	bs := pp.block(b)
	bs.asks--
	if bs.asks == 0 && bs.state == blockRequested {
		t.setBlock(pp, b, blockFree)
		pp.nextFree = min(pp.nextFree, int32(b))
		t.reopen(pp)
		if pp.parole && pp.owner() != 0 && !t.ownerStillAsks(pp) {
			pp.setOwner(0)
		}
	}
}

func (t *Torrent) ownerStillAsks(pp *partial) bool {
	return t.pieceAsked(pp) || pp.received > 0
}

// releaseRequests gives up on all of p's outstanding requests, telling
// the peer where it may still be listening.
func (t *Torrent) releaseRequests(p *peer) {
	for _, r := range p.out {
		if !p.closing && !p.peerChoking {
			t.send(p, wire.Message{Type: wire.Cancel, Index: r.piece, Begin: r.begin, Length: t.askLength(r)})
		}
		t.unask(r)
	}
	// Let the array go: a peer that chokes us may do so for long, and a
	// simulated world has most neighbours choking most of the time.
	p.out = nil
}

// onBlock handles a piece message.
func (t *Torrent) onBlock(p *peer, msg *wire.Message) {
	n := int64(len(msg.Block))
	i := t.outIndex(p, msg.Index, msg.Begin, uint32(len(msg.Block)))
	// Downloaded counts every payload byte that came in, Wasted the ones
	// that were no use, so the difference is what we kept.
	t.stats.Downloaded += n
	if i < 0 && p.rare != nil && p.rare.useless > 0 {
		// A block of a redundant gossip push: expected, and useless.
		p.rare.useless--
		t.stats.Wasted += n
		return
	}
	if i < 0 {
		// Late blocks after a cancel or choke are normal; a stream of
		// blocks we never asked for is not.
		t.stats.Wasted += n
		p.unrequested = satInc(p.unrequested)
		if int(p.unrequested) > t.cfg.MaxUnrequested {
			t.drop(p, false, "sent %d blocks we did not request", p.unrequested)
		}
		return
	}
	r := p.out[i]
	p.removeOut(i)
	if len(p.out) == 0 {
		if p.rare != nil {
			p.rare.pulling = false // an open pull is answered in full
		}
	}
	p.down.add(n)
	p.lastBlock = t.now
	if p.snubbed {
		p.snubbed = false
		t.resizeQueue(p)
	}

	pp := t.partials.get(r.piece)
	b := int(r.begin / BlockSize)
	if pp == nil || b >= pp.blocks() || pp.block(b).state == blockReceived {
		// The end game's second copy, or a piece finished meanwhile.
		t.stats.Wasted += n
		t.unask(r)
		t.fill(p)
		return
	}
	t.setBlock(pp, b, blockReceived)
	pp.received++
	bs := pp.block(b)
	bs.asks--
	if sb := pp.ban(); sb != nil && sb.failed != nil && sb.failed.sums != nil {
		if sb.sums == nil {
			sb.sums = make([]uint64, pp.n)
		}
		sb.sums[b] = maphash.Bytes(t.digestSeed, msg.Block)
	}
	bs.from = p.id
	t.emit(Action{Kind: Write, Piece: r.piece, Begin: r.begin, Length: uint32(n), Data: msg.Block})
	if bs.asks > 0 {
		t.cancelDuplicates(p, r)
	}
	if pp.received == int32(pp.n) {
		pp.verifying = true
		t.emit(Action{Kind: Verify, Piece: r.piece})
	}
	t.fill(p)
}

// cancelDuplicates withdraws the end game's other requests for a block
// that has arrived.
func (t *Torrent) cancelDuplicates(from *peer, r ask) {
	if t.gossiping() {
		// Gossip transfers are whole pieces that a cancel does not
		// withdraw: the other copy is left to come and be wasted.
		return
	}
	for _, q := range t.peers {
		if q == from {
			continue
		}
		if i := q.outIndex(r.piece, r.begin); i >= 0 {
			q.removeOut(i)
			t.unask(r)
			t.send(q, wire.Message{Type: wire.Cancel, Index: r.piece, Begin: r.begin, Length: t.askLength(r)})
		}
	}
}

func containsConn(cs []ConnID, c ConnID) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

// onReject handles a BEP 6 reject: the block goes back to the pool.
func (t *Torrent) onReject(p *peer, msg *wire.Message) {
	i := t.outIndex(p, msg.Index, msg.Begin, msg.Length)
	if i < 0 {
		return // a reject crossing our cancel
	}
	r := p.out[i]
	p.removeOut(i)
	t.unask(r)
	t.fillAll()
}

// FailedPiece gives the engine the bytes of a piece, as received, that
// failed its hash check; call it before PieceVerified reports the
// failure. With them, once the piece later verifies, the engine can tell
// which blocks were bad and ban exactly their senders (smart ban). A
// driver that cannot supply them loses only that: senders of bad pieces
// are still banned by count (Config.BanAfter).
func (t *Torrent) FailedPiece(piece int, data []byte) {
	if piece < 0 || piece >= t.numPieces || int64(len(data)) != t.cfg.Layout.PieceSize(piece) {
		return
	}
	pp := t.partials.get(uint32(piece))
	if pp == nil || !pp.verifying || pp.failedBefore() {
		return // only the first failed attempt is kept
	}
	sums := make([]uint64, pp.n)
	for b := range sums {
		begin, length := t.blockRef(piece, b)
		sums[b] = maphash.Bytes(t.digestSeed, data[begin:begin+length])
	}
	pp.smart().pending = sums
}

// PieceVerified reports the driver's hash check of a piece that Verify
// asked for. A good piece is ours and announced; a bad one is fetched
// again, and the peers that sent it are blamed.
func (t *Torrent) PieceVerified(piece int, ok bool, now time.Duration) {
	t.now = now
	if piece < 0 || piece >= t.numPieces {
		return
	}
	pp := t.partials.get(uint32(piece))
	if pp == nil || !pp.verifying {
		return
	}
	if ok {
		if pp.failedBefore() {
			t.convictLiars(pp)
		}
		t.finishPiece(pp)
		t.onOurPiece(piece)
		return
	}
	t.stats.HashFails++
	t.stats.Wasted += t.cfg.Layout.PieceSize(piece)
	senders := pp.senders()
	for _, c := range senders {
		p := t.byConn.get(c)
		if p == nil {
			continue
		}
		p.hashFails = satInc(p.hashFails)
		switch {
		case len(senders) == 1:
			t.drop(p, true, "sent piece %d alone and it failed its hash check", piece)
		case int(p.hashFails) >= t.cfg.BanAfter:
			t.drop(p, true, "contributed to %d pieces that failed their hash check", p.hashFails)
		}
	}
	// Start over, from a single peer this time, remembering what the
	// failed attempt's blocks looked like and who sent them.
	if !pp.failedBefore() {
		sb := pp.smart()
		from := make([]ConnID, pp.n)
		for b := range from {
			from[b] = pp.block(b).from
		}
		sb.failed = &blockRecord{sums: sb.pending, from: from}
		sb.pending = nil
	}
	for b := range pp.blocks() {
		t.setBlock(pp, b, blockFree)
	}
	pp.received, pp.nextFree, pp.verifying = 0, 0, false
	t.reopen(pp)
	pp.parole = true
	pp.setOwner(0)
	t.fillAll()
}

// onOurPiece announces a newly verified piece and updates interest.
func (t *Torrent) onOurPiece(piece int) {
	if t.have.Set(piece) {
		t.left -= t.cfg.Layout.PieceSize(piece)
	}
	// Two passes. The first only reads whether each peer has the piece:
	// its iterations are independent, so the processor overlaps their
	// cache misses (a peer's struct, then its bitfield), which the
	// second pass's calls would serialise. In a large simulated world
	// this loop runs for every piece of every peer, and the misses were
	// most of its time.
	var buf [128]bool
	has := buf[:]
	if len(t.peers) > len(buf) {
		has = make([]bool, len(t.peers))
	}
	for i, p := range t.peers {
		has[i] = p.has.Has(piece)
	}
	for i, p := range t.peers {
		if p.closing {
			continue
		}
		if has[i] {
			p.wanted--
			t.updateInterest(p)
		}
		if !p.has.All() && !(t.cfg.SkipRedundantHave && has[i]) {
			t.actions.sendHave(t, p.id, uint32(piece))
		}
	}
	if t.have.All() && !t.completed {
		t.completed = true
		t.emit(Action{Kind: Completed})
		for _, p := range t.peers {
			switch {
			case p.has.All():
				t.drop(p, false, "both seeds")
			case p.uploadOnly:
				t.drop(p, false, "both seeds (it is upload only)")
			case t.cfg.SkipRedundantHave && p.ext && !p.closing:
				// It has not heard of the pieces we got that it had
				// already, so our HAVEs have not told it that we are
				// complete. A second extended handshake (BEP 10 allows
				// them at any time) with BEP 21's upload_only does, and
				// a neighbour that is complete too drops us. Without it
				// two complete neighbours stayed connected for good:
				// 78,512 connection ends (of at most 80,040) of a
				// 2,000-leecher world were still open, all between
				// seeds, when its last leecher finished.
				t.sendExtHandshake(p, true)
			}
		}
	}
}

// abandonParole restarts the pieces on parole that p owned, so that a
// departed or snubbed owner does not leave them stuck half done.
func (t *Torrent) abandonParole(p *peer) {
	for _, pp := range t.active {
		if !pp.parole || pp.owner() != p.id || pp.verifying {
			continue
		}
		for b := range pp.blocks() {
			if pp.block(b).state == blockReceived {
				t.setBlock(pp, b, blockFree)
			}
		}
		pp.received, pp.nextFree = 0, 0
		pp.setOwner(0)
		t.reopen(pp)
	}
}

// convictLiars compares a verified piece's blocks with those of its
// failed attempt: a sender whose block differed from the good data sent
// bad data, which is proof enough for a ban.
func (t *Torrent) convictLiars(pp *partial) {
	sb := pp.ban()
	if sb.sums == nil {
		return // the driver gave no failed data: nothing to compare
	}
	for b, sum := range sb.failed.sums {
		c := sb.failed.from[b]
		if sum == sb.sums[b] || c == 0 {
			continue
		}
		// A sender already gone is not remembered: should it come back
		// and lie again, it is caught the same way.
		if p := t.byConn.get(c); p != nil {
			t.drop(p, true, "sent a bad block of piece %d", pp.piece)
		}
	}
}
