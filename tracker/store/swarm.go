package store

import (
	"math/rand/v2"

	"github.com/swarmlab/swarmlab/tracker"
)

// A swarm keeps its peers so that every operation an announce needs is
// O(1) and a random sample of k peers is O(k), with no allocation once the
// slices have grown:
//
//   - slab holds the peers in slots that do not move while the peer lives;
//     free lists the empty ones (pos -1);
//   - order lists the live slots in four partitions, [IPv4 seeds | IPv4
//     leechers | IPv6 leechers | IPv6 seeds], so that every set a sample may
//     draw from (leechers, or seeds and leechers, of one family or both) is
//     one contiguous run of order;
//   - index maps a peer's address to its slot, built only once the swarm
//     outgrows smallSwarm (most swarms are tiny, and a linear scan of a few
//     keys is cheaper than a map in both time and memory).
//
// Sampling is a partial Fisher-Yates shuffle done in place inside order, so
// it costs no scratch memory; slots record their position in order so that
// the swaps keep every peer findable.
type swarm struct {
	slab       []peerEntry
	free       []int32
	order      []int32
	bounds     [numParts + 1]int32
	index      map[peerKey]int32
	downloaded int
}

type peerEntry struct {
	key  peerKey
	id   tracker.PeerID
	last int64 // unix nanoseconds of the last announce
	pos  int32 // index in order, -1 when the slot is free
	part uint8
}

// Partitions of order, in order.
const (
	partSeed4 = iota
	partLeech4
	partLeech6
	partSeed6
	numParts
)

// smallSwarm is the size up to which a swarm finds peers by scanning;
// beyond it an index map is built, and it is dropped again below half.
const smallSwarm = 16

func partitionOf(f Family, seed bool) uint8 {
	switch {
	case f == FamilyIPv6 && seed:
		return partSeed6
	case f == FamilyIPv6:
		return partLeech6
	case seed:
		return partSeed4
	}
	return partLeech4
}

func isSeedPart(p uint8) bool { return p == partSeed4 || p == partSeed6 }

func (s *swarm) len() int   { return len(s.order) }
func (s *swarm) seeds() int { return int(s.bounds[1]-s.bounds[0]) + int(s.bounds[4]-s.bounds[3]) }

func (s *swarm) result(dst []tracker.Peer) Result {
	seeds := s.seeds()
	return Result{Complete: seeds, Incomplete: s.len() - seeds, Downloaded: s.downloaded, Peers: dst}
}

// find returns the slot of the peer at key, or -1.
func (s *swarm) find(key peerKey) int32 {
	if s.index != nil {
		if slot, ok := s.index[key]; ok {
			return slot
		}
		return -1
	}
	for _, slot := range s.order {
		if s.slab[slot].key == key {
			return slot
		}
	}
	return -1
}

func (s *swarm) swap(i, j int32) {
	a, b := s.order[i], s.order[j]
	s.order[i], s.order[j] = b, a
	s.slab[a].pos = j
	s.slab[b].pos = i
}

// move shifts the peer in slot to partition to, one partition boundary at a
// time: at most three swaps.
func (s *swarm) move(slot int32, to uint8) {
	e := &s.slab[slot]
	for e.part < to {
		// Swap to the end of its partition, then hand that place to the
		// next partition.
		p := e.part
		s.swap(e.pos, s.bounds[p+1]-1)
		s.bounds[p+1]--
		e.part++
	}
	for e.part > to {
		p := e.part
		s.swap(e.pos, s.bounds[p])
		s.bounds[p]++
		e.part--
	}
}

func (s *swarm) insert(key peerKey, id tracker.PeerID, part uint8, last int64) int32 {
	var slot int32
	if n := len(s.free); n > 0 {
		slot = s.free[n-1]
		s.free = s.free[:n-1]
	} else {
		slot = int32(len(s.slab))
		s.slab = append(s.slab, peerEntry{})
	}
	pos := int32(len(s.order))
	s.order = append(s.order, slot)
	s.bounds[numParts]++
	s.slab[slot] = peerEntry{key: key, id: id, last: last, pos: pos, part: numParts - 1}
	s.move(slot, part)
	if s.index != nil {
		s.index[key] = slot
	} else if len(s.order) > smallSwarm {
		s.index = make(map[peerKey]int32, 2*smallSwarm)
		for _, sl := range s.order {
			s.index[s.slab[sl].key] = sl
		}
	}
	return slot
}

