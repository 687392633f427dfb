package client

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
)

func TestHTTPAnnounceCompact(t *testing.T) {
	want := tracker.AnnounceResponse{
		Warning: "be nice", Interval: 1800 * time.Second, MinInterval: 60 * time.Second,
		TrackerID: "tid-1", Complete: 3, Incomplete: 4,
		Peers: []tracker.Peer{{Addr: ap("10.0.0.1:6881")}, {Addr: ap("[2001:db8::1]:51413")}, {Addr: ap("10.0.0.2:1")}},
	}
	ht := newHTTPTracker(t, announceWith(want))
	c := newTestClient(t, Config{UserAgent: "swarmlab-test/1"})

	got, err := c.Announce(testCtx(t), ht.url("/announce"), testRequest())
	if err != nil {
		t.Fatal(err)
	}
	// Compact answers carry no peer ids, and IPv6 peers come from
	// "peers6", after the IPv4 ones.
	wantPeers := []tracker.Peer{{Addr: ap("10.0.0.1:6881")}, {Addr: ap("10.0.0.2:1")}, {Addr: ap("[2001:db8::1]:51413")}}
	if !reflect.DeepEqual(got.Peers, wantPeers) {
		t.Errorf("peers %v, want %v", got.Peers, wantPeers)
	}
	if got.Warning != want.Warning || got.Interval != want.Interval || got.MinInterval != want.MinInterval ||
		got.TrackerID != want.TrackerID || got.Complete != 3 || got.Incomplete != 4 {
		t.Errorf("response %+v", got)
	}

	reqs := ht.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	if ua := reqs[0].Header.Get("User-Agent"); ua != "swarmlab-test/1" {
		t.Errorf("User-Agent %q", ua)
	}
	q := reqs[0].URL.Query()
	for k, v := range map[string]string{
		"port": "6881", "uploaded": "100", "downloaded": "200", "left": "300", "event": "started",
		"numwant": "30", "key": "00C0FFEE", "compact": "1",
	} {
		if q.Get(k) != v {
			t.Errorf("%s=%q, want %q", k, q.Get(k), v)
		}
	}
	if h := ih(1); q.Get("info_hash") != string(h[:]) {
		t.Errorf("info_hash %x", q.Get("info_hash"))
	}
	if id := pid(7); q.Get("peer_id") != string(id[:]) {
		t.Errorf("peer_id %q: the Client's PeerID should fill an empty one", q.Get("peer_id"))
	}
}

func TestHTTPAnnounceRequestOverridesIdentity(t *testing.T) {
	ht := newHTTPTracker(t, announceWith(tracker.AnnounceResponse{Interval: time.Minute}))
	c := newTestClient(t, Config{})
	req := testRequest()
	req.PeerID, req.Port, req.Key, req.HasKey = pid(99), 7000, 0, true
	if _, err := c.Announce(testCtx(t), ht.url("/announce"), req); err != nil {
		t.Fatal(err)
	}
	q := ht.requests()[0].URL.Query()
	if id := pid(99); q.Get("peer_id") != string(id[:]) || q.Get("port") != "7000" || q.Get("key") != "00000000" {
		t.Errorf("peer_id %q port %q key %q: the request's own values must win", q.Get("peer_id"), q.Get("port"), q.Get("key"))
	}
}

func TestHTTPAnnounceKeepsExistingQuery(t *testing.T) {
	ht := newHTTPTracker(t, announceWith(tracker.AnnounceResponse{Interval: time.Minute}))
	c := newTestClient(t, Config{})
	for _, suffix := range []string{"?passkey=abc", "?passkey=abc&", "?passkey=abc#fragment"} {
		if _, err := c.Announce(testCtx(t), ht.url("/announce"+suffix), testRequest()); err != nil {
			t.Fatalf("%s: %v", suffix, err)
		}
	}
	for _, r := range ht.requests() {
		if !strings.HasPrefix(r.URL.RawQuery, "passkey=abc&info_hash=") {
			t.Errorf("query %q: want the tracker's own query, then '&', then ours", r.URL.RawQuery)
		}
		if _, err := tracker.ParseAnnounceQuery(r.URL.RawQuery); err != nil {
			t.Errorf("query %q: %v", r.URL.RawQuery, err)
		}
	}
}

func TestHTTPAnnounceDictionaryModel(t *testing.T) {
	// A tracker that ignores compact=1 and answers in the BEP 3 model.
	resp := tracker.AnnounceResponse{Interval: time.Minute, Peers: []tracker.Peer{
		{ID: pid(1), Addr: ap("127.0.0.1:5000")}, {ID: pid(2), Addr: ap("[::1]:5001")},
	}}
	ht := newHTTPTracker(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(tracker.AppendAnnounceResponse(nil, &resp, false, false))
	})
	c := newTestClient(t, Config{})
	got, err := c.Announce(testCtx(t), ht.url("/announce"), testRequest())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Peers, resp.Peers) {
		t.Errorf("peers %v, want %v", got.Peers, resp.Peers)
	}
}

func TestHTTPFailureReason(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusBadRequest} {
		ht := newHTTPTracker(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			_, _ = w.Write(tracker.AppendFailure(nil, "torrent not registered"))
		})
		c := newTestClient(t, Config{})
		_, err := c.Announce(testCtx(t), ht.url("/announce"), testRequest())
		var fe *FailureError
		if !errors.As(err, &fe) || fe.Reason != "torrent not registered" {
			t.Errorf("status %d: error %v, want a FailureError with the reason", status, err)
		}
	}
}

