package store

import (
	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
)

// swarmTable maps a shard's info hashes to their swarms. It is an
// open-addressing hash table with linear probing whose slots hold the info
// hash beside the swarm's pointer, so that an announce finds its swarm
// with one probe into the table, usually one cache line, and then the
// swarm. A Go map takes more dependent loads before the swarm: its header,
// then its group's control word, then the slot. In a busy tracker the
// memory is mostly cold when an announce arrives (the kernel's networking
// and other swarms' announces have run since this swarm was last touched),
// and each dependent load is then a cache miss that nothing overlaps: the
// table took some 6% off BenchmarkUDPHandleCold, where the warm
// benchmarks show no difference.
//
// The slot is found by a keyed hash of the info hash, as in posIndex:
// clients name the info hashes, and could otherwise pile a shard's swarms
// into one probe chain. The table is kept at most half full, which keeps
// probe chains short, and shrinks when it falls below an eighth.
type swarmTable struct {
	slots []swarmSlot // length a power of two, or nil when empty
	n     int
}

type swarmSlot struct {
	hash metainfo.Hash
	sw   *swarm // nil: the slot is empty
}

const minTableSlots = 8

// hashInfo places an info hash in the table, keyed with hashKey.
func hashInfo(h *metainfo.Hash) uint64 { return tracker.HashInfoHash(h, hashKey[0], hashKey[1]) }

func (t *swarmTable) len() int { return t.n }

// get returns the swarm of h, or nil.
func (t *swarmTable) get(h *metainfo.Hash) *swarm {
	if t.n == 0 {
		return nil
	}
	m := uint64(len(t.slots) - 1)
	for i := hashInfo(h) & m; ; i = (i + 1) & m {
		s := &t.slots[i]
		if s.sw == nil || s.hash == *h {
			return s.sw
		}
	}
}

// put adds sw as the swarm of h, which the table must not hold.
func (t *swarmTable) put(h *metainfo.Hash, sw *swarm) {
	if 2*(t.n+1) > len(t.slots) {
		t.resize(max(minTableSlots, 2*len(t.slots)))
	}
	t.insert(h, sw)
	t.n++
}

func (t *swarmTable) insert(h *metainfo.Hash, sw *swarm) {
	m := uint64(len(t.slots) - 1)
	i := hashInfo(h) & m
	for t.slots[i].sw != nil {
		i = (i + 1) & m
	}
	t.slots[i] = swarmSlot{hash: *h, sw: sw}
}

// remove drops h's swarm, if any.
func (t *swarmTable) remove(h *metainfo.Hash) {
	if t.n == 0 {
		return
	}
	m := uint64(len(t.slots) - 1)
	for i := hashInfo(h) & m; t.slots[i].sw != nil; i = (i + 1) & m {
		if t.slots[i].hash == *h {
			t.removeAt(i)
			t.shrink()
			return
		}
	}
}

// removeAt empties slot i. As in posIndex.remove, linear probing needs no
// tombstones: the entries after the hole that could no longer be reached
// from their home slot are shifted back into it. An entry may therefore
// move into slot i, or from the table's start to its end, which is what
// each must allow for.
func (t *swarmTable) removeAt(i uint64) {
	m := uint64(len(t.slots) - 1)
	hole := i
	for j := (hole + 1) & m; t.slots[j].sw != nil; j = (j + 1) & m {
		home := hashInfo(&t.slots[j].hash) & m
		if (j-home)&m >= (j-hole)&m {
			t.slots[hole] = t.slots[j]
			hole = j
		}
	}
	t.slots[hole] = swarmSlot{}
	t.n--
}

// shrink gives back the memory of a table that has fallen below an eighth
// full, so that a burst of swarms long gone does not pin memory.
func (t *swarmTable) shrink() {
	size := len(t.slots)
	for size > minTableSlots && 8*t.n < size {
		size /= 2
	}
	switch {
	case t.n == 0:
		t.slots = nil
	case size != len(t.slots):
		t.resize(size)
	}
}

func (t *swarmTable) resize(size int) {
	old := t.slots
	t.slots = make([]swarmSlot, size)
	for i := range old {
		if old[i].sw != nil {
			t.insert(&old[i].hash, old[i].sw)
		}
	}
}

// clear empties the table.
func (t *swarmTable) clear() { *t = swarmTable{} }

// each calls f with every swarm, and removes those for which it returns
// true. A removal shifts later entries back, possibly into the slot just
// visited, which is therefore visited again; and an entry near the
// table's start may shift to its end and be visited twice, which f must
// tolerate.
func (t *swarmTable) each(f func(sw *swarm) (remove bool)) {
	for i := 0; i < len(t.slots); {
		if sw := t.slots[i].sw; sw != nil && f(sw) {
			t.removeAt(uint64(i))
			continue
		}
		i++
	}
	t.shrink()
}