func (s *swarm) remove(slot int32) {
	s.move(slot, numParts-1)
	last := int32(len(s.order) - 1)
	s.swap(s.slab[slot].pos, last)
	s.order = s.order[:last]
	s.bounds[numParts]--
	if s.index != nil {
		delete(s.index, s.slab[slot].key)
		if len(s.order) < smallSwarm/2 {
			s.index = nil
		}
	}
	s.slab[slot] = peerEntry{pos: -1}
	s.free = append(s.free, slot)
}

// expire removes the peers last seen before cutoff and returns how many.
// It walks the slab, whose slots stay put while order is reshuffled by
// the removals.
func (s *swarm) expire(cutoff int64) int {
	n := 0
	for slot := range s.slab {
		e := &s.slab[slot]
		if e.pos >= 0 && e.last < cutoff {
			s.remove(int32(slot))
			n++
		}
	}
	if n > 0 {
		s.compact()
	}
	return n
}

// compact gives back the memory of a swarm that has shrunk to a quarter of
// its slab, so that a burst of peers long gone does not pin memory.
func (s *swarm) compact() {
	if len(s.slab) <= 2*smallSwarm || len(s.order) > len(s.slab)/4 {
		return
	}
	slab := make([]peerEntry, len(s.order), 2*len(s.order))
	for pos, slot := range s.order {
		slab[pos] = s.slab[slot]
		s.order[pos] = int32(pos) // slot == pos in the new slab
	}
	s.slab = slab
	s.free = nil
	s.order = append(make([]int32, 0, 2*len(s.order)), s.order...)
	if s.index != nil {
		s.index = make(map[peerKey]int32, len(s.order))
		for slot := range s.slab {
			s.index[s.slab[slot].key] = int32(slot)
		}
	}
}

// sample appends to dst up to want peers drawn uniformly without
// replacement from the peers the asker may get, skipping the asker's own
// slot (asker is -1 if it is not in the swarm).
//
// The candidates are up to three whole partitions, one of which the
// asker's position may split in two; each run is shuffled in place on its
// own. Choosing at every step the run with probability proportional to how
// many undrawn peers it still has makes the draw uniform over the union.
func (s *swarm) sample(rng *rand.Rand, asker int32, fam Family, seed bool, k int, dst []tracker.Peer) []tracker.Peer {
	if k <= 0 {
		return dst
	}
	var lo, hi int // partitions [lo, hi]
	switch {
	case fam == FamilyIPv4 && seed:
		lo, hi = partLeech4, partLeech4
	case fam == FamilyIPv4:
		lo, hi = partSeed4, partLeech4
	case fam == FamilyIPv6 && seed:
		lo, hi = partLeech6, partLeech6
	case fam == FamilyIPv6:
		lo, hi = partLeech6, partSeed6
	case seed:
		lo, hi = partLeech4, partLeech6
	default:
		lo, hi = partSeed4, partSeed6
	}
	// runs[i] = [next, end): the undrawn part of a run of order.
	var runs [numParts + 1][2]int32
	nr, total := 0, 0
	askerPos := int32(-1)
	if asker >= 0 {
		askerPos = s.slab[asker].pos
	}
	addRun := func(a, b int32) {
		if a < b {
			runs[nr] = [2]int32{a, b}
			nr++
			total += int(b - a)
		}
	}
	for p := lo; p <= hi; p++ {
		a, b := s.bounds[p], s.bounds[p+1]
		if a <= askerPos && askerPos < b {
			addRun(a, askerPos)
			addRun(askerPos+1, b)
		} else {
			addRun(a, b)
		}
	}
	k = min(k, total)
	for ; k > 0; k-- {
		r := 0
		if nr > 1 {
			x := int32(rng.IntN(total))
			for x >= runs[r][1]-runs[r][0] {
				x -= runs[r][1] - runs[r][0]
				r++
			}
		}
		next, end := runs[r][0], runs[r][1]
		j := next
		if end-next > 1 {
			j = next + int32(rng.IntN(int(end-next)))
		}
		s.swap(next, j)
		e := &s.slab[s.order[next]]
		dst = append(dst, tracker.Peer{ID: e.id, Addr: e.key.addrPort()})
		runs[r][0]++
		total--
	}
	return dst
}
