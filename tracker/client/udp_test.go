package client

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"reflect"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
)

func TestUDPAnnounce(t *testing.T) {
	f := newUDPFake(t, "udp4", "127.0.0.1:0")
	f.setPeers(tracker.Peer{Addr: ap("10.1.2.3:4567")}, tracker.Peer{Addr: ap("[2001:db8::7]:99")}, tracker.Peer{Addr: ap("127.0.0.1:6881")})
	c := newTestClient(t, Config{})

	req := testRequest()
	req.Event = tracker.EventCompleted
	got, err := c.Announce(testCtx(t), f.url("/announce?pk=s3"), req)
	if err != nil {
		t.Fatal(err)
	}
	// The reply travels over IPv4: 6-byte peers, the IPv6 one left out.
	wantPeers := []tracker.Peer{{Addr: ap("10.1.2.3:4567")}, {Addr: ap("127.0.0.1:6881")}}
	if !reflect.DeepEqual(got.Peers, wantPeers) || got.Interval != 1800*time.Second ||
		got.Complete != 5 || got.Incomplete != 7 {
		t.Errorf("response %+v", got)
	}
	if a := f.actions(); a != "ca" {
		t.Fatalf("requests %q, want connect then announce", a)
	}
	r := f.requests()[1]
	a := r.Announce
	if a.InfoHash != ih(1) || a.PeerID != pid(7) || a.Port != 6881 || a.Key != 0xC0FFEE ||
		a.Uploaded != 100 || a.Downloaded != 200 || a.Left != 300 || a.Event != tracker.EventCompleted || a.NumWant != 30 {
		t.Errorf("announce as received: %+v", a)
	}
	if r.ConnectionID != 1 {
		t.Errorf("connection id %d, want the one issued (1)", r.ConnectionID)
	}
	if string(r.URLData) != "/announce?pk=s3" {
		t.Errorf("BEP 41 URL data %q", r.URLData)
	}
}

func TestUDPAnnounceIPv6(t *testing.T) {
	f := newUDPFake(t, "udp6", "[::1]:0")
	f.setPeers(tracker.Peer{Addr: ap("10.1.2.3:4567")}, tracker.Peer{Addr: ap("[2001:db8::7]:99")})
	c := newTestClient(t, Config{})
	got, err := c.Announce(testCtx(t), f.url(""), testRequest())
	if err != nil {
		t.Fatal(err)
	}
	// Over IPv6 peers are 18 bytes, and only IPv6 ones come.
	if want := []tracker.Peer{{Addr: ap("[2001:db8::7]:99")}}; !reflect.DeepEqual(got.Peers, want) {
		t.Errorf("peers %v, want %v", got.Peers, want)
	}
	if r := f.requests()[1]; len(r.URLData) != 0 {
		t.Errorf("URL data %q for a URL without a path", r.URLData)
	}
}

// dropAnnounces makes the fake drop the first k announces.
func dropAnnounces(f *udpFake, k int) {
	seen := 0
	f.setHook(func(req *tracker.UDPRequest, n int, from netip.AddrPort) ([][]byte, bool) {
		if req.Action != tracker.ActionAnnounce {
			return nil, false
		}
		seen++
		return nil, seen <= k
	})
}

func TestUDPRetransmitsAfterDrop(t *testing.T) {
	f := newUDPFake(t, "udp4", "127.0.0.1:0")
	dropAnnounces(f, 1)
	timers := newFakeTimers()
	c := newTestClient(t, Config{After: timers.After})
	errc := make(chan error, 1)
	go func() {
		_, err := c.Announce(testCtx(t), f.url(""), testRequest())
		errc <- err
	}()
	if ft := timers.next(t); ft.d != 15*time.Second { // waiting for the connect reply
		t.Errorf("connect timer %v, want BEP 15's 15s", ft.d)
	}
	f.nextRequest(t)                // connect, answered
	announceTimer := timers.next(t) // armed once the announce is out
	first := f.nextRequest(t)       // the announce, dropped
	if announceTimer.d != 15*time.Second {
		t.Errorf("announce timer %v, want 15s", announceTimer.d)
	}
	announceTimer.fire()
	second := f.nextRequest(t)
	if second.Action != tracker.ActionAnnounce || second.TransactionID != first.TransactionID {
		t.Errorf("retransmission: action %d tx %x, want the same announce (tx %x)", second.Action, second.TransactionID, first.TransactionID)
	}
	if ft := timers.next(t); ft.d != 30*time.Second {
		t.Errorf("second announce timer %v, want 30s (15·2^1)", ft.d)
	}
	if err := recv(t, errc); err != nil {
		t.Fatalf("announce after one drop: %v", err)
	}
	if a := f.actions(); a != "caa" {
		t.Errorf("requests %q", a)
	}
}

