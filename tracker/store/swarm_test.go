package store

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/internal/splitmix"
	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
)

// check verifies a set's invariants: parallel arrays of one length, the
// seed boundary within them, distinct keys, and an index (present exactly
// when the set has outgrown scanLimit, or has not yet shrunk below half of
// it) that maps every key to its position.
func (s *peerSet[K]) check(t *testing.T) {
	t.Helper()
	n := len(s.keys)
	if len(s.meta) != n {
		t.Fatalf("%d keys, %d meta", n, len(s.meta))
	}
	if s.seeds < 0 || int(s.seeds) > n {
		t.Fatalf("%d seeds of %d peers", s.seeds, n)
	}
	seen := make(map[K]bool, n)
	for i, k := range s.keys {
		if seen[k] {
			t.Fatalf("key %v twice", k)
		}
		seen[k] = true
		if s.index != nil {
			if got := s.index.find(s.keys, &k); got != int32(i) {
				t.Fatalf("index finds %v at %d, want %d", k, got, i)
			}
		}
	}
	if s.index != nil {
		used := 0
		for _, e := range s.index {
			if e != 0 {
				used++
			}
		}
		if used != n || s.index.full(n) {
			t.Fatalf("index of %d slots has %d in use for %d peers", len(s.index), used, n)
		}
	}
	if s.index == nil && n > s.scanLimit() {
		t.Fatalf("%d peers without an index", n)
	}
	if s.index != nil && n < s.scanLimit()/2 {
		t.Fatalf("index kept for %d peers", n)
	}
}

// check verifies a swarm table's invariants: its count, its load, and
// that every swarm is found from its info hash.
func (st *swarmTable) check(t *testing.T) {
	t.Helper()
	n := 0
	for i := range st.slots {
		sl := &st.slots[i]
		if sl.sw == nil {
			continue
		}
		n++
		if st.get(&sl.hash) != sl.sw {
			t.Fatalf("swarm %x in slot %d is not found", sl.hash[:4], i)
		}
	}
	if n != st.n {
		t.Fatalf("table holds %d swarms, counts %d", n, st.n)
	}
	if size := len(st.slots); 2*n > size || (size > minTableSlots && 8*n < size) {
		t.Fatalf("table of %d slots holds %d swarms", size, n)
	}
}

func (m *Memory) check(t *testing.T) {
	t.Helper()
	swarms, peers := 0, 0
	for i := range m.shards {
		m.shards[i].swarms.check(t)
		for _, sl := range m.shards[i].swarms.slots {
			h, sw := sl.hash, sl.sw
			if sw == nil {
				continue
			}
			sw.v4.check(t)
			if sw.v6 != nil {
				sw.v6.check(t)
				if sw.v6.len() == 0 {
					t.Fatalf("swarm %x keeps an empty IPv6 set", h[:4])
				}
			}
			if sw.len() == 0 {
				t.Fatalf("swarm %x is empty but kept", h[:4])
			}
			swarms++
			peers += sw.len()
		}
	}
	if int64(swarms) != m.swarms.Load() || int64(peers) != m.peers.Load() {
		t.Fatalf("%d swarms and %d peers, counters say %d and %d", swarms, peers, m.swarms.Load(), m.peers.Load())
	}
}

// modelPeer is what TestMemoryRandomOps expects the store to hold.
type modelPeer struct {
	seed bool
	id   tracker.PeerID
	last int64
}

func testAddr(i int) netip.AddrPort {
	if i%3 == 0 {
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 14: byte(i >> 8), 15: byte(i)}), uint16(1000+i))
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), uint16(1000+i))
}

// decodeCompact splits a compact peer list of family fam into addresses,
// failing on a length that is not a whole number of entries.
func decodeCompact(t *testing.T, b []byte, fam Family) []netip.AddrPort {
	t.Helper()
	size := 6
	if fam == FamilyIPv6 {
		size = 18
	}
	ps, err := tracker.AppendCompactPeers(nil, b, size)
	if err != nil {
		t.Fatalf("compact peers: %v", err)
	}
	out := make([]netip.AddrPort, len(ps))
	for i := range ps {
		out[i] = ps[i].Addr
	}
	return out
}

