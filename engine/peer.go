package engine

import (
	"math"
	"time"

	"github.com/swarmlab/swarmlab/bitfield"
	"github.com/swarmlab/swarmlab/wire"
)

// PeerInfo is what the driver learned in the handshake.
type PeerInfo struct {
	ID       [20]byte
	Reserved wire.Reserved
}

// request is a peer's block request to us.
type request struct {
	piece, begin, length uint32
	at                   time.Duration // when it was queued
}

// ask is one of our block requests to a peer. Its length is the block's
// in the layout (Torrent.blockRef), as every request we make is, so it
// is not kept: a large simulated world holds about a hundred per
// simulated peer, and an ask is 16 bytes where a request is 24.
type ask struct {
	piece, begin uint32
	at           time.Duration // when it was sent
}

// peer is the engine's state for one connection.
//
// The fields every HAVE reads, sent or received, come first and fill one
// 64-byte cache line (peers are allocated in a size class that is a
// multiple of 64 bytes): in a large simulated world each HAVE's read of a
// peer is a cache miss, and two lines were two misses.
type peer struct {
	has     bitfield.Bitfield // inline: every HAVE touches it
	id      ConnID
	counted bool // has was added to availability (first bitfield/have seen)
	closing bool // we asked for Close, or it was removed: ignore it
	fast    bool // negotiated: both sides offered it
	ext     bool

	amChoking, amInterested     bool
	peerChoking, peerInterested bool
	// wanted is how many pieces the peer has that we lack: we are
	// interested exactly while it is positive.
	wanted int32
	// allowsFast: the peer allowed us pieces while choking us
	// (rare.allowedFast). A HAVE from a peer that chokes us reads it to
	// see whether it may ask anyway.
	allowsFast bool
	snubbed    bool
	// uploadOnly: its last extended handshake said it will not download
	// (BEP 21's upload_only), so two such peers have nothing to trade.
	uploadOnly bool
	// hashFails counts failed pieces it contributed to (saturating; a
	// peer is banned long before, Config.BanAfter).
	hashFails uint8

	peerID [20]byte

	// The counts below are 16 bits to keep peer at 256 bytes (a world
	// holds 40 per simulated peer). Config.withDefaults caps the limits
	// they follow well below 65,535.
	maxOut   uint16 // current queue depth of our requests
	reqq     uint16 // its advertised limit, 0 if none
	inflight uint16 // Upload actions not yet reported done
	// unrequested counts blocks it sent that we had not asked for
	// (saturating; dropped at Config.MaxUnrequested).
	unrequested uint16

	piecesAtRound int32 // has.Count() at the previous rechoke

	connectedAt time.Duration

	out    []ask     // our requests to it, oldest first
	queued []request // its requests to us, not yet handed to the driver

	down, up       rate
	lastBlock      time.Duration // when it last sent us a block we asked for
	havesPerSecond float64       // how fast its piece count grew last round

	// rare holds what few connections need, made on first use.
	rare *peerRare
}

// maxPeerCount bounds the per-peer limits whose counts peer keeps in 16
// bits: a queue of 32,768 blocks is half a gigabyte outstanding at one
// peer.
const maxPeerCount = 1 << 15

// maxBanAfter bounds Config.BanAfter, whose count (hashFails) peer keeps
// in 8 bits: a peer that sent 255 bad pieces is long past any ban.
const maxBanAfter = 255

// upCap is the upload cap last sent to p as a Shape action, 0 if none.
func (p *peer) upCap() float64 {
	if p.rare == nil {
		return 0
	}
	return p.rare.upCap
}

// peerRare is connection state that few connections need: the pieces a
// peer that chokes us allowed us anyway (BEP 6), a super-seed's reveals,
// and the gossip extension's. Kept out of peer, which a simulated world
// holds 40 of for every simulated peer: the peer struct was 320 bytes
// rather than 384 when this moved out (256 now).
type peerRare struct {
	allowedFast []uint32
	// revealed lists pieces a super-seed has shown this peer that it
	// has not yet announced having.
	revealed []uint32
	// Gossip: the id the peer wants our gossip messages under (0: it
	// does not gossip), the blocks of pushed or pulled pieces we owe it,
	// whether a pull of ours to it is open, and how many blocks of
	// redundant pushes we will take from it and throw away.
	gossipID  uint8
	pulling   bool
	gossipOut []request
	useless   int
	// upCap is the upload cap last sent as a Shape action; only
	// chokers that divide the upload (BitTyrant, PropShare) set one.
	upCap float64
}

// rareState returns p's rare state, making it if need be.
func (p *peer) rareState() *peerRare {
	if p.rare == nil {
		p.rare = &peerRare{}
	}
	return p.rare
}

// rate estimates a byte rate two ways: a quick exponentially weighted
// average for sizing request queues, and per-round totals for chokers,
// which by convention rank peers on what they did over the last rounds.
type rate struct {
	total     int64
	sinceTick int64
	ewma      float64 // bytes/s
	thisRound int64
	lastRound int64
}

// rateTau is the time constant of the quick average: a few seconds is
// long enough to ride out bursts, short enough to follow a link's speed.
const rateTau = 2 * time.Second

func (r *rate) add(n int64) {
	r.total += n
	r.sinceTick += n
	r.thisRound += n
}

// tick folds the bytes since the last tick into the average; dt is the
// time since that tick.
func (r *rate) tick(dt time.Duration) {
	if dt <= 0 {
		return
	}
	inst := float64(r.sinceTick) / dt.Seconds()
	alpha := 1 - math.Exp(-dt.Seconds()/rateTau.Seconds())
	r.ewma += alpha * (inst - r.ewma)
	r.sinceTick = 0
}

// endRound closes a choking round and returns the rate over the last two
// rounds of length d: mainline BitTorrent ranks on about 20 s of history
// with its 10 s rounds.
func (r *rate) endRound(d time.Duration) float64 {
	r.lastRound, r.thisRound = r.thisRound, 0
	if d <= 0 {
		return 0
	}
	return float64(r.lastRound) / d.Seconds()
}

// outIndex finds our outstanding request for the block at begin, or -1.
func (p *peer) outIndex(piece, begin uint32) int {
	for i, a := range p.out {
		if a.piece == piece && a.begin == begin {
			return i
		}
	}
	return -1
}

func (p *peer) removeOut(i int) {
	if i == 0 {
		// Blocks mostly come in the order asked: dropping the head
		// instead of shifting hundreds of requests down saves a copy of
		// the whole queue per block. The array's front is reclaimed when
		// append next grows it, and the array itself when the queue
		// empties.
		p.out = p.out[1:]
		if len(p.out) == 0 {
			p.out = nil
		}
		return
	}
	p.out = append(p.out[:i], p.out[i+1:]...)
}

func (p *peer) isAllowedFast(piece uint32) bool {
	if p.rare == nil {
		return false
	}
	for _, a := range p.rare.allowedFast {
		if a == piece {
			return true
		}
	}
	return false
}

// satInc adds one to a count, stopping at its maximum.
func satInc[T uint8 | uint16](n T) T {
	if n == ^T(0) {
		return n
	}
	return n + 1
}