func TestHTTPErrorStatus(t *testing.T) {
	ht := newHTTPTracker(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("tracker overloaded\r\nsecond line"))
	})
	c := newTestClient(t, Config{})
	_, err := c.Announce(testCtx(t), ht.url("/announce"), testRequest())
	if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "tracker overloaded") ||
		strings.Contains(err.Error(), "second line") {
		t.Errorf("error %v: want the status and the body's first line only", err)
	}
	var fe *FailureError
	if errors.As(err, &fe) {
		t.Errorf("a 503 is not the tracker's refusal: %v", err)
	}
}

func TestHTTPBodyCap(t *testing.T) {
	ht := newHTTPTracker(t, func(w http.ResponseWriter, r *http.Request) {
		resp := tracker.AnnounceResponse{Interval: time.Minute}
		for i := range 300 { // 300 compact peers: 1800 bytes of peers
			a := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
			resp.Peers = append(resp.Peers, tracker.Peer{Addr: netip.AddrPortFrom(a, 6881)})
		}
		_, _ = w.Write(tracker.AppendAnnounceResponse(nil, &resp, true, false))
	})
	c := newTestClient(t, Config{MaxResponse: 1024})
	_, err := c.Announce(testCtx(t), ht.url("/announce"), testRequest())
	if err == nil || !strings.Contains(err.Error(), "larger than 1024 bytes") {
		t.Errorf("error %v, want the size cap", err)
	}
	c2 := newTestClient(t, Config{MaxResponse: 4096})
	if _, err := c2.Announce(testCtx(t), ht.url("/announce"), testRequest()); err != nil {
		t.Errorf("under the cap: %v", err)
	}
}

func TestHTTPScrape(t *testing.T) {
	ht := newHTTPTracker(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/scrape" || r.URL.Query().Get("passkey") != "k" {
			http.NotFound(w, r)
			return
		}
		hashes, err := tracker.ParseScrapeQuery(r.URL.RawQuery, nil, 1000)
		if err != nil {
			_, _ = w.Write(tracker.AppendFailure(nil, err.Error()))
			return
		}
		var resp tracker.ScrapeResponse
		for _, h := range hashes {
			if h[0]%3 != 0 { // the tracker does not know every third hash
				resp.Files = append(resp.Files, tracker.ScrapeFile{InfoHash: h, ScrapeStats: scrapeStatsFor(h)})
			}
		}
		_, _ = w.Write(tracker.AppendScrapeResponse(nil, &resp))
	})
	c := newTestClient(t, Config{})
	var hashes []metainfo.Hash
	for i := range 100 { // more than one request's worth
		hashes = append(hashes, ih(100-i))
	}
	stats, err := c.Scrape(testCtx(t), ht.url("/announce?passkey=k"), hashes)
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != len(hashes) {
		t.Fatalf("%d stats for %d hashes", len(stats), len(hashes))
	}
	for i, h := range hashes {
		want := scrapeStatsFor(h)
		if h[0]%3 == 0 {
			want = tracker.ScrapeStats{}
		}
		if stats[i] != want {
			t.Errorf("hash %d: %+v, want %+v", i, stats[i], want)
		}
	}
	if n := len(ht.requests()); n != 2 {
		t.Errorf("%d requests for 100 hashes, want 2 (at most %d each)", n, tracker.UDPMaxScrapeHashes)
	}
}

func TestHTTPScrapeWithoutScrapeURL(t *testing.T) {
	c := newTestClient(t, Config{})
	_, err := c.Scrape(testCtx(t), "http://127.0.0.1:1/tracker.php", []metainfo.Hash{ih(1)})
	if !errors.Is(err, ErrNoScrape) {
		t.Errorf("error %v, want ErrNoScrape", err)
	}
}

func TestHTTPTimeout(t *testing.T) {
	arrived, released := make(chan struct{}), make(chan struct{})
	ht := newHTTPTracker(t, func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done() // never answers; ends when the client gives up
		close(released)
	})
	timers := newFakeTimers()
	c := newTestClient(t, Config{Timeout: 30 * time.Second, After: timers.After})
	errc := make(chan error, 1)
	go func() {
		_, err := c.Announce(testCtx(t), ht.url("/announce"), testRequest())
		errc <- err
	}()
	ft := timers.next(t)
	if ft.d != 30*time.Second {
		t.Errorf("timeout timer of %v, want 30s", ft.d)
	}
	recv(t, arrived) // the request is in the tracker's hands
	ft.fire()
	if err := recv(t, errc); !errors.Is(err, ErrTimeout) {
		t.Errorf("error %v, want ErrTimeout", err)
	}
	recv(t, released)
}

func TestErrorsHideTheURL(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: the connection is refused
	c := newTestClient(t, Config{})
	_, err = c.Announce(testCtx(t), "http://"+addr+"/SECRETKEY/announce?pk=SECRETKEY", testRequest())
	if err == nil {
		t.Fatal("announce to a closed port succeeded")
	}
	if strings.Contains(err.Error(), "SECRETKEY") || strings.Contains(err.Error(), "info_hash") {
		t.Errorf("error %q leaks the URL", err)
	}
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("error %q does not name the tracker", err)
	}
}

func TestUnsupportedScheme(t *testing.T) {
	c := newTestClient(t, Config{})
	for _, u := range []string{"wss://tracker.example/announce", "dht://x"} {
		if _, err := c.Announce(testCtx(t), u, testRequest()); !errors.Is(err, ErrScheme) {
			t.Errorf("%s: error %v, want ErrScheme", u, err)
		}
	}
	if _, err := c.Announce(testCtx(t), "udp://127.0.0.1/announce", testRequest()); err == nil {
		t.Error("UDP tracker without a port accepted")
	}
}