// TestMemoryRandomOps applies random announces (new peers, refreshes, seed
// and leecher changes, stops), compact and full, and expiries to a few
// swarms, and checks every reply and every invariant against a model.
func TestMemoryRandomOps(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := NewMemory(Options{Seed: 3})
	ctx := context.Background()
	hashes := []metainfo.Hash{{1}, {2}, {1, 1}} // two share a shard
	model := make([]map[netip.AddrPort]*modelPeer, len(hashes))
	for i := range model {
		model[i] = map[netip.AddrPort]*modelPeer{}
	}
	var full []tracker.Peer
	var compact []byte
	var indexed4, indexed6 bool
	for step := 0; step < 40000; step++ {
		hi := rng.IntN(len(hashes))
		// Mostly a swarm of up to 60 peers, sometimes up to 600, so sets
		// grow past scanLimit and shrink below it again.
		n := 60
		if step/3000%3 == 2 {
			n = 600
		}
		pi := rng.IntN(n)
		addr := testAddr(pi)
		a := Announce{InfoHash: hashes[hi], Addr: addr, Seed: rng.IntN(3) == 0, NumWant: rng.IntN(40)}
		a.PeerID[0], a.PeerID[1] = byte(step), byte(step>>8)
		now := int64(step)
		if op := rng.IntN(20); op == 0 {
			cut := int64(step - 2000)
			if _, err := m.Expire(ctx, time.Unix(0, cut)); err != nil {
				t.Fatal(err)
			}
			for _, mp := range model {
				for k, p := range mp {
					if p.last < cut {
						delete(mp, k)
					}
				}
			}
			m.check(t)
			continue
		} else if op < 5 {
			a.Event = tracker.EventStopped
		}
		var got []netip.AddrPort
		var res Result
		var err error
		switch rng.IntN(3) {
		case 0:
			a.Family = Family(rng.IntN(3))
			res, err = m.Announce(ctx, a, time.Unix(0, now), full[:0])
			full = res.Peers
			for _, p := range res.Peers {
				got = append(got, p.Addr)
				if mp := model[hi][p.Addr]; mp == nil || mp.id != p.ID {
					t.Fatalf("step %d: returned %v with id %x, model has %+v", step, p.Addr, p.ID[:2], mp)
				}
			}
		default:
			a.Family = FamilyIPv4 + Family(rng.IntN(2))
			compact = append(compact[:0], "head"...)
			res, compact, err = m.AnnounceCompact(ctx, a, time.Unix(0, now), compact)
			if string(compact[:4]) != "head" {
				t.Fatalf("step %d: dst overwritten", step)
			}
			got = decodeCompact(t, compact[4:], a.Family)
		}
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		// The model after the announce.
		mp := model[hi]
		if a.Event == tracker.EventStopped {
			delete(mp, addr)
		} else {
			mp[addr] = &modelPeer{seed: a.Seed, id: a.PeerID, last: now}
		}
		seeds, cands := 0, 0
		for k, p := range mp {
			if p.seed {
				seeds++
			}
			if k != addr && (!a.Seed || !p.seed) && (a.Family == FamilyAny || FamilyOf(k.Addr()) == a.Family) {
				cands++
			}
		}
		if res.Complete != seeds || res.Incomplete != len(mp)-seeds {
			t.Fatalf("step %d: counts %d/%d, model %d/%d", step, res.Complete, res.Incomplete, seeds, len(mp)-seeds)
		}
		want := min(a.NumWant, cands)
		if a.Event == tracker.EventStopped {
			want = 0
		}
		if len(got) != want {
			t.Fatalf("step %d: %d peers, want %d", step, len(got), want)
		}
		seen := map[netip.AddrPort]bool{}
		for _, g := range got {
			p := mp[g]
			switch {
			case p == nil:
				t.Fatalf("step %d: returned %v, not in the swarm", step, g)
			case g == addr:
				t.Fatalf("step %d: asker given itself", step)
			case seen[g]:
				t.Fatalf("step %d: %v twice", step, g)
			case a.Seed && p.seed:
				t.Fatalf("step %d: seed given seed %v", step, g)
			case a.Family != FamilyAny && FamilyOf(g.Addr()) != a.Family:
				t.Fatalf("step %d: family %d given %v", step, a.Family, g)
			}
			seen[g] = true
		}
		m.check(t)
		for i := range m.shards {
			for _, sl := range m.shards[i].swarms.slots {
				sw := sl.sw
				if sw == nil {
					continue
				}
				indexed4 = indexed4 || sw.v4.index != nil
				indexed6 = indexed6 || (sw.v6 != nil && sw.v6.index != nil)
			}
		}
	}
	if !indexed4 || !indexed6 {
		t.Errorf("sets never grew an index (IPv4 %v, IPv6 %v)", indexed4, indexed6)
	}
}

