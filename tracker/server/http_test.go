package server

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
)

func TestHTTPAnnounce(t *testing.T) {
	ts := startServer(t, Config{Interval: 5 * time.Second}, ListenConfig{})
	client := &http.Client{}
	base := ts.httpURL("/announce")
	h := ih(1)
	a := announceReq(h, 1, 1000)
	r := httpAnnounce(t, client, base, &a)
	if r.Failure != "" || len(r.Peers) != 0 || r.Incomplete != 1 || r.Interval != 5*time.Second ||
		r.MinInterval != 3*time.Second { // 2.5 s, rounded up to whole seconds
		t.Fatalf("first announce: %+v", r)
	}
	b := announceReq(h, 2, 0)
	r = httpAnnounce(t, client, base, &b)
	want := netip.AddrPortFrom(local, a.Port)
	if len(r.Peers) != 1 || r.Peers[0].Addr != want || r.Complete != 1 || r.Incomplete != 1 {
		t.Fatalf("second announce: %+v, want peer %v", r, want)
	}
	// The dictionary model carries peer ids.
	a.Compact, a.Event = false, tracker.EventNone
	r = httpAnnounce(t, client, base, &a)
	if len(r.Peers) != 1 || r.Peers[0].Addr != netip.AddrPortFrom(local, b.Port) || r.Peers[0].ID != b.PeerID {
		t.Fatalf("dictionary model: %+v", r)
	}
	a.NoPeerID = true
	r = httpAnnounce(t, client, base, &a)
	if len(r.Peers) != 1 || r.Peers[0].ID != (tracker.PeerID{}) {
		t.Fatalf("no_peer_id: %+v", r)
	}
	// completed counts, stopped removes.
	a.Compact, a.Event, a.Left = true, tracker.EventCompleted, 0
	httpAnnounce(t, client, base, &a)
	b.Event = tracker.EventStopped
	httpAnnounce(t, client, base, &b)
	body := httpGet(t, client, ts.httpURL("/scrape?"+string(tracker.AppendScrapeQuery(nil, []metainfo.Hash{h, ih(2)}))))
	sr, err := tracker.ParseScrapeResponse(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(sr.Files) != 2 || sr.Files[0].InfoHash != h || sr.Files[0].ScrapeStats != (tracker.ScrapeStats{Complete: 1, Downloaded: 1}) ||
		sr.Files[1].ScrapeStats != (tracker.ScrapeStats{}) {
		t.Errorf("scrape %+v", sr)
	}
	if got := metricValue(t, ts.Server, "swarmlab_tracker_announces_total", "proto", "http", "event", "completed"); got != 1 {
		t.Errorf("completed announces counted %v", got)
	}
}

// TestHTTPPeers6 serves one tracker on 127.0.0.1 and ::1: a client over
// IPv6 gets the IPv4 peer in "peers" and the IPv6 one in "peers6".
func TestHTTPPeers6(t *testing.T) {
	probe, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	probe.Close()
	ts := startServer(t, Config{}, ListenConfig{HTTP: "127.0.0.1:0"})
	l6, err := Listen(context.Background(), ListenConfig{HTTP: "[::1]:0"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- ts.Serve(context.Background(), l6) }()
	t.Cleanup(func() { ts.Close(); <-done })

	client := &http.Client{}
	h := ih(3)
	a := announceReq(h, 1, 10)
	httpAnnounce(t, client, ts.httpURL("/announce"), &a)
	b := announceReq(h, 2, 10)
	httpAnnounce(t, client, "http://"+l6.HTTPAddr().String()+"/announce", &b)
	c := announceReq(h, 3, 10)
	body := httpGet(t, client, "http://"+l6.HTTPAddr().String()+"/announce?"+string(tracker.AppendAnnounceQuery(nil, &c)))
	if !strings.Contains(string(body), "6:peers618:") {
		t.Errorf("no compact peers6 in %q", body)
	}
	r, err := tracker.ParseAnnounceResponse(body)
	if err != nil {
		t.Fatal(err)
	}
	got := map[netip.AddrPort]bool{}
	for _, p := range r.Peers {
		got[p.Addr] = true
	}
	if len(got) != 2 || !got[netip.AddrPortFrom(local, a.Port)] || !got[netip.AddrPortFrom(netip.IPv6Loopback(), b.Port)] {
		t.Errorf("IPv6 client got %v", r.Peers)
	}
}

func TestHTTPAccess(t *testing.T) {
	ts := startServer(t, Config{Whitelist: []metainfo.Hash{ih(1)}, Keys: []string{"k3y"}}, ListenConfig{HTTP: "127.0.0.1:0"})
	client := &http.Client{}
	for _, tc := range []struct {
		path, failure string
		h             metainfo.Hash
	}{
		{"/k3y/announce", "", ih(1)},
		{"/k3y/announce", "not registered", ih(2)},
		{"/announce", "private", ih(1)},
		{"/wrong/announce", "unknown key", ih(1)},
	} {
		a := announceReq(tc.h, 1, 0)
		r := httpAnnounce(t, client, ts.httpURL(tc.path), &a)
		if (tc.failure == "") != (r.Failure == "") || !strings.Contains(r.Failure, tc.failure) {
			t.Errorf("%s %v: failure %q, want %q", tc.path, tc.h, r.Failure, tc.failure)
		}
	}
	q := string(tracker.AppendScrapeQuery(nil, []metainfo.Hash{ih(1)}))
	sr, err := tracker.ParseScrapeResponse(httpGet(t, client, ts.httpURL("/k3y/scrape?"+q)))
	if err != nil || len(sr.Files) != 1 || sr.Files[0].Complete != 1 {
		t.Errorf("scrape with key: %+v, %v", sr, err)
	}
	sr, err = tracker.ParseScrapeResponse(httpGet(t, client, ts.httpURL("/scrape?"+q)))
	if err != nil || sr.Failure == "" {
		t.Errorf("scrape without key: %+v, %v", sr, err)
	}
}

// rawHTTP writes req on a fresh connection and returns everything the
// server sends until it closes the connection.
func rawHTTP(t *testing.T, addr net.Addr, req string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second)) // a hang guard, not an assertion
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	return string(b)
}

