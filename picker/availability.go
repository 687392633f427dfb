package picker

import (
	"math"

	"github.com/swarmlab/swarmlab/bitfield"
)

// Availability counts, for every piece, how many connected peers have it.
//
// It is a plain array of counts. An ordered layout (libtorrent's buckets of
// pieces by count) makes a rarest-first pick O(1), but every HAVE then
// moves a piece between buckets: four scattered reads and writes instead
// of one. HAVEs far outnumber picks (a piece is picked once and then
// announced to every neighbour that lacks it: bigswarm carries 22.6
// messages per peer and piece, mostly those HAVEs), and in a large
// simulated world each scattered access is a cache miss, so the count
// array is the cheaper side of that trade; Rarest scans the candidates'
// counts instead (a few microseconds for thousands of pieces).
//
// Seeds are counted apart: a seed raises every piece by one, which
// changes no piece's rank, so a HAVE ALL costs O(1) instead of O(pieces).
//
// A count is 16 bits: a simulated world holds one array per simulated
// peer, and no driver connects a torrent to 65,535 peers (the live
// client's cap is 200); Inc panics rather than wrap.
type Availability struct {
	count []uint16 // per piece, peers other than seeds that have it
	seeds int
}

// NewAvailability returns the availability of n pieces with no peers.
//
// The array's capacity is padded to whole 64-piece words, so that the
// AVX-512 scan of rarestOf reads whole words without passing its end.
func NewAvailability(n int) *Availability {
	return &Availability{count: make([]uint16, n, (n+63)&^63)}
}

// Len is the number of pieces.
func (a *Availability) Len() int { return len(a.count) }

// Count is the number of connected peers that have piece p, seeds
// included.
func (a *Availability) Count(p int) int { return int(a.count[p]) + a.seeds }

// Seeds is the number of connected peers that have every piece.
func (a *Availability) Seeds() int { return a.seeds }

// Inc records that one more peer has piece p.
func (a *Availability) Inc(p int) {
	if a.count[p] == math.MaxUint16 {
		panic("picker: more than 65,535 peers have a piece")
	}
	a.count[p]++
}

// Dec records that one fewer peer has piece p.
func (a *Availability) Dec(p int) {
	if a.count[p] == 0 {
		panic("picker: availability of a piece nobody has decremented")
	}
	a.count[p]--
}

// AddPeer counts every piece in has; a full bitfield counts as a seed.
func (a *Availability) AddPeer(has *bitfield.Bitfield) {
	if has.All() {
		a.seeds++
		return
	}
	for p := has.NextSet(0); p >= 0; p = has.NextSet(p + 1) {
		a.Inc(p)
	}
}

// RemovePeer undoes AddPeer for a peer that had the pieces in has.
func (a *Availability) RemovePeer(has *bitfield.Bitfield) {
	if has.All() {
		a.seeds--
		return
	}
	for p := has.NextSet(0); p >= 0; p = has.NextSet(p + 1) {
		a.Dec(p)
	}
}

// PromoteToSeed turns a counted peer that now has every piece (each of
// them already counted with Inc) into a seed: one O(pieces) step when a
// peer completes, which keeps every later HAVE and disconnect O(1).
func (a *Availability) PromoteToSeed() {
	for p := range a.count {
		a.Dec(p)
	}
	a.seeds++
}