// TestSetShrink checks that a set that shrank gives its memory back.
func TestSetShrink(t *testing.T) {
	var s peerSet[addr4]
	for i := 0; i < 1000; i++ {
		s.insert(addr4Of(testAddr(3*i+1)), tracker.PeerID{}, i%2 == 0, int64(i))
	}
	if n := s.expire(990); n != 990 {
		t.Fatalf("expired %d, want 990", n)
	}
	s.check(t)
	if cap(s.keys) > 100 || cap(s.meta) > 100 {
		t.Errorf("after shrinking to 10 peers: capacities %d %d", cap(s.keys), cap(s.meta))
	}
	for i, m := range s.meta {
		last := m.last
		if last < 990 || (int(s.seeds) > i) != (last%2 == 0) {
			t.Errorf("position %d: last %d, seeds %d", i, last, s.seeds)
		}
	}
}

// chiSquareLimit is a bound a chi-square statistic with df degrees of
// freedom exceeds with probability far below 1e-6 (six standard deviations
// of its normal approximation, plus slack for small df). The tests use
// fixed seeds, so they are deterministic; the bound only has to be one a
// fair sampler keeps and a biased one does not.
func chiSquareLimit(df int) float64 { return float64(df) + 6*math.Sqrt(2*float64(df)) + 10 }

func chiSquare(obs []int, exp float64) float64 {
	x := 0.0
	for _, o := range obs {
		d := float64(o) - exp
		x += d * d / exp
	}
	return x
}

// TestPickUniform checks that the picker's samples are uniform as ordered
// samples, in both of its regimes: every candidate equally likely at every
// place of the output, and every pair of candidates equally likely to be
// drawn together. The pair test catches samplers whose marginals are fair
// but whose sets are not, such as a random window of consecutive
// candidates.
func TestPickUniform(t *testing.T) {
	for _, tc := range []struct {
		n, k, draws int
		small       bool // pick8 rather than picker.pick
	}{
		{12, 5, 40000, false},    // shuffle
		{12, 12, 40000, false},   // a whole swarm, in random order
		{40, 3, 100000, false},   // hash set
		{300, 8, 200000, false},  // hash set, a larger swarm
		{900, 240, 2000, false},  // shuffle in the shard's scratch
		{2000, 200, 6000, false}, // hash set in the shard's scratch
		{12, 5, 40000, true},     // shuffle
		{12, 12, 40000, true},    // a whole swarm, in random order
		{40, 3, 100000, true},    // bit set
		{100, 24, 20000, true},   // bit set, at its limit
		{256, 8, 200000, true},   // bit set, the largest swarm
		{256, 100, 8000, true},   // shuffle, the largest swarm
	} {
		name := "pick"
		if tc.small {
			name = "pick8"
		}
		t.Run(fmt.Sprintf("%s-n%d-k%d", name, tc.n, tc.k), func(t *testing.T) {
			r := rng{splitmix.Mix(uint64(tc.n*1000 + tc.k))}
			var small [stackPicks]int32
			var big []int32
			p := picker{rng: &r, small: &small, big: &big}
			var buf [smallPicks]uint8
			picks := make([]int32, 0, tc.k)
			place := make([]int, tc.n*tc.k)
			pairs := make([]int, tc.n*tc.n)
			for d := 0; d < tc.draws; d++ {
				if tc.small {
					picks = picks[:0]
					for _, v := range pick8(&r, &buf, tc.n, tc.k) {
						picks = append(picks, int32(v))
					}
				} else {
					picks = p.pick(tc.n, tc.k)
				}
				if len(picks) != tc.k {
					t.Fatalf("%d picks, want %d", len(picks), tc.k)
				}
				for j, v := range picks {
					if v < 0 || int(v) >= tc.n {
						t.Fatalf("pick %d out of range", v)
					}
					place[int(v)*tc.k+j]++
					for _, w := range picks[:j] {
						if w == v {
							t.Fatalf("%d picked twice in %v", v, picks)
						}
						lo, hi := min(v, w), max(v, w)
						pairs[int(lo)*tc.n+int(hi)]++
					}
				}
			}
			if x, df := chiSquare(place, float64(tc.draws)/float64(tc.n)), tc.n*tc.k-1; x > chiSquareLimit(df) {
				t.Errorf("candidate by place: chi-square %.0f with %d degrees of freedom", x, df)
			}
			if tc.k < 2 || tc.n > 100 {
				return // too few draws per pair to test
			}
			var upper []int
			for i := 0; i < tc.n; i++ {
				upper = append(upper, pairs[i*tc.n+i+1:(i+1)*tc.n]...)
			}
			exp := float64(tc.draws) * float64(tc.k*(tc.k-1)) / float64(tc.n*(tc.n-1))
			if x, df := chiSquare(upper, exp), len(upper)-1; x > chiSquareLimit(df) {
				t.Errorf("pairs: chi-square %.0f with %d degrees of freedom", x, df)
			}
		})
	}
}

