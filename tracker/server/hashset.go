package server

import (
	"encoding/binary"
	"math/bits"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
)

// hashSet is the whitelist: a set of info hashes, looked up on every
// announce. It is an open-addressing table with linear probing that holds
// the hashes themselves, at most half full, so that a lookup usually reads
// one slot, one or two cache lines. A Go map of a thousand hashes makes
// several dependent loads (its header, directory, table and group) before
// it compares a key, each a likely cache miss when the tracker is busy:
// with bench/tracker.sh's whitelist of 1,000 hashes, the set took some 5%
// off BenchmarkUDPHandleCold.
//
// Slots are chosen by a hash keyed with a random secret: the hashes
// looked up are the clients' choice, and the listed ones may be too (a
// site that lists its users' uploads), so an unkeyed table could be made
// to probe long runs.
type hashSet struct {
	slots   []metainfo.Hash // the all-zero hash marks an empty slot
	hasZero bool            // whether the all-zero hash is a member
	k0, k1  uint64
}

func newHashSet(hashes []metainfo.Hash, key [16]byte) *hashSet {
	s := &hashSet{
		slots: make([]metainfo.Hash, 1<<bits.Len(uint(2*len(hashes)))),
		k0:    binary.LittleEndian.Uint64(key[:8]),
		k1:    binary.LittleEndian.Uint64(key[8:]),
	}
	for i := range hashes {
		h := &hashes[i]
		if *h == (metainfo.Hash{}) {
			s.hasZero = true
			continue
		}
		m := uint64(len(s.slots) - 1)
		j := s.hash(h) & m
		for s.slots[j] != (metainfo.Hash{}) && s.slots[j] != *h {
			j = (j + 1) & m
		}
		s.slots[j] = *h
	}
	return s
}

func (s *hashSet) hash(h *metainfo.Hash) uint64 { return tracker.HashInfoHash(h, s.k0, s.k1) }

func (s *hashSet) has(h *metainfo.Hash) bool {
	if *h == (metainfo.Hash{}) {
		return s.hasZero
	}
	m := uint64(len(s.slots) - 1)
	for j := s.hash(h) & m; ; j = (j + 1) & m {
		switch s.slots[j] {
		case *h:
			return true
		case metainfo.Hash{}:
			return false
		}
	}
}
