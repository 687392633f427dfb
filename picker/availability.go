package picker

import "github.com/swarmlab/swarmlab/bitfield"

// Availability counts, for every piece, how many connected peers have it,
// and keeps the pieces ordered by that count so a rarest-first picker can
// walk them from the rarest up without sorting.
//
// The layout is the bucketed order libtorrent's piece picker uses: order
// lists the pieces sorted by count, pos is each piece's place in order,
// and start[c] is where the pieces of count c begin. A HAVE moves one piece
// from the end of its bucket to the start of the next by one swap and one
// boundary shift, so every update is O(1). Seeds are counted apart: a seed
// raises every piece by one, which changes no piece's rank, so a HAVE ALL
// costs O(1) instead of O(pieces).
type Availability struct {
	count []int32 // per piece, peers other than seeds that have it
	order []int32 // pieces by ascending count
	pos   []int32 // piece -> index in order
	start []int32 // start[c] = first index in order with count c; last entry = len(order)
	seeds int
}

// NewAvailability returns the availability of n pieces with no peers.
func NewAvailability(n int) *Availability {
	a := &Availability{
		count: make([]int32, n),
		order: make([]int32, n),
		pos:   make([]int32, n),
		start: []int32{0, int32(n)},
	}
	for i := range n {
		a.order[i] = int32(i)
		a.pos[i] = int32(i)
	}
	return a
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
	c := a.count[p]
	if int(c)+2 >= len(a.start) {
		// Open bucket c+1 (empty, starting where the order ends).
		a.start = append(a.start, int32(len(a.order)))
	}
	last := a.start[c+1] - 1 // the end of p's bucket
	a.swap(a.pos[p], last)
	a.start[c+1]--
	a.count[p]++
}

// Dec records that one fewer peer has piece p.
func (a *Availability) Dec(p int) {
	c := a.count[p]
	if c == 0 {
		panic("picker: availability of a piece nobody has decremented")
	}
	first := a.start[c] // the start of p's bucket
	a.swap(a.pos[p], first)
	a.start[c]++
	a.count[p]--
}

func (a *Availability) swap(i, j int32) {
	pi, pj := a.order[i], a.order[j]
	a.order[i], a.order[j] = pj, pi
	a.pos[pi], a.pos[pj] = j, i
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

// Buckets is the number of distinct count levels held (the highest
// per-piece count, seeds aside, plus one).
func (a *Availability) Buckets() int { return len(a.start) - 1 }

// Bucket returns the pieces whose count (seeds aside) is c, in no
// particular order. The slice aliases internal state: read it before the
// next update.
func (a *Availability) Bucket(c int) []int32 {
	return a.order[a.start[c]:a.start[c+1]]
}