// TestAnnounceUniform checks uniformity end to end, through the spans that
// leave out the asker and, for seeds, other seeds, and across both
// families: a swarm of IPv4 and IPv6 seeds and leechers, sampled by askers
// of each kind, full and compact.
func TestAnnounceUniform(t *testing.T) {
	m := NewMemory(Options{Seed: 11})
	ctx := context.Background()
	h := metainfo.Hash{7}
	now := time.Unix(1e9, 0)
	kinds := map[netip.AddrPort]bool{} // address → seed
	for i := 0; i < 40; i++ {
		a := Announce{InfoHash: h, Addr: testAddr(i), Seed: i%4 == 1 || i%5 == 0}
		if _, err := m.Announce(ctx, a, now, nil); err != nil {
			t.Fatal(err)
		}
		kinds[a.Addr] = a.Seed
	}
	for _, tc := range []struct {
		name    string
		asker   int // index of the asking peer, or -1 for one not in the swarm
		seed    bool
		fam     Family
		compact bool
		k       int
	}{
		{"leecher-any", 2, false, FamilyAny, false, 7},
		{"seed-any", 1, true, FamilyAny, false, 4},
		{"outsider-any", -1, false, FamilyAny, false, 30},
		{"leecher-v4-compact", 2, false, FamilyIPv4, true, 5},
		{"seed-v6-compact", 0, true, FamilyIPv6, true, 2},
		{"leecher-v6-compact", 3, false, FamilyIPv6, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := Announce{InfoHash: h, Seed: tc.seed, NumWant: tc.k, Family: tc.fam}
			a.Addr = netip.MustParseAddrPort("192.0.2.1:1")
			if tc.asker >= 0 {
				a.Addr = testAddr(tc.asker)
			}
			count := map[netip.AddrPort]int{}
			cands := 0
			for addr, seed := range kinds {
				if addr != a.Addr && !(tc.seed && seed) && (tc.fam == FamilyAny || FamilyOf(addr.Addr()) == tc.fam) {
					count[addr] = 0
					cands++
				}
			}
			const draws = 20000
			var full []tracker.Peer
			var compact []byte
			for d := 0; d < draws; d++ {
				var got []netip.AddrPort
				if tc.compact {
					_, out, err := m.AnnounceCompact(ctx, a, now, compact[:0])
					if err != nil {
						t.Fatal(err)
					}
					compact = out
					got = decodeCompact(t, out, tc.fam)
				} else {
					res, err := m.Announce(ctx, a, now, full[:0])
					if err != nil {
						t.Fatal(err)
					}
					full = res.Peers
					for _, p := range res.Peers {
						got = append(got, p.Addr)
					}
				}
				if len(got) != min(tc.k, cands) {
					t.Fatalf("got %d peers, want %d", len(got), min(tc.k, cands))
				}
				for _, g := range got {
					if _, ok := count[g]; !ok {
						t.Fatalf("%v is not a candidate", g)
					}
					count[g]++
				}
			}
			obs := make([]int, 0, len(count))
			for _, c := range count {
				obs = append(obs, c)
			}
			exp := float64(draws*min(tc.k, cands)) / float64(cands)
			if x, df := chiSquare(obs, exp), cands-1; df > 0 && x > chiSquareLimit(df) {
				t.Errorf("%d candidates: chi-square %.0f with %d degrees of freedom (counts %v)", cands, x, df, count)
			}
			if tc.asker < 0 {
				stop := a
				stop.Event = tracker.EventStopped
				if _, err := m.Announce(ctx, stop, now, nil); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestAnnounceCompactFamily checks that a compact announce must name one
// family, and that refusing it records nothing.
func TestAnnounceCompactFamily(t *testing.T) {
	m := NewMemory(Options{Seed: 1})
	a := Announce{InfoHash: metainfo.Hash{1}, Addr: testAddr(1), NumWant: 5}
	if _, _, err := m.AnnounceCompact(context.Background(), a, time.Unix(1, 0), nil); err == nil {
		t.Fatal("FamilyAny accepted")
	}
	if tot, _ := m.Totals(context.Background()); tot != (Totals{}) {
		t.Fatalf("refused announce recorded: %+v", tot)
	}
}

// TestPeerSetRandomOps inserts, removes, expires and flips peers between
// seed and leecher in one set of each family, checking positions, the
// index and the seed boundary against a model after every step.
func TestPeerSetRandomOps(t *testing.T) {
	// testAddr gives IPv4 and IPv6 addresses; each set takes its family's
	// bytes of them, IPv6 ones as IPv4-mapped when they are IPv4.
	t.Run("IPv4", func(t *testing.T) {
		testPeerSetRandomOps(t, func(ap netip.AddrPort) addr4 {
			if !ap.Addr().Is4() {
				ap = netip.AddrPortFrom(netip.AddrFrom4([4]byte(ap.Addr().AsSlice()[12:])), ap.Port())
			}
			return addr4Of(ap)
		})
	})
	t.Run("IPv6", func(t *testing.T) { testPeerSetRandomOps(t, addr6Of) })
}

func testPeerSetRandomOps[K addrKey](t *testing.T, keyOf func(netip.AddrPort) K) {
	rng := rand.New(rand.NewPCG(5, 6))
	var s peerSet[K]
	model := map[K]modelPeer{}
	for step := 0; step < 20000; step++ {
		// The population swings between a handful and a few hundred.
		n := 8 + step/2000%4*150
		i := rng.IntN(n)
		k := keyOf(testAddr(i))
		pos := s.find(k)
		if _, ok := model[k]; ok != (pos >= 0) {
			t.Fatalf("step %d: find %d, in model %v", step, pos, ok)
		}
		switch op := rng.IntN(10); {
		case op < 5:
			seed := rng.IntN(2) == 0
			if pos < 0 {
				pos = s.insert(k, tracker.PeerID{}, seed, int64(step))
			} else {
				s.meta[pos].last = int64(step)
				pos = s.setSeed(pos, seed)
			}
			model[k] = modelPeer{seed: seed, last: int64(step)}
			if s.keys[pos] != k || (pos < s.seeds) != seed {
				t.Fatalf("step %d: peer at %d, seeds %d", step, pos, s.seeds)
			}
		case op < 9:
			if pos >= 0 {
				s.remove(pos)
				delete(model, k)
			}
		default:
			cut := int64(step - 300)
			want := 0
			for mk, p := range model {
				if p.last < cut {
					delete(model, mk)
					want++
				}
			}
			if n := s.expire(cut); n != want {
				t.Fatalf("step %d: expired %d peers, want %d", step, n, want)
			}
			for i := range s.meta {
				if s.meta[i].last < cut {
					t.Fatalf("step %d: peer last seen %d kept at cutoff %d", step, s.meta[i].last, cut)
				}
			}
		}
		s.check(t)
		if len(model) != s.len() {
			t.Fatalf("step %d: %d peers, model %d", step, s.len(), len(model))
		}
		for i := range s.keys {
			p, ok := model[s.keys[i]]
			if !ok || p.seed != (int32(i) < s.seeds) {
				t.Fatalf("step %d: peer at %d on the wrong side of %d seeds", step, i, s.seeds)
			}
			if s.meta[i].last != p.last {
				t.Fatalf("step %d: peer at %d last seen %d, model %d: meta moved apart from keys", step, i, s.meta[i].last, p.last)
			}
		}
	}
}