func TestHTTPProtocol(t *testing.T) {
	ts := startServer(t, Config{}, ListenConfig{HTTP: "127.0.0.1:0"})
	addr := ts.l.HTTPAddr()
	a := announceReq(ih(1), 1, 0)
	q := string(tracker.AppendAnnounceQuery(nil, &a))
	for _, tc := range []struct{ name, req, want string }{
		{"malformed query", "GET /announce?info_hash=abc HTTP/1.1\r\nConnection: close\r\n\r\n", "failure reason"},
		{"bad port", "GET /announce?" + strings.Replace(q, "port=30001", "port=0", 1) + " HTTP/1.1\r\nConnection: close\r\n\r\n", "port"},
		{"not found", "GET /nothing HTTP/1.1\r\nConnection: close\r\n\r\n", "HTTP/1.1 404"},
		{"deep path", "GET /a/b/announce HTTP/1.1\r\nConnection: close\r\n\r\n", "HTTP/1.1 404"},
		{"post", "POST /announce HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", "HTTP/1.1 405"},
		{"body", "GET /announce?" + q + " HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", "HTTP/1.1 400"},
		{"chunked", "GET /announce?" + q + " HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "HTTP/1.1 400"},
		{"garbage", "\x00\x01\x02\r\n\r\n", "HTTP/1.1 400"},
		{"version", "GET /announce HTTP/2.0\r\n\r\n", "HTTP/1.1 505"},
		{"long line", "GET /announce?" + strings.Repeat("x", 5000) + " HTTP/1.1\r\n\r\n", "HTTP/1.1 414"},
		{"many headers", "GET /announce HTTP/1.1\r\n" + strings.Repeat("X-A: b\r\n", 100) + "\r\n", "HTTP/1.1 431"},
		{"http/1.0 closes", "GET /announce?" + q + " HTTP/1.0\r\n\r\n", "Connection: close"},
		{"http/1.0 keep-alive", "GET /announce?" + q + " HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" +
			"GET /announce?" + q + " HTTP/1.0\r\n\r\n", "Connection: keep-alive"},
	} {
		got := rawHTTP(t, addr, tc.req)
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s: got %q, want it to contain %q", tc.name, got, tc.want)
		}
	}
	// Pipelining: two requests in one write, two responses in order.
	got := rawHTTP(t, addr, "GET /announce?"+q+" HTTP/1.1\r\nHost: x\r\n\r\nGET /scrape?info_hash=x HTTP/1.1\r\nConnection: close\r\n\r\n")
	if n := strings.Count(got, "HTTP/1.1 200 OK"); n != 2 || !strings.Contains(got, "20 bytes") &&
		!strings.Contains(got, "shorter than 20 bytes") {
		t.Errorf("pipelined: %q", got)
	}
	if i, j := strings.Index(got, "8:interval"), strings.Index(got, "failure reason"); i < 0 || j < i {
		t.Errorf("pipelined responses out of order: %q", got)
	}
	// The server survives all of it.
	r := httpAnnounce(t, &http.Client{}, ts.httpURL("/announce"), &a)
	if r.Failure != "" {
		t.Errorf("after bad requests: %+v", r)
	}
}