func TestUDPRetrySchedule(t *testing.T) {
	// A tracker that connects but never answers an announce: the client
	// must follow BEP 15's 15·2^n for n = 0..8, then give up.
	f := newUDPFake(t, "udp4", "127.0.0.1:0")
	dropAnnounces(f, 1000)
	timers := newFakeTimers()
	clock := newFakeClock() // does not move: the connection id stays fresh
	c := newTestClient(t, Config{After: timers.After, Now: clock.Now})
	errc := make(chan error, 1)
	go func() {
		_, err := c.Announce(testCtx(t), f.url(""), testRequest())
		errc <- err
	}()
	timers.next(t) // the connect's, never fired
	f.nextRequest(t)
	for n := range 9 {
		ft := timers.next(t)
		f.nextRequest(t)
		if want := 15 * time.Second << n; ft.d != want {
			t.Errorf("wait %d: %v, want %v", n, ft.d, want)
		}
		ft.fire()
	}
	if err := recv(t, errc); !errors.Is(err, ErrTimeout) {
		t.Errorf("error %v, want ErrTimeout", err)
	}
	if a := f.actions(); a != "caaaaaaaaa" {
		t.Errorf("requests %q, want a connect and 9 announces", a)
	}
	// The failure retired the socket and the id: the next announce
	// starts with a connect.
	dropAnnounces(f, 0)
	go func() {
		_, err := c.Announce(testCtx(t), f.url(""), testRequest())
		errc <- err
	}()
	if err := recv(t, errc); err != nil {
		t.Fatal(err)
	}
	if a := f.actions(); a != "caaaaaaaaaca" {
		t.Errorf("requests %q, want a fresh connect after the failure", a)
	}
}

func TestUDPReconnectsWhenIDExpiresWhileRetrying(t *testing.T) {
	f := newUDPFake(t, "udp4", "127.0.0.1:0")
	dropAnnounces(f, 3)
	clock := newFakeClock()
	timers := newFakeTimers()
	timers.clock = clock
	c := newTestClient(t, Config{After: timers.After, Now: clock.Now})
	errc := make(chan error, 1)
	go func() {
		_, err := c.Announce(testCtx(t), f.url(""), testRequest())
		errc <- err
	}()
	timers.next(t) // the connect's; answered, so no time passes
	f.nextRequest(t)
	// Announces wait 15, 30 and 60 s: at 105 s the id is past its
	// minute, so the fourth try must reconnect first.
	for range 3 {
		ft := timers.next(t)
		f.nextRequest(t)
		timers.elapse(ft)
	}
	if err := recv(t, errc); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if a := f.actions(); a != "caaaca" {
		t.Fatalf("requests %q, want a reconnect before the fourth announce", a)
	}
	if reqs[1].ConnectionID != 1 || reqs[3].ConnectionID != 1 || reqs[5].ConnectionID != 2 {
		t.Errorf("connection ids %d, %d, %d; want 1, 1, then the new 2", reqs[1].ConnectionID, reqs[3].ConnectionID, reqs[5].ConnectionID)
	}
}

func TestUDPConnectionIDReuse(t *testing.T) {
	f := newUDPFake(t, "udp4", "127.0.0.1:0")
	clock := newFakeClock()
	c := newTestClient(t, Config{Now: clock.Now})
	announce := func() {
		t.Helper()
		if _, err := c.Announce(testCtx(t), f.url(""), testRequest()); err != nil {
			t.Fatal(err)
		}
	}
	announce()
	clock.add(59 * time.Second)
	announce() // within the minute: no connect
	if a := f.actions(); a != "caa" {
		t.Fatalf("requests %q, want the id reused", a)
	}
	clock.add(time.Second)
	announce() // 60 s after it was received: expired
	if a := f.actions(); a != "caaca" {
		t.Fatalf("requests %q, want a reconnect after 60 s", a)
	}
	reqs := f.requests()
	if reqs[2].ConnectionID != 1 || reqs[4].ConnectionID != 2 {
		t.Errorf("ids %d, %d", reqs[2].ConnectionID, reqs[4].ConnectionID)
	}
}

