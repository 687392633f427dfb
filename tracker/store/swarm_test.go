package store

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/swarmlab/swarmlab/tracker"
)

// check verifies a swarm's internal invariants: order and slab agree,
// partitions are where bounds say, free slots are free, and the index
// (when present) maps every live key to its slot.
func (s *swarm) check(t *testing.T) {
	t.Helper()
	if s.bounds[0] != 0 || int(s.bounds[numParts]) != len(s.order) {
		t.Fatalf("bounds %v for %d peers", s.bounds, len(s.order))
	}
	live := 0
	for p := 0; p < numParts; p++ {
		if s.bounds[p] > s.bounds[p+1] {
			t.Fatalf("bounds %v out of order", s.bounds)
		}
		for pos := s.bounds[p]; pos < s.bounds[p+1]; pos++ {
			e := &s.slab[s.order[pos]]
			if e.pos != pos || int(e.part) != p {
				t.Fatalf("slot %d at %d in partition %d says pos %d part %d", s.order[pos], pos, p, e.pos, e.part)
			}
			if s.index != nil && s.index[e.key] != s.order[pos] {
				t.Fatalf("index maps %v to %d, want %d", e.key, s.index[e.key], s.order[pos])
			}
			if got := partitionOf(FamilyOf(e.key.addrPort().Addr()), isSeedPart(e.part)); got != e.part {
				t.Fatalf("peer %v in partition %d, belongs in %d", e.key.addrPort(), e.part, got)
			}
		}
	}
	for slot := range s.slab {
		if s.slab[slot].pos >= 0 {
			live++
		}
	}
	if live != len(s.order) || len(s.order)+len(s.free) != len(s.slab) {
		t.Fatalf("%d live slots, %d in order, %d free, %d in slab", live, len(s.order), len(s.free), len(s.slab))
	}
	if s.index != nil && len(s.index) != len(s.order) {
		t.Fatalf("index has %d keys for %d peers", len(s.index), len(s.order))
	}
	if s.index == nil && len(s.order) > smallSwarm {
		t.Fatalf("%d peers without an index", len(s.order))
	}
}

// TestSwarmRandomOps applies random inserts, state changes, removals,
// samples and expiries, checking the invariants after each.
func TestSwarmRandomOps(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := &swarm{}
	keys := make([]peerKey, 200)
	for i := range keys {
		a := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		if i%3 == 0 {
			a = netip.AddrFrom16([16]byte{0x20, 0x01, 15: byte(i)})
		}
		keys[i] = keyOf(netip.AddrPortFrom(a, uint16(1000+i)))
	}
	var buf []tracker.Peer
	for step := 0; step < 20000; step++ {
		k := keys[rng.IntN(len(keys))]
		slot := s.find(k)
		fam := FamilyOf(k.addrPort().Addr())
		switch op := rng.IntN(10); {
		case op < 4:
			part := partitionOf(fam, rng.IntN(2) == 0)
			if slot < 0 {
				slot = s.insert(k, tracker.PeerID{}, part, int64(step))
			} else {
				s.slab[slot].last = int64(step)
				s.move(slot, part)
			}
		case op < 6:
			if slot >= 0 {
				s.remove(slot)
				slot = -1
			}
		case op < 9:
			want := Family(rng.IntN(3))
			seed := rng.IntN(2) == 0
			buf = s.sample(rng, slot, want, seed, rng.IntN(30), buf[:0])
			seen := map[netip.AddrPort]bool{}
			for _, p := range buf {
				if seen[p.Addr] || (slot >= 0 && p.Addr == k.addrPort()) {
					t.Fatalf("step %d: repeat or self in %v", step, buf)
				}
				seen[p.Addr] = true
				pk := keyOf(p.Addr)
				e := &s.slab[s.find(pk)]
				if seed && isSeedPart(e.part) {
					t.Fatalf("step %d: seed given seed %v", step, p.Addr)
				}
				if want != FamilyAny && FamilyOf(p.Addr.Addr()) != want {
					t.Fatalf("step %d: family %d given %v", step, want, p.Addr)
				}
			}
		default:
			s.expire(int64(step - 500))
		}
		s.check(t)
	}
}

// TestSwarmCompact checks that a swarm that shrank gives its memory back.
func TestSwarmCompact(t *testing.T) {
	s := &swarm{}
	for i := 0; i < 1000; i++ {
		s.insert(keyOf(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 1)), tracker.PeerID{},
			partLeech4, int64(i))
	}
	if n := s.expire(990); n != 990 {
		t.Fatalf("expired %d, want 990", n)
	}
	s.check(t)
	if cap(s.slab) > 100 || len(s.free) != 0 {
		t.Errorf("after shrinking to 10 peers: slab cap %d, %d free", cap(s.slab), len(s.free))
	}
}
