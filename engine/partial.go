package engine

// Block states within a partial piece.
const (
	blockFree uint8 = iota
	blockRequested
	blockReceived
)

// partial is a piece under way.
//
// A large simulated world holds about a hundred per simulated peer at its
// peak (its pieces are one block each, and a deep request queue starts a
// piece per request), so a partial is one 48-byte allocation with its
// first block inline. It was three (the struct, its block states, its
// senders), about 100 bytes in all and 40% of the objects such a world
// allocated.
//
// A per-torrent pool of partials was tried as well. It made the peak
// larger than plain allocation (187 MiB against 173-177 at 2,000
// leechers): each torrent's pool kept as many as it ever had under way at
// once, where the collector shares free memory among all.
type partial struct {
	piece uint32
	n     uint32 // blocks
	// received counts blocks in; no block before nextFree is free.
	received, nextFree int32
	// seq orders pieces by start (compare with seqBefore: it wraps).
	seq uint32
	// open: the piece is in Torrent.open.
	open bool
	// pushed: a gossip push of it is coming (see onGossip).
	pushed bool
	// verifying: every block is in and the driver is hashing the piece.
	verifying bool
	// parole: the piece failed once, so it must now come from one peer
	// alone (ban.owner), which makes the next failure attributable.
	parole bool
	first  blockSlot
	// more holds the blocks after the first and the smart-ban record:
	// nil for a piece of one block that never failed.
	more *partialMore
}

// blockSlot is one block of a piece under way: its state, how many peers
// have it requested, and who sent it, who shares the blame if the piece
// fails.
type blockSlot struct {
	state, asks uint8
	from        ConnID
}

// partialMore is what a partial needs beyond its first block.
type partialMore struct {
	rest []blockSlot // blocks 1 to n-1
	// ban is the smart-ban record, made when the piece first fails. Most
	// pieces never fail.
	ban *smartBan
}

// block returns block b's slot.
func (pp *partial) block(b int) *blockSlot {
	if b == 0 {
		return &pp.first
	}
	return &pp.more.rest[b-1]
}

// blocks is the number of blocks, as an int for loops.
func (pp *partial) blocks() int { return int(pp.n) }

// ban returns the smart-ban record, or nil.
func (pp *partial) ban() *smartBan {
	if pp.more == nil {
		return nil
	}
	return pp.more.ban
}

// seqBefore reports whether start number a came before b, by serial
// number arithmetic (RFC 1982): the numbers wrap at 2^32, and the pieces
// compared, those open at one time, are never 2^31 starts apart.
func seqBefore(a, b uint32) bool { return int32(a-b) < 0 }

// owner is the one peer a piece on parole comes from, or 0.
func (pp *partial) owner() ConnID {
	if sb := pp.ban(); sb != nil {
		return sb.owner
	}
	return 0
}

// setOwner sets owner. Only a piece on parole has one, and it has
// failed, so it has its ban record already.
func (pp *partial) setOwner(c ConnID) {
	if c != 0 || pp.ban() != nil {
		pp.smart().owner = c
	}
}

// smartBan is what a piece keeps once it has failed its hash check. When
// it later verifies, each block whose digest changed convicts its earlier
// sender (the "smart ban" idea of libtorrent's plugin). Digests are taken
// only where they will be compared: of the failed attempt, from the bytes
// the driver hands FailedPiece (pending, until PieceVerified files them in
// failed), and of the blocks received after the failure (sums). Hashing
// every block received was 7% of a fast download's CPU.
type smartBan struct {
	pending []uint64
	failed  *blockRecord
	sums    []uint64
	owner   ConnID // see partial.parole
}

// blockRecord is a failed attempt's per-block digests and senders.
type blockRecord struct {
	sums []uint64
	from []ConnID
}

// smart returns the piece's smart-ban record, making it if need be.
func (pp *partial) smart() *smartBan {
	if pp.more == nil {
		pp.more = &partialMore{}
	}
	if pp.more.ban == nil {
		pp.more.ban = &smartBan{}
	}
	return pp.more.ban
}

// failedBefore reports whether the piece has failed a hash check.
func (pp *partial) failedBefore() bool {
	sb := pp.ban()
	return sb != nil && sb.failed != nil
}

// senders lists, once each, the peers that sent the blocks received.
func (pp *partial) senders() []ConnID {
	var out []ConnID
	for b := range pp.blocks() {
		s := pp.block(b)
		if s.from != 0 && s.state == blockReceived && !containsConn(out, s.from) {
			out = append(out, s.from)
		}
	}
	return out
}
