package server

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"testing"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
)

// populate fills 1000 swarms of 10 peers, the load generator's default
// shape.
func populate(b *testing.B, s *Server) {
	var resp tracker.AnnounceResponse
	for i := 0; i < 10000; i++ {
		a := announceReq(ih(i%1000), i, int64(i%3))
		if err := s.Announce(context.Background(), Origin{Remote: local}, &a, t0, &resp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUDPHandle is the UDP path without the sockets: connection id
// check, parse, store, encode.
func BenchmarkUDPHandle(b *testing.B) {
	s, err := New(Config{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	populate(b, s)
	w := s.newUDPWorker()
	from := netip.MustParseAddrPort("127.0.0.1:5000")
	id := binary.BigEndian.Uint64(w.handle(tracker.AppendUDPConnectRequest(nil, 1), from, t0)[8:])
	pkts := make([][]byte, 1000)
	for i := range pkts {
		a := announceReq(ih(i), 20000+i, 100)
		a.NumWant = 50
		pkts[i] = tracker.AppendUDPAnnounceRequest(nil, id, uint32(i), &a, nil)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if out := w.handle(pkts[i%len(pkts)], from, t0); len(out) < tracker.UDPAnnounceHeaderSize {
			b.Fatalf("reply %q", out)
		}
		i++
	}
}

// BenchmarkHTTPServeRequest is the HTTP path after the request head is
// read: route, parse, store, encode, response head.
func BenchmarkHTTPServeRequest(b *testing.B) {
	s, err := New(Config{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	populate(b, s)
	h := newHTTPFront(s, nil)
	hc := h.pool.Get().(*httpConn)
	hc.remote = local
	targets := make([][]byte, 1000)
	for i := range targets {
		a := announceReq(ih(i), 20000+i, 100)
		a.NumWant = 50
		targets[i] = append([]byte("/announce?"), tracker.AppendAnnounceQuery(nil, &a)...)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		hc.target = append(hc.target[:0], targets[i%len(targets)]...)
		hc.out = hc.out[:0]
		h.serveRequest(hc, true)
		i++
	}
}

// BenchmarkHTTPLoopback is one keep-alive connection over loopback, one
// request at a time: the latency of a whole round trip, kernel included.
func BenchmarkHTTPLoopback(b *testing.B) {
	s, err := New(Config{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	populate(b, s)
	l, err := Listen(context.Background(), ListenConfig{HTTP: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	go s.Serve(context.Background(), l)
	c, err := net.Dial("tcp", l.HTTPAddr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	reqs := make([][]byte, 1000)
	for i := range reqs {
		a := announceReq(ih(i), 20000+i, 100)
		reqs[i] = []byte("GET /announce?" + string(tracker.AppendAnnounceQuery(nil, &a)) + " HTTP/1.1\r\nHost: t\r\n\r\n")
	}
	i := 0
	for b.Loop() {
		if _, err := c.Write(reqs[i%len(reqs)]); err != nil {
			b.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		i++
	}
}

// BenchmarkUDPHandle100 is BenchmarkUDPHandle with 100 peers per swarm,
// so that every reply carries the 50 peers asked for: the regime in which
// the load generator found us slower than opentracker.
func BenchmarkUDPHandle100(b *testing.B) {
	s, err := New(Config{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var resp tracker.AnnounceResponse
	for i := range 100000 {
		a := announceReq(ih(i%1000), i, int64(i%3))
		a.Port = 6881
		// One address per peer, in 127.0.0.0/8: names, never dialed.
		remote := netip.AddrFrom4([4]byte{127, byte(i >> 16), byte(i >> 8), byte(i)})
		if err := s.Announce(context.Background(), Origin{Remote: remote}, &a, t0, &resp); err != nil {
			b.Fatal(err)
		}
	}
	w := s.newUDPWorker()
	from := netip.MustParseAddrPort("127.0.0.1:5000")
	id := binary.BigEndian.Uint64(w.handle(tracker.AppendUDPConnectRequest(nil, 1), from, t0)[8:])
	pkts := make([][]byte, 1000)
	for i := range pkts {
		a := announceReq(ih(i), 200000+i, 100)
		a.NumWant = 50
		pkts[i] = tracker.AppendUDPAnnounceRequest(nil, id, uint32(i), &a, nil)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if out := w.handle(pkts[i%len(pkts)], from, t0); len(out) < tracker.UDPAnnounceHeaderSize+50*6 {
			b.Fatalf("reply of %d bytes", len(out))
		}
		i++
	}
}

// BenchmarkUDPHandleCold is BenchmarkUDPHandle100 as a busy tracker sees
// it: announces from random peers of 100,000 in 1,000 whitelisted swarms,
// with 4 MiB of other memory written between batches of 32, as the
// kernel's networking and other processes do between two batches of a
// read loop. The handle is then dominated by cache misses, which the
// warm benchmarks hardly show: under bench/tracker.sh the tracker's user
// time per announce is two to three times BenchmarkUDPHandle100's. The
// cache-clearing is not timed.
func BenchmarkUDPHandleCold(b *testing.B) {
	const swarms, peers, batch = 1000, 100000, 32
	hash := func(i int) metainfo.Hash {
		h := ih(i)
		h[2] = byte(i * 7)
		return h
	}
	cfg := Config{Seed: 1}
	for i := range swarms {
		cfg.Whitelist = append(cfg.Whitelist, hash(i))
	}
	s, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	// Peer i is in swarm i%swarms at 127.0.0.1, its port telling it from
	// the others there; a fifth are seeds.
	req := func(i int) tracker.AnnounceRequest {
		a := announceReq(hash(i%swarms), i, int64(i/swarms%5))
		a.Port = uint16(1024 + i/swarms)
		a.Event = tracker.EventNone
		a.NumWant = 50
		return a
	}
	var resp tracker.AnnounceResponse
	lo := netip.MustParseAddr("127.0.0.1")
	for i := range peers {
		a := req(i)
		if err := s.Announce(context.Background(), Origin{Remote: lo}, &a, t0, &resp); err != nil {
			b.Fatal(err)
		}
	}
	w := s.newUDPWorker()
	from := netip.MustParseAddrPort("127.0.0.1:5000")
	id := binary.BigEndian.Uint64(w.handle(tracker.AppendUDPConnectRequest(nil, 1), from, t0)[8:])
	r := rand.New(rand.NewPCG(1, 2))
	pkts := make([][]byte, 4096)
	for i := range pkts {
		a := req(r.IntN(peers))
		pkts[i] = tracker.AppendUDPAnnounceRequest(nil, id, uint32(i), &a, nil)
	}
	junk := make([]byte, 4<<20)
	i := 0
	for b.Loop() {
		if i%batch == 0 {
			b.StopTimer()
			for j := 0; j < len(junk); j += 64 {
				junk[j]++
			}
			b.StartTimer()
		}
		if out := w.handle(pkts[i%len(pkts)], from, t0); len(out) < tracker.UDPAnnounceHeaderSize+50*6 {
			b.Fatalf("reply of %d bytes", len(out))
		}
		i++
	}
}
