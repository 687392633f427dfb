package engine

import "math/bits"

// partialTable finds a piece under way by its index: open addressing
// with linear probing over pointers to the partials themselves, each
// keyed by its own piece field.
//
// Why not a map: in a large simulated world every requested block starts
// a piece (pieces of one block) and every block received looks its piece
// up, so the map's hashing and probing were 5% of the simulator's time,
// and at about 36 bytes an entry it held a fifteenth of the live heap at
// the peak. Here an entry is one 8-byte slot at a load of at most a half,
// a slot's hash is a multiply and a shift, and a hit's probe reads the
// partial the caller is about to use anyway.
type partialTable struct {
	slots []*partial // a power of two long, or nil when empty
	n     int
	shift uint8 // 64 - log2(len(slots))
}

// minPartialSlots is the smallest table made.
const minPartialSlots = 8

// home is the slot a piece hashes to (Fibonacci hashing: the multiply
// spreads neighbouring pieces, which a sequential picker starts in a
// row, across the table).
func (pt *partialTable) home(piece uint32) int {
	return int((uint64(piece) * 0x9e3779b97f4a7c15) >> pt.shift)
}

// get returns the piece's partial, or nil.
func (pt *partialTable) get(piece uint32) *partial {
	if pt.n == 0 {
		return nil
	}
	mask := len(pt.slots) - 1
	for i := pt.home(piece); ; i = (i + 1) & mask {
		pp := pt.slots[i]
		if pp == nil || pp.piece == piece {
			return pp
		}
	}
}

// put adds pp, whose piece must not be in the table.
func (pt *partialTable) put(pp *partial) {
	if 2*(pt.n+1) > len(pt.slots) {
		pt.resize(max(minPartialSlots, 2*len(pt.slots)))
	}
	pt.insert(pp)
	pt.n++
}

func (pt *partialTable) insert(pp *partial) {
	mask := len(pt.slots) - 1
	i := pt.home(pp.piece)
	for pt.slots[i] != nil {
		i = (i + 1) & mask
	}
	pt.slots[i] = pp
}

// delete removes the piece's partial, if there is one. The entries after
// it in its probe run move back to fill the hole (no tombstones, so a
// table that has seen many pieces come and go probes as if new).
func (pt *partialTable) delete(piece uint32) {
	if pt.n == 0 {
		return
	}
	mask := len(pt.slots) - 1
	i := pt.home(piece)
	for {
		pp := pt.slots[i]
		if pp == nil {
			return
		}
		if pp.piece == piece {
			break
		}
		i = (i + 1) & mask
	}
	// i is the hole. An entry further on may fill it if its home is not
	// in the cyclic range (i, j]: it would otherwise be found before
	// reaching j only by passing the hole.
	for j := (i + 1) & mask; pt.slots[j] != nil; j = (j + 1) & mask {
		h := pt.home(pt.slots[j].piece)
		if (j-h)&mask >= (j-i)&mask {
			pt.slots[i] = pt.slots[j]
			i = j
		}
	}
	pt.slots[i] = nil
	pt.n--
	// Shrink as pieces finish, down to nothing: a seed, most of a
	// large world's peers by the end, keeps no table at all.
	if pt.n == 0 {
		pt.slots, pt.shift = nil, 0
	} else if len(pt.slots) > minPartialSlots && 8*pt.n <= len(pt.slots) {
		pt.resize(len(pt.slots) / 2)
	}
}

// resize rehashes into a table of size slots, a power of two.
func (pt *partialTable) resize(size int) {
	old := pt.slots
	pt.slots = make([]*partial, size)
	pt.shift = uint8(64 - bits.TrailingZeros(uint(size)))
	for _, pp := range old {
		if pp != nil {
			pt.insert(pp)
		}
	}
}