func TestUDPErrorAction(t *testing.T) {
	f := newUDPFake(t, "udp4", "127.0.0.1:0")
	f.setHook(func(req *tracker.UDPRequest, n int, from netip.AddrPort) ([][]byte, bool) {
		if req.Action == tracker.ActionAnnounce {
			return [][]byte{tracker.AppendUDPError(nil, req.TransactionID, "torrent not registered")}, true
		}
		return nil, false
	})
	clock := newFakeClock()
	c := newTestClient(t, Config{Now: clock.Now})
	for range 2 {
		_, err := c.Announce(testCtx(t), f.url(""), testRequest())
		var fe *FailureError
		if !errors.As(err, &fe) || fe.Reason != "torrent not registered" {
			t.Fatalf("error %v, want the tracker's message as a FailureError", err)
		}
	}
	// An error drops the connection id, fresh as it was.
	if a := f.actions(); a != "caca" {
		t.Errorf("requests %q, want a connect before each announce", a)
	}
}

func TestUDPRefusedReusedIDGetsOneFreshTry(t *testing.T) {
	f := newUDPFake(t, "udp4", "127.0.0.1:0")
	clock := newFakeClock()
	c := newTestClient(t, Config{Now: clock.Now})
	if _, err := c.Announce(testCtx(t), f.url(""), testRequest()); err != nil {
		t.Fatal(err)
	}
	// The tracker restarts and forgets its ids: the cached one is
	// refused, the client reconnects once and succeeds.
	f.forget()
	clock.add(10 * time.Second)
	if _, err := c.Announce(testCtx(t), f.url(""), testRequest()); err != nil {
		t.Fatalf("after the tracker forgot the id: %v", err)
	}
	if a := f.actions(); a != "caaca" {
		t.Fatalf("requests %q, want announce (refused), connect, announce", a)
	}
	// A refusal that is not about the id comes back after that one
	// extra try, not in a loop.
	f.setHook(func(req *tracker.UDPRequest, n int, from netip.AddrPort) ([][]byte, bool) {
		if req.Action == tracker.ActionAnnounce {
			return [][]byte{tracker.AppendUDPError(nil, req.TransactionID, "banned")}, true
		}
		return nil, false
	})
	_, err := c.Announce(testCtx(t), f.url(""), testRequest())
	var fe *FailureError
	if !errors.As(err, &fe) || fe.Reason != "banned" {
		t.Fatalf("error %v", err)
	}
	if a := f.actions(); a != "caacaaca" {
		t.Errorf("requests %q", a)
	}
}

func TestUDPIgnoresStrays(t *testing.T) {
	f := newUDPFake(t, "udp4", "127.0.0.1:0")
	other, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	good := &tracker.AnnounceResponse{Interval: 99 * time.Second, Peers: []tracker.Peer{{Addr: ap("10.0.0.9:9")}}}
	bogus := &tracker.AnnounceResponse{Interval: time.Second, Peers: []tracker.Peer{{Addr: ap("6.6.6.6:666")}}}
	f.setHook(func(req *tracker.UDPRequest, n int, from netip.AddrPort) ([][]byte, bool) {
		if req.Action != tracker.ActionAnnounce {
			return nil, false
		}
		tx := req.TransactionID
		// A forged answer from another address: the connected socket
		// must not let it in.
		_, _ = other.WriteToUDPAddrPort(tracker.AppendUDPAnnounceResponse(nil, tx, bogus, false), from)
		return [][]byte{
			{1, 2, 3}, // too short to be anything
			tracker.AppendUDPAnnounceResponse(nil, tx+1, bogus, false),                     // someone else's transaction
			tracker.AppendUDPConnectResponse(nil, tx, 77),                                  // ours, but the wrong action
			tracker.AppendUDPScrapeResponse(nil, tx, []tracker.ScrapeStats{{Complete: 1}}), // likewise
			tracker.AppendUDPAnnounceResponse(nil, tx, good, false),                        // the answer
		}, true
	})
	timers := newFakeTimers() // never fired: the answer needs no retransmission
	c := newTestClient(t, Config{After: timers.After})
	got, err := c.Announce(testCtx(t), f.url(""), testRequest())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Peers, good.Peers) || got.Interval != good.Interval {
		t.Errorf("response %+v: a stray was taken for the answer", got)
	}
	if a := f.actions(); a != "ca" {
		t.Errorf("requests %q", a)
	}
}

