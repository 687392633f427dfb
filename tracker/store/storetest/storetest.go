package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
	"github.com/swarmlab/swarmlab/tracker/store"
)

// Opener returns a new, empty store configured with opts. It should
// register the store's Close with t.Cleanup.
type Opener func(t *testing.T, opts store.Options) store.Store

// Run runs the conformance suite against stores made by open.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"AnnounceAndRefresh", testAnnounceAndRefresh},
		{"Stopped", testStopped},
		{"Completed", testCompleted},
		{"SeedsGetOnlyLeechers", testSeedsGetOnlyLeechers},
		{"NeverAskerNoRepeats", testNeverAskerNoRepeats},
		{"NumWant", testNumWant},
		{"Uniform", testUniform},
		{"Compact", testCompact},
		{"CompactUniform", testCompactUniform},
		{"Families", testFamilies},
		{"AddressIdentifiesPeer", testAddressIdentifiesPeer},
		{"Expire", testExpire},
		{"Scrape", testScrape},
		{"Limits", testLimits},
		{"Totals", testTotals},
		{"Concurrent", testConcurrent},
		{"Closed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// t0 is the suite's epoch; times are t0 plus whole seconds.
var t0 = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

func hash(i int) metainfo.Hash {
	var h metainfo.Hash
	h[0] = byte(i)
	h[1] = byte(i >> 8)
	h[19] = 0xAB
	return h
}

func peerID(i int) tracker.PeerID {
	var id tracker.PeerID
	copy(id[:], fmt.Sprintf("-SL0001-%012d", i))
	return id
}

// addr4 and addr6 give peer i a distinct loopback-looking address and port.
func addr4(i int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, byte(i >> 8), byte(i)}), uint16(10000+i))
}

func addr6(i int) netip.AddrPort {
	b := netip.IPv6Loopback().As16()
	b[12], b[13] = byte(i>>8), byte(i)
	return netip.AddrPortFrom(netip.AddrFrom16(b), uint16(20000+i))
}

func leech(h metainfo.Hash, i int) store.Announce {
	return store.Announce{InfoHash: h, PeerID: peerID(i), Addr: addr4(i), NumWant: 50}
}

func seed(h metainfo.Hash, i int) store.Announce {
	a := leech(h, i)
	a.Seed = true
	return a
}

func announce(t *testing.T, s store.Store, a store.Announce, now time.Time) store.Result {
	t.Helper()
	res, err := s.Announce(context.Background(), a, now, nil)
	if err != nil {
		t.Fatalf("announce %v from %v: %v", a.Event, a.Addr, err)
	}
	return res
}

func addrs(ps []tracker.Peer) map[netip.AddrPort]tracker.PeerID {
	m := make(map[netip.AddrPort]tracker.PeerID, len(ps))
	for _, p := range ps {
		m[p.Addr] = p.ID
	}
	return m
}

func checkCounts(t *testing.T, what string, r store.Result, complete, incomplete, downloaded int) {
	t.Helper()
	if r.Complete != complete || r.Incomplete != incomplete || r.Downloaded != downloaded {
		t.Errorf("%s: complete/incomplete/downloaded = %d/%d/%d, want %d/%d/%d",
			what, r.Complete, r.Incomplete, r.Downloaded, complete, incomplete, downloaded)
	}
}

func testAnnounceAndRefresh(t *testing.T, open Opener) {
	s := open(t, store.Options{Seed: 1})
	h := hash(1)
	r := announce(t, s, leech(h, 1), at(0))
	checkCounts(t, "first", r, 0, 1, 0)
	if len(r.Peers) != 0 {
		t.Errorf("first peer got %v, want no peers", r.Peers)
	}
	r = announce(t, s, leech(h, 2), at(1))
	checkCounts(t, "second", r, 0, 2, 0)
	if got := addrs(r.Peers); len(got) != 1 || got[addr4(1)] != peerID(1) {
		t.Errorf("second peer got %v, want peer 1 with its id", r.Peers)
	}
	r = announce(t, s, leech(h, 1), at(2))
	checkCounts(t, "refresh", r, 0, 2, 0)
	if got := addrs(r.Peers); len(got) != 1 || got[addr4(2)] != peerID(2) {
		t.Errorf("refresh got %v, want peer 2", r.Peers)
	}
	// Peers are appended to dst, not written over it.
	dst := []tracker.Peer{{Addr: addr4(99)}}
	r2, err := s.Announce(context.Background(), leech(h, 1), at(3), dst)
	if err != nil {
		t.Fatal(err)
	}
	if len(r2.Peers) != 2 || r2.Peers[0].Addr != addr4(99) || r2.Peers[1].Addr != addr4(2) {
		t.Errorf("with dst: got %v, want dst's peer then peer 2", r2.Peers)
	}
}

