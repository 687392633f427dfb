package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
)

// watchdog bounds how long a test waits for something that should happen
// promptly. It is a guard against a hang turning into a stuck test run,
// not a synchronisation: every wait below is on an event.
const watchdog = 10 * time.Second

// fakeTimer is one timer a fakeTimers made; the test fires it.
type fakeTimer struct {
	d  time.Duration
	ch chan time.Time
}

func (ft *fakeTimer) fire() { ft.ch <- time.Time{} }

// fakeTimers is an After whose timers fire only when the test says. Each
// timer made is queued on armed, so a test learns that the code under test
// is now waiting, and for how long it means to wait.
type fakeTimers struct {
	armed chan *fakeTimer
	clock *fakeClock // if set, firing a timer first advances it by d
}

func newFakeTimers() *fakeTimers { return &fakeTimers{armed: make(chan *fakeTimer, 1024)} }

func (f *fakeTimers) After(d time.Duration) <-chan time.Time {
	ft := &fakeTimer{d: d, ch: make(chan time.Time, 1)}
	f.armed <- ft
	return ft.ch
}

// next returns the next timer armed, waiting for it.
func (f *fakeTimers) next(t *testing.T) *fakeTimer {
	t.Helper()
	select {
	case ft := <-f.armed:
		return ft
	case <-time.After(watchdog):
		t.Fatal("no timer was armed")
		return nil
	}
}

// elapse advances the clock (if any) by ft's duration and fires it, as
// if that much time had passed.
func (f *fakeTimers) elapse(ft *fakeTimer) {
	if f.clock != nil {
		f.clock.add(ft.d)
	}
	ft.fire()
}

// recv waits for a value on ch.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(watchdog):
		t.Fatal("nothing arrived")
		var zero T
		return zero
	}
}

// fakeClock is a settable Now.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) add(d time.Duration) { c.ns.Add(int64(d)) }

func ih(i int) metainfo.Hash {
	var h metainfo.Hash
	h[0], h[1], h[19] = byte(i), byte(i>>8), 0xAA
	return h
}

func pid(i int) tracker.PeerID {
	var id tracker.PeerID
	copy(id[:], fmt.Sprintf("-SL0001-%012d", i))
	return id
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// testRequest is a typical announce.
func testRequest() tracker.AnnounceRequest {
	return tracker.AnnounceRequest{
		InfoHash: ih(1), Uploaded: 100, Downloaded: 200, Left: 300,
		Event: tracker.EventStarted, NumWant: 30,
	}
}

// newTestClient returns a Client for tests: fixed identity, and no
// overall timeout unless the test sets one, so that the only timers are
// the ones under test.
func newTestClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	cfg.PeerID = pid(7)
	if cfg.Port == 0 {
		cfg.Port = 6881
	}
	if cfg.Key == 0 {
		cfg.Key = 0xC0FFEE
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = -1
	}
	c := New(cfg)
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

// testCtx is a context that ends with the test; a watchdog bounds it.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), watchdog)
	t.Cleanup(cancel)
	return ctx
}

// httpTracker is a fake HTTP tracker on loopback. reply answers each
// request; every request's URL and User-Agent are kept.
type httpTracker struct {
	srv   *httptest.Server
	mu    sync.Mutex
	reqs  []*http.Request
	reply func(w http.ResponseWriter, r *http.Request)
}

func newHTTPTracker(t *testing.T, reply func(w http.ResponseWriter, r *http.Request)) *httpTracker {
	t.Helper()
	ht := &httpTracker{reply: reply}
	ht.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ht.mu.Lock()
		ht.reqs = append(ht.reqs, r)
		reply := ht.reply
		ht.mu.Unlock()
		reply(w, r)
	}))
	t.Cleanup(ht.srv.Close)
	return ht
}

func (ht *httpTracker) setReply(reply func(w http.ResponseWriter, r *http.Request)) {
	ht.mu.Lock()
	ht.reply = reply
	ht.mu.Unlock()
}

func (ht *httpTracker) url(path string) string { return ht.srv.URL + path }

func (ht *httpTracker) requests() []*http.Request {
	ht.mu.Lock()
	defer ht.mu.Unlock()
	return slices.Clone(ht.reqs)
}

// announceWith answers announces with resp, in the model the request asks
// for.
func announceWith(resp tracker.AnnounceResponse) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := tracker.ParseAnnounceQuery(r.URL.RawQuery)
		if err != nil {
			_, _ = w.Write(tracker.AppendFailure(nil, err.Error()))
			return
		}
		_, _ = w.Write(tracker.AppendAnnounceResponse(nil, &resp, req.Compact, req.NoPeerID))
	}
}

