package loadgen

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
	"github.com/swarmlab/swarmlab/tracker/server"
)

// startTracker runs our tracker on loopback for one test.
func startTracker(t *testing.T, cfg server.Config) (*server.Server, *server.Listeners) {
	t.Helper()
	s, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := server.Listen(t.Context(), server.ListenConfig{HTTP: "127.0.0.1:0", UDP: "127.0.0.1:0", UDPSockets: 2})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(context.Background(), l) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-done; err != nil && !errors.Is(err, server.ErrClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return s, l
}

func runOK(t *testing.T, cfg Config) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	r, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestAgainstOurTracker: a counted run gets exactly that many answers and
// no errors, over both protocols; a fill leaves every simulated peer in
// the tracker, each in its own swarm's slot (no two share a port), across
// exactly the configured number of swarms.
func TestAgainstOurTracker(t *testing.T) {
	for _, proto := range []string{"udp", "http"} {
		t.Run(proto, func(t *testing.T) {
			s, l := startTracker(t, server.Config{})
			cfg := Config{Hashes: 50, Peers: 2000, InFlight: 32, Conns: 4}
			if proto == "udp" {
				cfg.UDP = l.UDPAddr().String()
			} else {
				cfg.HTTP = "http://" + l.HTTPAddr().String() + "/announce"
			}
			c := cfg
			c.Requests = 3000
			r := runOK(t, c)
			if r.Announces != 3000 || r.ErrorCount() != 0 {
				t.Fatalf("counted run: %d announces, errors %v (%q); want 3000 and none", r.Announces, r.Errors, r.FirstFailure)
			}
			if r.Latency.P50 <= 0 || r.Latency.P50 > r.Latency.Max {
				t.Errorf("latency %+v", r.Latency)
			}
			if proto == "http" && !r.KeepAlive {
				t.Errorf("our tracker's HTTP keep-alive not seen")
			}

			c = cfg
			c.Fill = true
			c.Seed = 7 // other peers than the counted run's
			if r = runOK(t, c); r.Announces != 2000 || r.ErrorCount() != 0 {
				t.Fatalf("fill: %d announces, errors %v; want 2000 and none", r.Announces, r.Errors)
			}
			tot, err := s.Store().Totals(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			// The counted run's peers (seed 0) are in other swarms.
			st, err := s.Store().Scrape(t.Context(), Hashes(50, 7), nil)
			if err != nil {
				t.Fatal(err)
			}
			peers, seeds := 0, 0
			for _, x := range st {
				if x.Complete+x.Incomplete != 40 {
					t.Errorf("a swarm holds %d peers, want 40", x.Complete+x.Incomplete)
				}
				peers += x.Complete + x.Incomplete
				seeds += x.Complete
			}
			if peers != 2000 || seeds != 400 {
				t.Errorf("fill left %d peers, %d seeds; want 2000 and 400", peers, seeds)
			}
			if tot.Swarms != 100 {
				t.Errorf("%d swarms, want 100 (50 per seed)", tot.Swarms)
			}
		})
	}
}

// TestRefusedAnnounces: a tracker that refuses every announce yields
// failures, with its reason kept, and no successes.
func TestRefusedAnnounces(t *testing.T) {
	_, l := startTracker(t, server.Config{Whitelist: []metainfo.Hash{}})
	for _, cfg := range []Config{
		{UDP: l.UDPAddr().String()},
		{HTTP: "http://" + l.HTTPAddr().String() + "/announce"},
	} {
		cfg.Requests, cfg.InFlight, cfg.Conns = 100, 8, 2
		r := runOK(t, cfg)
		if r.Announces != 0 || r.Errors[ErrFailure] != 100 || r.FirstFailure == "" {
			t.Errorf("%s: %d announces, errors %v, first %q; want 100 failures with a reason",
				r.Proto, r.Announces, r.Errors, r.FirstFailure)
		}
	}
}

// lossyUDPTracker is a fake UDP tracker that ignores every fifth announce
// and counts connects. It answers announces with no peers.
func lossyUDPTracker(t *testing.T) (addr string, connects *atomic.Int64) {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	connects = new(atomic.Int64)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 2048)
		var req tracker.UDPRequest
		var out []byte
		n := 0
		for {
			k, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			if tracker.ParseUDPRequest(buf[:k], &req, 74) != nil {
				continue
			}
			switch req.Action {
			case tracker.ActionConnect:
				connects.Add(1)
				out = tracker.AppendUDPConnectResponse(out[:0], req.TransactionID, 42)
			case tracker.ActionAnnounce:
				if n++; n%5 == 0 {
					continue
				}
				out = tracker.AppendUDPAnnounceResponse(out[:0], req.TransactionID, &tracker.AnnounceResponse{Interval: time.Minute}, false)
			default:
				continue
			}
			_, _ = c.WriteTo(out, from)
		}
	}()
	t.Cleanup(func() { c.Close(); wg.Wait() })
	return c.LocalAddr().String(), connects
}