func TestUDPScrape(t *testing.T) {
	f := newUDPFake(t, "udp4", "127.0.0.1:0")
	c := newTestClient(t, Config{})
	var hashes []metainfo.Hash
	for i := range 80 {
		hashes = append(hashes, ih(i+1))
	}
	stats, err := c.Scrape(testCtx(t), f.url("/announce"), hashes)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range hashes {
		if stats[i] != scrapeStatsFor(h) {
			t.Errorf("hash %d: %+v, want %+v", i, stats[i], scrapeStatsFor(h))
		}
	}
	if a := f.actions(); a != "css" {
		t.Errorf("requests %q, want one connect and two scrapes (74 + 6)", a)
	}
	if n := len(f.requests()[1].InfoHashes); n != tracker.UDPMaxScrapeHashes {
		t.Errorf("first scrape carried %d hashes", n)
	}

	// A reply with the wrong number of entries is an error, not zeros.
	f.setHook(func(req *tracker.UDPRequest, n int, from netip.AddrPort) ([][]byte, bool) {
		if req.Action != tracker.ActionScrape {
			return nil, false
		}
		return [][]byte{tracker.AppendUDPScrapeResponse(nil, req.TransactionID, []tracker.ScrapeStats{{}})}, true
	})
	if _, err := c.Scrape(testCtx(t), f.url("/announce"), hashes[:3]); err == nil {
		t.Error("a scrape answering 1 of 3 hashes succeeded")
	}
}

func TestUDPRefusedPort(t *testing.T) {
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close() // now nobody listens: the kernel answers port unreachable
	timers := newFakeTimers()
	c := newTestClient(t, Config{After: timers.After})
	_, err = c.Announce(testCtx(t), "udp://"+addr, testRequest())
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("error %v, want ECONNREFUSED without waiting out the schedule", err)
	}
}

func TestUDPOverallTimeout(t *testing.T) {
	f := newUDPFake(t, "udp4", "127.0.0.1:0")
	f.setHook(func(*tracker.UDPRequest, int, netip.AddrPort) ([][]byte, bool) { return nil, true })
	timers := newFakeTimers()
	c := newTestClient(t, Config{After: timers.After, Timeout: 20 * time.Second})
	errc := make(chan error, 1)
	go func() {
		_, err := c.Announce(testCtx(t), f.url(""), testRequest())
		errc <- err
	}()
	overall := timers.next(t)
	if overall.d != 20*time.Second {
		t.Fatalf("first timer %v, want the 20s overall timeout", overall.d)
	}
	timers.next(t) // the connect's
	f.nextRequest(t)
	overall.fire()
	if err := recv(t, errc); !errors.Is(err, ErrTimeout) {
		t.Errorf("error %v, want ErrTimeout", err)
	}
}

func TestUDPCancel(t *testing.T) {
	f := newUDPFake(t, "udp4", "127.0.0.1:0")
	f.setHook(func(*tracker.UDPRequest, int, netip.AddrPort) ([][]byte, bool) { return nil, true })
	timers := newFakeTimers()
	c := newTestClient(t, Config{After: timers.After})
	ctx, cancel := context.WithCancel(testCtx(t))
	errc := make(chan error, 1)
	go func() {
		_, err := c.Announce(ctx, f.url(""), testRequest())
		errc <- err
	}()
	f.nextRequest(t)
	cancel()
	if err := recv(t, errc); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

func TestUDPConcurrentAnnounces(t *testing.T) {
	f := newUDPFake(t, "udp4", "127.0.0.1:0")
	f.setPeers(tracker.Peer{Addr: ap("10.0.0.1:1")})
	c := newTestClient(t, Config{})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := testRequest()
			req.InfoHash = ih(i)
			resp, err := c.Announce(testCtx(t), f.url(""), req)
			if err == nil && len(resp.Peers) != 1 {
				err = errors.New("wrong peers")
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	seen := make(map[uint32]bool)
	for _, r := range f.requests() {
		if r.Action == tracker.ActionAnnounce {
			if seen[r.TransactionID] {
				t.Errorf("transaction id %x used twice", r.TransactionID)
			}
			seen[r.TransactionID] = true
		}
	}
}

func TestClosedClient(t *testing.T) {
	f := newUDPFake(t, "udp4", "127.0.0.1:0")
	c := New(Config{Timeout: -1, Port: 6881})
	if _, err := c.Announce(testCtx(t), f.url(""), testRequest()); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Announce(testCtx(t), f.url(""), testRequest()); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
}

func TestRetryWait(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{{0, 15 * time.Second}, {1, 30 * time.Second}, {8, 3840 * time.Second}} {
		if got := retryWait(15*time.Second, tc.n); got != tc.want {
			t.Errorf("n=%d: %v, want %v", tc.n, got, tc.want)
		}
	}
	if got := retryWait(15*time.Second, 100); got < 1<<61 {
		t.Errorf("n=100: %v, want a huge wait, not an overflow", got)
	}
}