// udpTracker is a fake BEP 15 tracker on loopback, built on the shared
// codecs. By default it issues connection ids 1, 2, 3…, refuses unknown
// ones, answers announces with resp and scrapes with numbers derived from
// each hash. hook, when set, sees each request first and may answer it
// itself (nil replies: drop it); n counts requests from 1.
type udpFake struct {
	conn *net.UDPConn
	v6   bool
	done chan struct{}

	mu     sync.Mutex
	nextID uint64
	ids    map[uint64]bool
	log    []tracker.UDPRequest
	resp   tracker.AnnounceResponse
	hook   func(req *tracker.UDPRequest, n int, from netip.AddrPort) (replies [][]byte, handled bool)

	got chan tracker.UDPRequest // every request, in order
}

func newUDPFake(t *testing.T, network, addr string) *udpFake {
	t.Helper()
	la, err := net.ResolveUDPAddr(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenUDP(network, la)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	f := &udpFake{
		conn: conn, v6: network == "udp6", done: make(chan struct{}),
		ids: make(map[uint64]bool), got: make(chan tracker.UDPRequest, 1024),
		resp: tracker.AnnounceResponse{Interval: 1800 * time.Second, Complete: 5, Incomplete: 7},
	}
	go f.serve()
	t.Cleanup(func() {
		conn.Close()
		<-f.done
	})
	return f
}

func (f *udpFake) url(path string) string { return "udp://" + f.conn.LocalAddr().String() + path }

func (f *udpFake) setHook(h func(req *tracker.UDPRequest, n int, from netip.AddrPort) ([][]byte, bool)) {
	f.mu.Lock()
	f.hook = h
	f.mu.Unlock()
}

func (f *udpFake) requests() []tracker.UDPRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.log)
}

// actions lists the actions of the requests received, as a compact
// string: "c" connect, "a" announce, "s" scrape.
func (f *udpFake) actions() string {
	s := ""
	for _, r := range f.requests() {
		s += string("cas?"[min(int(r.Action), 3)])
	}
	return s
}

// nextRequest waits for the next request the fake receives.
func (f *udpFake) nextRequest(t *testing.T) tracker.UDPRequest {
	t.Helper()
	select {
	case r := <-f.got:
		return r
	case <-time.After(watchdog):
		t.Fatal("fake UDP tracker received nothing")
		return tracker.UDPRequest{}
	}
}

func (f *udpFake) serve() {
	defer close(f.done)
	buf := make([]byte, 2048)
	for {
		n, from, err := f.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		var req tracker.UDPRequest
		perr := tracker.ParseUDPRequest(buf[:n], &req, 0)
		req.URLData = slices.Clone(req.URLData)
		req.InfoHashes = slices.Clone(req.InfoHashes)
		f.mu.Lock()
		f.log = append(f.log, req)
		count := len(f.log)
		hook := f.hook
		f.mu.Unlock()
		var replies [][]byte
		handled := false
		if hook != nil {
			replies, handled = hook(&req, count, from)
		}
		if !handled {
			replies = [][]byte{f.answer(&req, perr)}
		}
		for _, p := range replies {
			_, _ = f.conn.WriteToUDPAddrPort(p, from)
		}
		f.got <- req
	}
}

// answer is the fake's default reply to req.
func (f *udpFake) answer(req *tracker.UDPRequest, perr error) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	if perr != nil {
		return tracker.AppendUDPError(nil, req.TransactionID, perr.Error())
	}
	switch req.Action {
	case tracker.ActionConnect:
		f.nextID++
		f.ids[f.nextID] = true
		return tracker.AppendUDPConnectResponse(nil, req.TransactionID, f.nextID)
	case tracker.ActionAnnounce, tracker.ActionScrape:
		if !f.ids[req.ConnectionID] {
			return tracker.AppendUDPError(nil, req.TransactionID, "bad connection id")
		}
	}
	if req.Action == tracker.ActionScrape {
		stats := make([]tracker.ScrapeStats, len(req.InfoHashes))
		for i, h := range req.InfoHashes {
			stats[i] = scrapeStatsFor(h)
		}
		return tracker.AppendUDPScrapeResponse(nil, req.TransactionID, stats)
	}
	return tracker.AppendUDPAnnounceResponse(nil, req.TransactionID, &f.resp, f.v6)
}

// setPeers sets the peers announces get.
func (f *udpFake) setPeers(peers ...tracker.Peer) {
	f.mu.Lock()
	f.resp.Peers = peers
	f.mu.Unlock()
}

// forget makes the fake refuse every connection id issued so far, as a
// restarted tracker would.
func (f *udpFake) forget() {
	f.mu.Lock()
	clear(f.ids)
	f.mu.Unlock()
}

func scrapeStatsFor(h metainfo.Hash) tracker.ScrapeStats {
	return tracker.ScrapeStats{Complete: int(h[0]), Downloaded: int(h[1]) + 10, Incomplete: int(h[0]) + 1}
}
