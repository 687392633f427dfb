package server

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
	"github.com/swarmlab/swarmlab/tracker/store"
)

var local = netip.MustParseAddr("127.0.0.1")

func newServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConfigValidation(t *testing.T) {
	for _, cfg := range []Config{
		{Interval: time.Millisecond},
		{Interval: time.Minute, MinInterval: 2 * time.Minute},
		{Interval: time.Minute, PeerTTL: time.Second},
		{NumWant: 10, MaxNumWant: 5},
		{Keys: []string{"has space"}},
		{Keys: []string{""}},
		{MaxHTTPConns: -1},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	s := newServer(t, Config{Interval: 5 * time.Second})
	c := s.Config()
	if c.MinInterval != 2500*time.Millisecond || c.PeerTTL != 10*time.Second || c.NumWant != DefaultNumWant ||
		c.ExpireEvery != 2500*time.Millisecond {
		t.Errorf("defaults: %+v", c)
	}
}

// TestAPIAnnounce drives the logic in-process, as the lab does.
func TestAPIAnnounce(t *testing.T) {
	s := newServer(t, Config{Interval: 5 * time.Second, NumWant: 3, MaxNumWant: 4})
	ctx := context.Background()
	h := ih(1)
	var resp tracker.AnnounceResponse
	for i := 0; i < 10; i++ {
		req := announceReq(h, i, 100)
		if err := s.Announce(ctx, Origin{Remote: local}, &req, t0, &resp); err != nil {
			t.Fatal(err)
		}
	}
	if resp.Interval != 5*time.Second || resp.MinInterval != 2500*time.Millisecond || resp.Incomplete != 10 {
		t.Errorf("response %+v", resp)
	}
	// Seed 001's shape: 3 peers at random without repeats, never the asker.
	req := announceReq(h, 0, 100)
	if err := s.Announce(ctx, Origin{Remote: local}, &req, t0, &resp); err != nil {
		t.Fatal(err)
	}
	seen := map[netip.AddrPort]bool{}
	for _, p := range resp.Peers {
		if p.Addr.Port() == req.Port || seen[p.Addr] || p.Addr.Addr() != local {
			t.Errorf("bad peer list %v", resp.Peers)
		}
		seen[p.Addr] = true
	}
	if len(resp.Peers) != 3 {
		t.Errorf("default numwant: got %d peers, want 3", len(resp.Peers))
	}
	req.NumWant = 100
	if err := s.Announce(ctx, Origin{Remote: local}, &req, t0, &resp); err != nil || len(resp.Peers) != 4 {
		t.Errorf("numwant 100 with max 4: %d peers, %v", len(resp.Peers), err)
	}
	req.NumWant = 0
	if err := s.Announce(ctx, Origin{Remote: local}, &req, t0, &resp); err != nil || len(resp.Peers) != 0 {
		t.Errorf("numwant 0: %d peers, %v", len(resp.Peers), err)
	}
	// The ip parameter is ignored unless allowed.
	req = announceReq(h, 50, 100)
	req.IP = netip.MustParseAddr("10.9.9.9")
	if err := s.Announce(ctx, Origin{Remote: local}, &req, t0, &resp); err != nil {
		t.Fatal(err)
	}
	st, _ := s.Scrape(ctx, Origin{}, []metainfo.Hash{h}, nil)
	if st[0].Incomplete != 11 {
		t.Errorf("scrape %+v", st)
	}
	other := announceReq(h, 51, 100)
	other.NumWant = 50
	if err := s.Announce(ctx, Origin{Remote: local}, &other, t0, &resp); err != nil {
		t.Fatal(err)
	}
	for _, p := range resp.Peers {
		if p.Addr.Addr() != local {
			t.Errorf("peer recorded at the address it named: %v", p.Addr)
		}
	}
	// No address at all is refused.
	if err := s.Announce(ctx, Origin{}, &req, t0, &resp); err == nil {
		t.Errorf("announce without a remote address accepted")
	}
}

func TestAllowIPOverride(t *testing.T) {
	s := newServer(t, Config{AllowIPOverride: true})
	ctx := context.Background()
	var resp tracker.AnnounceResponse
	req := announceReq(ih(1), 1, 100)
	req.IP = netip.MustParseAddr("127.0.0.9")
	if err := s.Announce(ctx, Origin{Remote: local}, &req, t0, &resp); err != nil {
		t.Fatal(err)
	}
	req2 := announceReq(ih(1), 2, 100)
	if err := s.Announce(ctx, Origin{Remote: local}, &req2, t0, &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.Peers) != 1 || resp.Peers[0].Addr.Addr() != req.IP {
		t.Errorf("got %v, want the peer at %v", resp.Peers, req.IP)
	}
}

func TestAccess(t *testing.T) {
	ctx := context.Background()
	var resp tracker.AnnounceResponse
	s := newServer(t, Config{Whitelist: []metainfo.Hash{ih(1)}, Keys: []string{"alice", "bob"}})
	for _, tc := range []struct {
		key  string
		h    metainfo.Hash
		kind string
	}{
		{"alice", ih(1), ""},
		{"bob", ih(1), ""},
		{"", ih(1), KindUnauthorized},
		{"mallory", ih(1), KindUnauthorized},
		{unknownKey, ih(1), KindUnauthorized},
		{"alice", ih(2), KindUnregistered},
	} {
		req := announceReq(tc.h, 1, 0)
		err := s.Announce(ctx, Origin{Remote: local, Key: tc.key}, &req, t0, &resp)
		var f *Failure
		switch {
		case tc.kind == "" && err != nil:
			t.Errorf("key %q hash %v: %v", tc.key, tc.h, err)
		case tc.kind != "" && (!errors.As(err, &f) || f.Kind != tc.kind):
			t.Errorf("key %q hash %v: err %v, want kind %s", tc.key, tc.h, err, tc.kind)
		}
	}
	// Scrape: keys are checked; unlisted hashes read as empty.
	st, err := s.Scrape(ctx, Origin{Key: "alice"}, []metainfo.Hash{ih(1), ih(2)}, nil)
	if err != nil || st[0].Complete != 1 || st[1] != (tracker.ScrapeStats{}) {
		t.Errorf("scrape %+v, %v", st, err)
	}
	if _, err := s.Scrape(ctx, Origin{}, []metainfo.Hash{ih(1)}, nil); err == nil {
		t.Errorf("scrape without a key accepted")
	}
	if got := metricValue(t, s, "swarmlab_tracker_errors_total", "proto", "api", "kind", KindUnauthorized); got != 4 {
		t.Errorf("unauthorized errors counted %v, want 4", got)
	}
	// An empty whitelist refuses everything.
	s2 := newServer(t, Config{Whitelist: []metainfo.Hash{}})
	req := announceReq(ih(1), 1, 0)
	if err := s2.Announce(ctx, Origin{Remote: local}, &req, t0, &resp); err == nil {
		t.Errorf("empty whitelist accepted an announce")
	}
}

func TestScrapeLimits(t *testing.T) {
	s := newServer(t, Config{})
	ctx := context.Background()
	if _, err := s.Scrape(ctx, Origin{}, nil, nil); err == nil {
		t.Errorf("full scrape accepted")
	}
	if _, err := s.Scrape(ctx, Origin{}, make([]metainfo.Hash, MaxScrapeHashes+1), nil); err == nil {
		t.Errorf("oversized scrape accepted")
	}
}

// TestExpiry checks expiry by TTL with the time passed in, both called
// directly and through the sweep Serve runs off ExpireTicks.
func TestExpiry(t *testing.T) {
	ticks := make(chan time.Time)
	ts := startServer(t, Config{Interval: 5 * time.Second, PeerTTL: 10 * time.Second, ExpireTicks: ticks},
		ListenConfig{HTTP: "127.0.0.1:0"})
	ctx := context.Background()
	var resp tracker.AnnounceResponse
	h := ih(7)
	for i, at := range []time.Duration{0, 4 * time.Second, 8 * time.Second} {
		req := announceReq(h, i, 100)
		if err := ts.Announce(ctx, Origin{Remote: local}, &req, t0.Add(at), &resp); err != nil {
			t.Fatal(err)
		}
	}
	incomplete := func() int {
		st, err := ts.Scrape(ctx, Origin{}, []metainfo.Hash{h}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return st[0].Incomplete
	}
	// At t0+10s nobody is older than the TTL.
	if n, err := ts.Expire(ctx, t0.Add(10*time.Second)); err != nil || n != 0 || incomplete() != 3 {
		t.Fatalf("expire at +10s removed %d (%v), %d left", n, err, incomplete())
	}
	if n, err := ts.Expire(ctx, t0.Add(10*time.Second+time.Nanosecond)); err != nil || n != 1 || incomplete() != 2 {
		t.Fatalf("expire at +10s+1ns removed %d (%v), %d left", n, err, incomplete())
	}
	// Through the sweep: the loop handles one tick at a time, so once a
	// second send is accepted the first tick's sweep has finished.
	ticks <- t0.Add(14*time.Second + 1)
	ticks <- t0.Add(14*time.Second + 1)
	if got := incomplete(); got != 1 {
		t.Errorf("after the sweep at +14s: %d peers, want 1", got)
	}
	if got := metricValue(t, ts.Server, "swarmlab_tracker_expired_peers_total"); got != 2 {
		t.Errorf("expired counter %v, want 2", got)
	}
	// A stopped peer goes at once.
	req := announceReq(h, 2, 100)
	req.Event = tracker.EventStopped
	if err := ts.Announce(ctx, Origin{Remote: local}, &req, t0.Add(15*time.Second), &resp); err != nil {
		t.Fatal(err)
	}
	if got := incomplete(); got != 0 {
		t.Errorf("after stopped: %d peers", got)
	}
}

// TestCaps floods the logic with announces for new swarms and new peers:
// the store stops at its limits and says why.
func TestCaps(t *testing.T) {
	s := newServer(t, Config{StoreLimits: store.Limits{MaxSwarms: 100, MaxPeersPerSwarm: 50, MaxPeers: 1000}})
	ctx := context.Background()
	var resp tracker.AnnounceResponse
	full := 0
	for i := 0; i < 5000; i++ {
		req := announceReq(ih(i%300), i, 100)
		err := s.Announce(ctx, Origin{Remote: local}, &req, t0, &resp)
		var f *Failure
		switch {
		case err == nil:
		case errors.As(err, &f) && f.Kind == KindFull && strings.Contains(f.Reason, "full"):
			full++
		default:
			t.Fatalf("announce %d: %v", i, err)
		}
	}
	tot, err := s.Store().Totals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tot.Swarms > 100 || tot.Peers > 1000 || full == 0 {
		t.Errorf("after the flood: %+v, %d refused", tot, full)
	}
	if got := metricValue(t, s, "swarmlab_tracker_errors_total", "proto", "api", "kind", KindFull); int(got) != full {
		t.Errorf("full errors counted %v, want %d", got, full)
	}
	if got := metricValue(t, s, "swarmlab_tracker_peers", "state", "leecher"); int(got) != tot.Peers {
		t.Errorf("peers gauge %v, want %d", got, tot.Peers)
	}
}
