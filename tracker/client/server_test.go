package client

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
	"github.com/swarmlab/swarmlab/tracker/server"
)

// realTracker runs swarmlab's tracker server on loopback for one test
// and returns its HTTP and UDP announce URLs.
func realTracker(t *testing.T) (httpURL, udpURL string) {
	t.Helper()
	s, err := server.New(server.Config{Interval: time.Minute, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	l, err := server.Listen(context.Background(), server.ListenConfig{HTTP: "127.0.0.1:0", UDP: "127.0.0.1:0", UDPSockets: 1})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(context.Background(), l) }()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("server Close: %v", err)
		}
		if err := <-done; !errors.Is(err, server.ErrClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + l.HTTPAddr().String() + "/announce", "udp://" + l.UDPAddr().String() + "/announce"
}

func TestAgainstTrackerServer(t *testing.T) {
	httpURL, udpURL := realTracker(t)
	for _, tc := range []struct{ name, url string }{{"http", httpURL}, {"udp", udpURL}} {
		t.Run(tc.name, func(t *testing.T) {
			h := ih(len(tc.name)) // a swarm of its own per protocol
			leecher := New(Config{PeerID: pid(1), Port: 10001, Timeout: -1})
			seeder := New(Config{PeerID: pid(2), Port: 10002, Timeout: -1})
			defer leecher.Close()
			defer seeder.Close()
			ctx := testCtx(t)
			announce := func(c *Client, ev tracker.Event, left int64) *tracker.AnnounceResponse {
				t.Helper()
				resp, err := c.Announce(ctx, tc.url, tracker.AnnounceRequest{
					InfoHash: h, Event: ev, Left: left, NumWant: tracker.NumWantDefault, Downloaded: 1000 - left,
				})
				if err != nil {
					t.Fatalf("announce %v: %v", ev, err)
				}
				return resp
			}
			scrape := func() tracker.ScrapeStats {
				t.Helper()
				stats, err := leecher.Scrape(ctx, tc.url, []metainfo.Hash{h, ih(200)})
				if err != nil {
					t.Fatalf("scrape: %v", err)
				}
				if stats[1] != (tracker.ScrapeStats{}) {
					t.Errorf("unknown swarm scraped as %+v", stats[1])
				}
				return stats[0]
			}

			r := announce(leecher, tracker.EventStarted, 1000)
			if r.Interval != time.Minute || r.Incomplete != 1 || r.Complete != 0 || len(r.Peers) != 0 {
				t.Errorf("first announce: %+v", r)
			}
			r = announce(seeder, tracker.EventStarted, 0)
			if r.Complete != 1 || r.Incomplete != 1 || len(r.Peers) != 1 || r.Peers[0].Addr != ap("127.0.0.1:10001") {
				t.Errorf("seeder's announce: %+v, want the leecher as its peer", r)
			}
			announce(leecher, tracker.EventCompleted, 0)
			if s := scrape(); s != (tracker.ScrapeStats{Complete: 2, Downloaded: 1}) {
				t.Errorf("after completed: %+v", s)
			}
			announce(seeder, tracker.EventStopped, 0)
			if s := scrape(); s != (tracker.ScrapeStats{Complete: 1, Downloaded: 1}) {
				t.Errorf("after stopped: %+v", s)
			}
		})
	}
}

// TestAnnouncerAgainstTrackerServer runs the whole stack: an Announcer
// over Tiers whose first tracker is dead, against the real server.
func TestAnnouncerAgainstTrackerServer(t *testing.T) {
	httpURL, udpURL := realTracker(t)
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	dead := "udp://" + pc.LocalAddr().String() + "/announce"
	pc.Close()

	c := newTestClient(t, Config{Port: 20000})
	tiers := NewTiers("", [][]string{{dead, udpURL}, {httpURL}}, nil)
	h := ih(77)
	prog := &progress{}
	prog.set(0, 0, 5000)
	timers := newFakeTimers()
	results := make(chan Result, 16)
	a := NewAnnouncer(AnnouncerConfig{
		Announce: tiers.AnnounceWith(c), InfoHash: h, Progress: prog.get, After: timers.After,
		OnAnnounce: func(r Result) { results <- r },
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()

	swarm := func() tracker.ScrapeStats {
		t.Helper()
		stats, err := c.Scrape(testCtx(t), httpURL, []metainfo.Hash{h})
		if err != nil {
			t.Fatal(err)
		}
		return stats[0]
	}
	expect := func(ev tracker.Event) Result {
		t.Helper()
		r := recv(t, results)
		if r.Event != ev || r.Err != nil {
			t.Fatalf("result %v %v, want %v", r.Event, r.Err, ev)
		}
		return r
	}

	r := expect(tracker.EventStarted)
	if r.Next != time.Minute {
		t.Errorf("next announce in %v, want the server's interval", r.Next)
	}
	if got := tiers.List()[0][0]; got != udpURL {
		t.Errorf("first tier starts with %s, want the UDP tracker that answered", got)
	}
	if s := swarm(); s != (tracker.ScrapeStats{Incomplete: 1}) {
		t.Errorf("after started: %+v", s)
	}
	// UDP carries no min interval: just the regular timer.
	prog.set(10, 2500, 2500)
	expectTimer(t, timers, time.Minute).fire()
	expect(tracker.EventNone)
	expectTimer(t, timers, time.Minute)

	prog.set(20, 5000, 0)
	a.Completed()
	expect(tracker.EventCompleted)
	if s := swarm(); s != (tracker.ScrapeStats{Complete: 1, Downloaded: 1}) {
		t.Errorf("after completed: %+v", s)
	}
	cancel()
	expect(tracker.EventStopped)
	if err := recv(t, done); err != nil {
		t.Errorf("Run: %v", err)
	}
	// The last peer left: the server drops the swarm, counts and all.
	if s := swarm(); s != (tracker.ScrapeStats{}) {
		t.Errorf("after stopped: %+v", s)
	}
}
