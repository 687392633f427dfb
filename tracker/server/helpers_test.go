package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
)

// fakeClock is a settable Config.Now.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.set(t)
	return c
}

func (c *fakeClock) now() time.Time       { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) set(t time.Time)      { c.ns.Store(t.UnixNano()) }
func (c *fakeClock) add(d time.Duration)  { c.ns.Add(int64(d)) }
func (c *fakeClock) at() func() time.Time { return c.now }

var t0 = time.Date(2024, 5, 6, 7, 8, 0, 0, time.UTC) // on a connection-id slot boundary

// testServer runs a Server on loopback sockets for one test.
type testServer struct {
	*Server
	l     *Listeners
	clock *fakeClock
	done  chan error
}

func startServer(t *testing.T, cfg Config, lc ListenConfig) *testServer {
	t.Helper()
	clock := newFakeClock(t0)
	if cfg.Now == nil {
		cfg.Now = clock.at()
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if lc == (ListenConfig{}) {
		lc = ListenConfig{HTTP: "127.0.0.1:0", UDP: "127.0.0.1:0", UDPSockets: 2}
	}
	l, err := Listen(context.Background(), lc)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: s, l: l, clock: clock, done: make(chan error, 1)}
	go func() { ts.done <- s.Serve(context.Background(), l) }()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-ts.done; !errors.Is(err, ErrClosed) {
			t.Errorf("Serve returned %v, want ErrClosed", err)
		}
	})
	return ts
}

func (ts *testServer) httpURL(path string) string {
	return "http://" + ts.l.HTTPAddr().String() + path
}

func ih(i int) metainfo.Hash {
	var h metainfo.Hash
	h[0], h[1], h[19] = byte(i), byte(i>>8), '!'
	return h
}

func pid(i int) tracker.PeerID {
	var id tracker.PeerID
	copy(id[:], fmt.Sprintf("-SL0001-%012d", i))
	return id
}

func announceReq(h metainfo.Hash, i int, left int64) tracker.AnnounceRequest {
	return tracker.AnnounceRequest{InfoHash: h, PeerID: pid(i), Port: uint16(30000 + i), Left: left,
		NumWant: tracker.NumWantDefault, Compact: true, Event: tracker.EventStarted}
}

// httpGet fetches url with client and returns the body.
func httpGet(t *testing.T, client *http.Client, url string) []byte {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s %q", url, resp.Status, body)
	}
	return body
}

func httpAnnounce(t *testing.T, client *http.Client, base string, r *tracker.AnnounceRequest) *tracker.AnnounceResponse {
	t.Helper()
	body := httpGet(t, client, base+"?"+string(tracker.AppendAnnounceQuery(nil, r)))
	resp, err := tracker.ParseAnnounceResponse(body)
	if err != nil {
		t.Fatalf("announce response %q: %v", body, err)
	}
	return resp
}

// udpClient talks BEP 15 to the server from one socket.
type udpClient struct {
	t    *testing.T
	c    *net.UDPConn
	v6   bool
	txID uint32
	buf  []byte
}

func dialUDP(t *testing.T, addr net.Addr) *udpClient {
	t.Helper()
	ua := addr.(*net.UDPAddr)
	c, err := net.DialUDP("udp", nil, ua)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &udpClient{t: t, c: c, v6: ua.IP.To4() == nil, buf: make([]byte, 4096)}
}

func (u *udpClient) localAddr() netip.AddrPort { return u.c.LocalAddr().(*net.UDPAddr).AddrPort() }

// roundTrip sends pkt and returns the reply. The deadline only keeps a
// broken server from hanging the test; no assertion depends on timing.
func (u *udpClient) roundTrip(pkt []byte) []byte {
	u.t.Helper()
	if _, err := u.c.Write(pkt); err != nil {
		u.t.Fatal(err)
	}
	_ = u.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := u.c.Read(u.buf)
	if err != nil {
		u.t.Fatalf("no reply: %v", err)
	}
	return u.buf[:n]
}

func (u *udpClient) parse(pkt []byte) *tracker.UDPResponse {
	u.t.Helper()
	r, err := tracker.ParseUDPResponse(pkt, u.v6)
	if err != nil {
		u.t.Fatalf("reply %x: %v", pkt, err)
	}
	return r
}

func (u *udpClient) connect() uint64 {
	u.t.Helper()
	u.txID++
	r := u.parse(u.roundTrip(tracker.AppendUDPConnectRequest(nil, u.txID)))
	if r.Action != tracker.ActionConnect || r.TransactionID != u.txID {
		u.t.Fatalf("connect reply %+v", r)
	}
	return r.ConnectionID
}

func (u *udpClient) announce(connID uint64, a *tracker.AnnounceRequest, urlData string) *tracker.UDPResponse {
	u.t.Helper()
	u.txID++
	r := u.parse(u.roundTrip(tracker.AppendUDPAnnounceRequest(nil, connID, u.txID, a, []byte(urlData))))
	if r.TransactionID != u.txID {
		u.t.Fatalf("reply for transaction %d, want %d", r.TransactionID, u.txID)
	}
	return r
}

func metricValue(t *testing.T, s *Server, name string, labels ...string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	s.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	want := name
	if len(labels) > 0 {
		var parts []string
		for i := 0; i+1 < len(labels); i += 2 {
			parts = append(parts, fmt.Sprintf("%s=%q", labels[i], labels[i+1]))
		}
		sort.Strings(parts) // the text format lists labels by name
		want += "{" + strings.Join(parts, ",") + "}"
	}
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, want+" "); ok {
			var f float64
			if _, err := fmt.Sscan(v, &f); err != nil {
				t.Fatalf("metric line %q: %v", line, err)
			}
			return f
		}
	}
	return 0
}