func testStopped(t *testing.T, open Opener) {
	s := open(t, store.Options{Seed: 1})
	h := hash(2)
	announce(t, s, leech(h, 1), at(0))
	announce(t, s, seed(h, 2), at(0))
	stop := leech(h, 2)
	stop.Event = tracker.EventStopped
	r := announce(t, s, stop, at(1))
	checkCounts(t, "after stop", r, 0, 1, 0)
	if len(r.Peers) != 0 {
		t.Errorf("stopping peer got peers %v", r.Peers)
	}
	if r = announce(t, s, leech(h, 1), at(2)); len(r.Peers) != 0 {
		t.Errorf("stopped peer still handed out: %v", r.Peers)
	}
	// Stopping an unknown peer, or in an unknown swarm, is not an error.
	stop.Addr = addr4(77)
	announce(t, s, stop, at(3))
	stop.InfoHash = hash(200)
	r = announce(t, s, stop, at(3))
	checkCounts(t, "stop in unknown swarm", r, 0, 0, 0)
	st, err := s.Scrape(context.Background(), []metainfo.Hash{hash(200)}, nil)
	if err != nil || len(st) != 1 || st[0] != (tracker.ScrapeStats{}) {
		t.Errorf("stop created a swarm: %v %v", st, err)
	}
}