// TestHTTPKeepAlive sends many requests on one connection.
func TestHTTPKeepAlive(t *testing.T) {
	ts := startServer(t, Config{}, ListenConfig{HTTP: "127.0.0.1:0"})
	c, err := net.Dial("tcp", ts.l.HTTPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	for i := 0; i < 100; i++ {
		a := announceReq(ih(1), i, 5)
		if _, err := io.WriteString(c, "GET /announce?"+string(tracker.AppendAnnounceQuery(nil, &a))+" HTTP/1.1\r\nHost: t\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		r, err := tracker.ParseAnnounceResponse(body)
		if err != nil || r.Incomplete != i+1 {
			t.Fatalf("request %d: %+v, %v", i, r, err)
		}
	}
}

// TestHTTPConnLimit opens more connections than allowed: the extra ones
// are closed at once, and the counted ones keep working.
func TestHTTPConnLimit(t *testing.T) {
	ts := startServer(t, Config{MaxHTTPConns: 3}, ListenConfig{HTTP: "127.0.0.1:0"})
	a := announceReq(ih(1), 1, 0)
	req := "GET /announce?" + string(tracker.AppendAnnounceQuery(nil, &a)) + " HTTP/1.1\r\n\r\n"
	var conns []net.Conn
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", ts.l.HTTPAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		// A full round trip proves the server has counted this connection.
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		if _, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	extra, err := net.Dial("tcp", ts.l.HTTPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	_ = extra.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(extra, req)
	if b, err := io.ReadAll(extra); err == nil && len(b) > 0 {
		t.Errorf("connection over the limit was served: %q", b)
	}
	if got := metricValue(t, ts.Server, "swarmlab_tracker_errors_total", "proto", "http", "kind", KindConnLimit); got != 1 {
		t.Errorf("conn_limit counted %v", got)
	}
	if got := metricValue(t, ts.Server, "swarmlab_tracker_http_connections"); got != 3 {
		t.Errorf("open connections gauge %v, want 3", got)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	ts := startServer(t, Config{}, ListenConfig{HTTP: "127.0.0.1:0", Metrics: "127.0.0.1:0"})
	a := announceReq(ih(1), 1, 0)
	httpAnnounce(t, &http.Client{}, ts.httpURL("/announce"), &a)
	body := string(httpGet(t, &http.Client{}, "http://"+ts.l.MetricsAddr().String()+"/metrics"))
	for _, want := range []string{
		`swarmlab_tracker_announces_total{event="started",proto="http"} 1`,
		`swarmlab_tracker_swarms 1`,
		`swarmlab_tracker_peers{state="seed"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