// TestUDPLossAndRenewal: lost announces are counted as timeouts and
// replaced, so every request ends as an answer or a timeout; and a socket
// asks for a new connection id once its id is older than the renewal age
// (here shortened so the test does not wait a minute).
func TestUDPLossAndRenewal(t *testing.T) {
	addr, connects := lossyUDPTracker(t)
	cfg := Config{UDP: addr, Requests: 500, InFlight: 8, Conns: 2, Timeout: 50 * time.Millisecond}
	cfg.renewAfter = time.Nanosecond
	r := runOK(t, cfg)
	if r.Announces+r.Errors[ErrTimeout] != 500 {
		t.Errorf("%d answered + %d timed out, want 500 in all", r.Announces, r.Errors[ErrTimeout])
	}
	if r.Errors[ErrTimeout] == 0 || r.Announces == 0 {
		t.Errorf("lossy tracker: %d answered, %d timed out; want both", r.Announces, r.Errors[ErrTimeout])
	}
	if n := connects.Load(); n <= 2 || r.Connects != n {
		t.Errorf("tracker saw %d connects, generator counted %d; want more than the first 2", n, r.Connects)
	}
}

// closingHTTPTracker is a fake HTTP tracker that, like opentracker,
// answers the first request on a connection and closes its side. It then
// reads what else the client sent until the client closes, and counts
// every request it saw, answered or not.
func closingHTTPTracker(t *testing.T) (url string, requests *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	requests = new(atomic.Int64)
	body := tracker.AppendAnnounceResponse(nil, &tracker.AnnounceResponse{Interval: time.Minute}, true, false)
	resp := "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + string(body)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				br := bufio.NewReader(c)
				answered := false
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if strings.HasPrefix(line, "GET /announce?") {
						requests.Add(1)
					}
					if line == "\r\n" && !answered {
						answered = true
						_, _ = c.Write([]byte(resp))
						_ = c.(*net.TCPConn).CloseWrite()
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return "http://" + ln.Addr().String() + "/announce", requests
}

// TestHTTPWithoutKeepAlive: against a tracker that closes every
// connection after one response, every request is answered without
// errors, and once a worker has seen that, it sends one request per
// connection: beyond the answered ones, the tracker only ever sees what
// each worker sent on its first connection. Without that, it would see
// eight requests per answer.
func TestHTTPWithoutKeepAlive(t *testing.T) {
	url, requests := closingHTTPTracker(t)
	const conns, depth = 2, 8
	r := runOK(t, Config{HTTP: url, Requests: 300, InFlight: conns * depth, Conns: conns})
	if r.Announces != 300 || r.ErrorCount() != 0 {
		t.Fatalf("%d announces, errors %v (%q); want 300 and none", r.Announces, r.Errors, r.FirstFailure)
	}
	if r.KeepAlive || r.Reconnects < 300 {
		t.Errorf("keep-alive %v, %d reconnects; want false and one per announce", r.KeepAlive, r.Reconnects)
	}
	// A worker's first connection carries its depth of requests, and
	// one more sent after the first answer before the close is seen.
	if n, most := requests.Load(), int64(300+conns*depth); n > most {
		t.Errorf("tracker read %d requests for 300 answers; want at most %d", n, most)
	}
}

// TestHistogram: quantiles come back within a bucket's width (about 6%)
// of the true values.
func TestHistogram(t *testing.T) {
	var h histogram
	for us := 1; us <= 10000; us++ {
		h.add(time.Duration(us) * time.Microsecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5000 * time.Microsecond}, {0.9, 9000 * time.Microsecond}, {0.99, 9900 * time.Microsecond}} {
		got := h.quantile(tc.q)
		if d := got - tc.want; d < -tc.want/16 || d > tc.want/16 {
			t.Errorf("q%.2f = %v, want %v within 6%%", tc.q, got, tc.want)
		}
	}
	if h.max != 10*time.Millisecond || h.quantile(1) != h.max {
		t.Errorf("max %v, q1 %v", h.max, h.quantile(1))
	}
	for us := uint64(0); us < 1<<30; us = us*3/2 + 1 {
		b := bucketOf(us)
		if mid := bucketMid(b); mid < float64(us)*0.9-1 || mid > float64(us)*1.1+1 {
			t.Fatalf("%d µs falls in bucket %d with middle %.0f", us, b, mid)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{UDP: "127.0.0.1:1", HTTP: "http://127.0.0.1:1/announce", Requests: 1},
		{UDP: "127.0.0.1:1"},
		{UDP: "127.0.0.1:1", Requests: 1, Hashes: 10, Peers: 5},
		{UDP: "127.0.0.1:1", Requests: 1, InFlight: 2, Conns: 3},
		{UDP: "127.0.0.1:1", Requests: 1, Hashes: 1, Peers: maxPortSlots + 1},
		{HTTP: "https://127.0.0.1:1/announce", Requests: 1},
	} {
		if _, err := Run(t.Context(), cfg); err == nil {
			t.Errorf("Run(%+v) succeeded", cfg)
		}
	}
}