func testCompleted(t *testing.T, open Opener) {
	s := open(t, store.Options{Seed: 1})
	h := hash(3)
	announce(t, s, leech(h, 1), at(0))
	announce(t, s, leech(h, 2), at(0))
	done := seed(h, 1)
	done.Event = tracker.EventCompleted
	r := announce(t, s, done, at(1))
	checkCounts(t, "completed", r, 1, 1, 1)
	// A repeated "completed" (a retry after a lost response) counts once.
	r = announce(t, s, done, at(2))
	checkCounts(t, "completed again", r, 1, 1, 1)
	// A peer new to the tracker that reports completion counts.
	fresh := seed(h, 3)
	fresh.Event = tracker.EventCompleted
	r = announce(t, s, fresh, at(3))
	checkCounts(t, "completed from new peer", r, 2, 1, 2)
	// The count survives the peers leaving.
	for _, i := range []int{1, 3} {
		stop := seed(h, i)
		stop.Event = tracker.EventStopped
		announce(t, s, stop, at(4))
	}
	st, err := s.Scrape(context.Background(), []metainfo.Hash{h}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := (tracker.ScrapeStats{Complete: 0, Downloaded: 2, Incomplete: 1}); st[0] != want {
		t.Errorf("scrape %+v, want %+v", st[0], want)
	}
	// A seed that goes back to leeching (data lost) moves back.
	r = announce(t, s, leech(h, 2), at(5))
	checkCounts(t, "leecher refresh", r, 0, 1, 2)
	announce(t, s, seed(h, 2), at(6))
	r = announce(t, s, leech(h, 2), at(7))
	checkCounts(t, "seed back to leecher", r, 0, 1, 2)
}

func testSeedsGetOnlyLeechers(t *testing.T, open Opener) {
	s := open(t, store.Options{Seed: 1})
	h := hash(4)
	for i := 1; i <= 3; i++ {
		announce(t, s, seed(h, i), at(0))
		announce(t, s, leech(h, 10+i), at(0))
	}
	r := announce(t, s, seed(h, 1), at(1))
	checkCounts(t, "seed", r, 3, 3, 0)
	got := addrs(r.Peers)
	if len(got) != 3 {
		t.Errorf("seed got %d peers %v, want the 3 leechers", len(got), r.Peers)
	}
	for i := 11; i <= 13; i++ {
		if _, ok := got[addr4(i)]; !ok {
			t.Errorf("seed's peers %v lack leecher %v", r.Peers, addr4(i))
		}
	}
	r = announce(t, s, leech(h, 11), at(1))
	got = addrs(r.Peers)
	if len(got) != 5 {
		t.Errorf("leecher got %v, want the 3 seeds and 2 other leechers", r.Peers)
	}
	if _, ok := got[addr4(11)]; ok {
		t.Errorf("leecher got itself")
	}
	// A swarm of seeds only gives a seed nothing.
	h2 := hash(5)
	announce(t, s, seed(h2, 1), at(0))
	if r = announce(t, s, seed(h2, 2), at(0)); len(r.Peers) != 0 {
		t.Errorf("seed got seeds %v", r.Peers)
	}
}

func testNeverAskerNoRepeats(t *testing.T, open Opener) {
	s := open(t, store.Options{Seed: 1})
	h := hash(6)
	const n = 40
	for i := 0; i < n; i++ {
		if i%3 == 0 {
			announce(t, s, seed(h, i), at(0))
		} else {
			announce(t, s, leech(h, i), at(0))
		}
	}
	for round := 0; round < 20; round++ {
		for i := 0; i < n; i++ {
			a := leech(h, i)
			if i%3 == 0 {
				a = seed(h, i)
			}
			a.NumWant = 10
			r := announce(t, s, a, at(1+round))
			if len(r.Peers) != 10 {
				t.Fatalf("peer %d got %d peers, want 10", i, len(r.Peers))
			}
			seen := map[netip.AddrPort]bool{}
			for _, p := range r.Peers {
				if p.Addr == a.Addr {
					t.Fatalf("peer %d was given itself", i)
				}
				if seen[p.Addr] {
					t.Fatalf("peer %d was given %v twice: %v", i, p.Addr, r.Peers)
				}
				seen[p.Addr] = true
				j := int(p.Addr.Port()) - 10000
				if a.Seed && j%3 == 0 {
					t.Fatalf("seed %d was given seed %d", i, j)
				}
				if p.ID != peerID(j) {
					t.Fatalf("peer at %v has id %q, want %q", p.Addr, p.ID, peerID(j))
				}
			}
		}
	}
}

func testNumWant(t *testing.T, open Opener) {
	s := open(t, store.Options{Seed: 1})
	h := hash(7)
	for i := 0; i < 10; i++ {
		announce(t, s, leech(h, i), at(0))
	}
	for _, tc := range []struct{ want, got int }{{0, 0}, {1, 1}, {3, 3}, {9, 9}, {10, 9}, {1000, 9}} {
		a := leech(h, 0)
		a.NumWant = tc.want
		if r := announce(t, s, a, at(1)); len(r.Peers) != tc.got {
			t.Errorf("numwant %d: got %d peers, want %d", tc.want, len(r.Peers), tc.got)
		}
	}
}

// testUniform draws 3 of 9 candidates 3000 times: each should appear about
// 1000 times. The bounds are more than ten standard deviations wide, so a
// fair sampler never fails, while one that favours the first, newest or
// oldest peers does.
func testUniform(t *testing.T, open Opener) {
	checkUniform(t, open, hash(8), func(s store.Store, a store.Announce) []netip.AddrPort {
		var out []netip.AddrPort
		for _, p := range announce(t, s, a, at(1)).Peers {
			out = append(out, p.Addr)
		}
		return out
	})
}

// testCompactUniform is testUniform through AnnounceCompact.
func testCompactUniform(t *testing.T, open Opener) {
	var buf []byte
	checkUniform(t, open, hash(16), func(s store.Store, a store.Announce) []netip.AddrPort {
		a.Family = store.FamilyIPv4
		_, out, err := s.AnnounceCompact(context.Background(), a, at(1), buf[:0])
		if err != nil {
			t.Fatal(err)
		}
		buf = out
		return compactPeers(t, out, store.FamilyIPv4)
	})
}

// checkUniform fills swarm h with 10 leechers and has them ask for 3 peers
// each, 3000 times in all, through draw.
func checkUniform(t *testing.T, open Opener, h metainfo.Hash, draw func(store.Store, store.Announce) []netip.AddrPort) {
	s := open(t, store.Options{Seed: 7})
	for i := 0; i < 10; i++ {
		announce(t, s, leech(h, i), at(0))
	}
	count := map[netip.AddrPort]int{}
	const draws = 3000
	for d := 0; d < draws; d++ {
		a := leech(h, d%10)
		a.NumWant = 3
		for _, p := range draw(s, a) {
			count[p]++
		}
	}
	// Each peer is absent from its own draws (a tenth), so each is
	// expected in 3000 * 9/10 * 3/9 = 900 samples.
	for i := 0; i < 10; i++ {
		if c := count[addr4(i)]; c < 600 || c > 1200 {
			t.Errorf("peer %d drawn %d times, want about 900 (counts %v)", i, c, count)
		}
	}
}

func testFamilies(t *testing.T, open Opener) {
	s := open(t, store.Options{Seed: 1})
	h := hash(9)
	for i := 1; i <= 3; i++ {
		announce(t, s, leech(h, i), at(0))
		a := leech(h, i)
		a.Addr = addr6(i)
		announce(t, s, a, at(0))
	}
	// An IPv4-mapped IPv6 address is an IPv4 peer.
	mapped := leech(h, 4)
	mapped.Addr = netip.AddrPortFrom(netip.AddrFrom16(addr4(4).Addr().As16()), addr4(4).Port())
	announce(t, s, mapped, at(0))
	for _, tc := range []struct {
		fam          store.Family
		seed         bool
		want4, want6 int
	}{
		{store.FamilyAny, false, 4, 3},
		{store.FamilyIPv4, false, 4, 0},
		{store.FamilyIPv6, false, 0, 3},
		{store.FamilyIPv4, true, 4, 0},
		{store.FamilyIPv6, true, 0, 3},
		{store.FamilyAny, true, 4, 3},
	} {
		a := leech(h, 50)
		a.Seed, a.Family = tc.seed, tc.fam
		r := announce(t, s, a, at(1))
		n4, n6 := 0, 0
		for _, p := range r.Peers {
			if p.Addr.Addr().Is4() {
				n4++
			} else if p.Addr.Addr().Is6() && !p.Addr.Addr().Is4In6() {
				n6++
			}
		}
		if n4 != tc.want4 || n6 != tc.want6 {
			t.Errorf("family %d seed %v: got %d IPv4 and %d IPv6 peers, want %d and %d (%v)",
				tc.fam, tc.seed, n4, n6, tc.want4, tc.want6, r.Peers)
		}
		stop := a
		stop.Event = tracker.EventStopped
		announce(t, s, stop, at(1))
	}
	if got := addrs(announce(t, s, leech(h, 1), at(2)).Peers); got[addr4(4)] != peerID(4) {
		t.Errorf("mapped peer not returned as plain IPv4 %v: %v", addr4(4), got)
	}
}

func testAddressIdentifiesPeer(t *testing.T, open Opener) {
	s := open(t, store.Options{Seed: 1})
	h := hash(10)
	announce(t, s, leech(h, 1), at(0))
	// Same address, new peer id (a restarted client): the same entry.
	a := leech(h, 1)
	a.PeerID = peerID(500)
	r := announce(t, s, a, at(1))
	checkCounts(t, "same address", r, 0, 1, 0)
	// Same peer id, other port: another entry.
	b := leech(h, 1)
	b.Addr = netip.AddrPortFrom(b.Addr.Addr(), 9)
	r = announce(t, s, b, at(2))
	checkCounts(t, "other port", r, 0, 2, 0)
	if got := addrs(r.Peers); got[addr4(1)] != peerID(500) {
		t.Errorf("refresh did not update the peer id: %v", r.Peers)
	}
}

func testExpire(t *testing.T, open Opener) {
	s := open(t, store.Options{Seed: 1})
	ctx := context.Background()
	h := hash(11)
	announce(t, s, leech(h, 1), at(0))
	announce(t, s, leech(h, 2), at(5))
	announce(t, s, seed(hash(12), 3), at(0))
	n, err := s.Expire(ctx, at(-1))
	if err != nil || n != 0 {
		t.Fatalf("Expire before any announce removed %d, %v", n, err)
	}
	// A peer seen exactly at the cutoff stays.
	if n, err = s.Expire(ctx, at(0)); err != nil || n != 0 {
		t.Fatalf("Expire at the oldest announce removed %d, %v", n, err)
	}
	// Peer 1 refreshes at 8: only peer 3 and its swarm go.
	announce(t, s, leech(h, 1), at(8))
	if n, err = s.Expire(ctx, at(7)); err != nil || n != 2 {
		t.Fatalf("Expire(7) removed %d, %v; want 2 (peer 2 at 5, peer 3 at 0)", n, err)
	}
	st, err := s.Scrape(ctx, []metainfo.Hash{h, hash(12)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st[0] != (tracker.ScrapeStats{Incomplete: 1}) || st[1] != (tracker.ScrapeStats{}) {
		t.Errorf("after expiry scrape = %+v", st)
	}
	tot, err := s.Totals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tot.Swarms != 1 || tot.Peers != 1 {
		t.Errorf("after expiry totals = %+v, want 1 swarm, 1 peer", tot)
	}
	if r := announce(t, s, leech(h, 9), at(9)); len(r.Peers) != 1 || r.Peers[0].Addr != addr4(1) {
		t.Errorf("after expiry got %v, want only peer 1", r.Peers)
	}
	// Many peers in one swarm, half of them stale.
	h3 := hash(13)
	for i := 0; i < 200; i++ {
		announce(t, s, leech(h3, i), at(100+i%2))
	}
	// The cutoff also takes swarm h's two peers (seen at 8 and 9).
	if n, err = s.Expire(ctx, at(101)); err != nil || n != 102 {
		t.Fatalf("Expire removed %d, %v; want 102", n, err)
	}
	r := announce(t, s, leech(h3, 1), at(102))
	if r.Incomplete != 100 || len(r.Peers) != 50 {
		t.Errorf("after expiry: %d leechers, %d peers returned", r.Incomplete, len(r.Peers))
	}
	for _, p := range r.Peers {
		if (int(p.Addr.Port())-10000)%2 == 0 {
			t.Errorf("expired peer %v returned", p.Addr)
		}
	}
}

func testScrape(t *testing.T, open Opener) {
	s := open(t, store.Options{Seed: 1})
	announce(t, s, leech(hash(20), 1), at(0))
	announce(t, s, seed(hash(20), 2), at(0))
	announce(t, s, seed(hash(21), 1), at(0))
	dst := []tracker.ScrapeStats{{Complete: 42}}
	st, err := s.Scrape(context.Background(), []metainfo.Hash{hash(21), hash(22), hash(20)}, dst)
	if err != nil {
		t.Fatal(err)
	}
	want := []tracker.ScrapeStats{{Complete: 42}, {Complete: 1}, {}, {Complete: 1, Incomplete: 1}}
	if len(st) != len(want) {
		t.Fatalf("scrape returned %d stats, want %d", len(st), len(want))
	}
	for i := range want {
		if st[i] != want[i] {
			t.Errorf("stats[%d] = %+v, want %+v", i, st[i], want[i])
		}
	}
	if st, err = s.Scrape(context.Background(), nil, nil); err != nil || len(st) != 0 {
		t.Errorf("empty scrape = %v, %v", st, err)
	}
}

func testLimits(t *testing.T, open Opener) {
	s := open(t, store.Options{Seed: 1, Limits: store.Limits{MaxSwarms: 2, MaxPeersPerSwarm: 3, MaxPeers: 5}})
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		announce(t, s, leech(hash(30), i), at(0))
	}
	_, err := s.Announce(ctx, leech(hash(30), 3), at(0), nil)
	if !errors.Is(err, store.ErrSwarmFull) || !store.IsFull(err) {
		t.Errorf("4th peer in a swarm of 3: err %v, want ErrSwarmFull", err)
	}
	// Known peers still refresh and change state in a full swarm.
	r := announce(t, s, seed(hash(30), 0), at(1))
	checkCounts(t, "refresh in full swarm", r, 1, 2, 0)
	announce(t, s, leech(hash(31), 0), at(0))
	announce(t, s, leech(hash(31), 1), at(0))
	_, err = s.Announce(ctx, leech(hash(31), 2), at(0), nil)
	if !errors.Is(err, store.ErrTooManyPeers) {
		t.Errorf("6th peer overall: err %v, want ErrTooManyPeers", err)
	}
	_, err = s.Announce(ctx, leech(hash(32), 0), at(0), nil)
	if !errors.Is(err, store.ErrTooManySwarms) {
		t.Errorf("3rd swarm: err %v, want ErrTooManySwarms", err)
	}
	// A refused announce leaves nothing behind.
	tot, err := s.Totals(ctx)
	if err != nil || tot.Swarms != 2 || tot.Peers != 5 {
		t.Errorf("totals %+v, %v; want 2 swarms, 5 peers", tot, err)
	}
	// Leaving makes room.
	stop := leech(hash(31), 0)
	stop.Event = tracker.EventStopped
	announce(t, s, stop, at(1))
	stop.Addr = addr4(1)
	announce(t, s, stop, at(1))
	announce(t, s, leech(hash(32), 0), at(2))
	// Expiring swarm 30's peers (last seen at 0 and 1) frees a swarm.
	if n, err := s.Expire(ctx, at(2)); err != nil || n != 3 {
		t.Fatalf("Expire removed %d, %v; want 3", n, err)
	}
	announce(t, s, leech(hash(33), 0), at(2))
}

func testTotals(t *testing.T, open Opener) {
	s := open(t, store.Options{Seed: 1})
	for i := 0; i < 5; i++ {
		for j := 0; j <= i; j++ {
			if j%2 == 0 {
				announce(t, s, seed(hash(40+i), j), at(0))
			} else {
				announce(t, s, leech(hash(40+i), j), at(0))
			}
		}
	}
	tot, err := s.Totals(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Swarm i has i+1 peers, ceil((i+1)/2) of them seeds.
	if want := (store.Totals{Swarms: 5, Peers: 15, Seeds: 9}); tot != want {
		t.Errorf("totals %+v, want %+v", tot, want)
	}
}

// testConcurrent hammers a few swarms from several goroutines; run with
// -race. Afterwards the counts the store reports must agree with each other
// and with what the goroutines left behind.
func testConcurrent(t *testing.T, open Opener) {
	s := open(t, store.Options{Seed: 1, Limits: store.Limits{MaxPeersPerSwarm: 1000}})
	ctx := context.Background()
	const workers, perWorker, swarms = 8, 300, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var buf []tracker.Peer
			for i := 0; i < perWorker; i++ {
				id := w*perWorker + i
				a := store.Announce{
					InfoHash: hash(60 + id%swarms), PeerID: peerID(id), Addr: addr4(id),
					Seed: id%4 == 0, NumWant: 20,
				}
				if id%2 == 0 {
					a.Addr = addr6(id)
				}
				res, err := s.Announce(ctx, a, at(i), buf[:0])
				if err != nil {
					errs <- err
					return
				}
				buf = res.Peers
				for _, p := range res.Peers {
					if p.Addr == a.Addr {
						errs <- fmt.Errorf("peer %d given itself", id)
						return
					}
				}
				if id%3 == 0 { // a third leave again
					a.Event = tracker.EventStopped
					if _, err := s.Announce(ctx, a, at(i), nil); err != nil {
						errs <- err
						return
					}
				}
				if i%50 == 0 {
					if _, err := s.Scrape(ctx, []metainfo.Hash{hash(60), hash(61)}, nil); err != nil {
						errs <- err
						return
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	hs := make([]metainfo.Hash, swarms)
	for i := range hs {
		hs[i] = hash(60 + i)
	}
	st, err := s.Scrape(ctx, hs, nil)
	if err != nil {
		t.Fatal(err)
	}
	total := workers * perWorker
	wantPeers, wantSeeds := 0, 0
	for id := 0; id < total; id++ {
		if id%3 != 0 {
			wantPeers++
			if id%4 == 0 {
				wantSeeds++
			}
		}
	}
	gotPeers, gotSeeds := 0, 0
	for _, x := range st {
		gotPeers += x.Complete + x.Incomplete
		gotSeeds += x.Complete
	}
	if gotPeers != wantPeers || gotSeeds != wantSeeds {
		t.Errorf("scrape totals %d peers %d seeds, want %d and %d", gotPeers, gotSeeds, wantPeers, wantSeeds)
	}
	tot, err := s.Totals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tot.Peers != wantPeers || tot.Seeds != wantSeeds || tot.Swarms != swarms {
		t.Errorf("totals %+v, want %d peers %d seeds %d swarms", tot, wantPeers, wantSeeds, swarms)
	}
	// Everything expires.
	n, err := s.Expire(ctx, at(perWorker+1))
	if err != nil || n != wantPeers {
		t.Errorf("Expire removed %d, %v; want %d", n, err, wantPeers)
	}
	if tot, _ = s.Totals(ctx); tot != (store.Totals{}) {
		t.Errorf("after expiring all: %+v", tot)
	}
}

func testClosed(t *testing.T, open Opener) {
	s := open(t, store.Options{Seed: 1})
	announce(t, s, leech(hash(70), 1), at(0))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := s.Announce(context.Background(), leech(hash(70), 2), at(1), nil); err == nil {
		t.Errorf("Announce after Close succeeded")
	}
	// Close is idempotent: the opener's cleanup closes it again.
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// compactPeers decodes a compact peer list of the given family, failing
// on a length that is not a whole number of entries.
func compactPeers(t *testing.T, b []byte, fam store.Family) []netip.AddrPort {
	t.Helper()
	size := 6
	if fam == store.FamilyIPv6 {
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

// testCompact checks AnnounceCompact against the rules Announce follows:
// the same counts, peers appended to dst in the asked family's compact
// form, never the asker, no repeats, seeds get only leechers, a stopping
// peer gets none; and a compact announce without a single family is
// refused without being recorded.
func testCompact(t *testing.T, open Opener) {
	s := open(t, store.Options{Seed: 1})
	ctx := context.Background()
	h := hash(14)
	seeds := map[netip.AddrPort]bool{}
	for i := 0; i < 30; i++ {
		a := leech(h, i)
		if i%2 == 0 {
			a.Addr = addr6(i)
		}
		a.Seed = i%3 == 0
		announce(t, s, a, at(0))
		seeds[a.Addr] = a.Seed
	}
	for _, tc := range []struct {
		fam  store.Family
		seed bool
		want int // peers of the family the asker may get
	}{
		{store.FamilyIPv4, false, 15},
		{store.FamilyIPv4, true, 10},
		{store.FamilyIPv6, false, 15},
		{store.FamilyIPv6, true, 10},
	} {
		for _, numWant := range []int{0, 4, 50} {
			a := leech(h, 40)
			a.Addr = addr4(40)
			if tc.fam == store.FamilyIPv6 {
				a.Addr = addr6(40)
			}
			a.Seed, a.Family, a.NumWant = tc.seed, tc.fam, numWant
			dst := []byte("head")
			res, out, err := s.AnnounceCompact(ctx, a, at(1), dst)
			if err != nil {
				t.Fatalf("family %d seed %v: %v", tc.fam, tc.seed, err)
			}
			if string(out[:4]) != "head" || res.Peers != nil {
				t.Fatalf("family %d: dst not appended to, or Peers set", tc.fam)
			}
			complete, incomplete := 10, 21
			if tc.seed {
				complete, incomplete = 11, 20
			}
			checkCounts(t, "compact", res, complete, incomplete, 0)
			got := compactPeers(t, out[4:], tc.fam)
			if len(got) != min(numWant, tc.want) {
				t.Errorf("family %d seed %v numwant %d: %d peers, want %d",
					tc.fam, tc.seed, numWant, len(got), min(numWant, tc.want))
			}
			seen := map[netip.AddrPort]bool{}
			for _, p := range got {
				seed, ok := seeds[p]
				switch {
				case !ok:
					t.Fatalf("family %d: returned %v, not in the swarm", tc.fam, p)
				case seen[p]:
					t.Fatalf("family %d: %v twice", tc.fam, p)
				case tc.seed && seed:
					t.Fatalf("seed given seed %v", p)
				case store.FamilyOf(p.Addr()) != tc.fam:
					t.Fatalf("family %d given %v", tc.fam, p)
				}
				seen[p] = true
			}
			stop := a
			stop.Event = tracker.EventStopped
			res, out, err = s.AnnounceCompact(ctx, stop, at(1), nil)
			if err != nil || len(out) != 0 {
				t.Fatalf("stop: %d bytes of peers, %v", len(out), err)
			}
			checkCounts(t, "compact stop", res, 10, 20, 0)
		}
	}
	a := leech(hash(15), 1)
	if _, _, err := s.AnnounceCompact(ctx, a, at(2), nil); err == nil {
		t.Errorf("compact announce with FamilyAny accepted")
	}
	st, err := s.Scrape(ctx, []metainfo.Hash{hash(15)}, nil)
	if err != nil || st[0] != (tracker.ScrapeStats{}) {
		t.Errorf("refused compact announce recorded: %v %v", st, err)
	}
}
