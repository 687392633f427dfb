package server

import (
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
	"github.com/swarmlab/swarmlab/tracker/store"
)

func TestUDPAnnounceAndScrape(t *testing.T) {
	ts := startServer(t, Config{Interval: 5 * time.Second}, ListenConfig{})
	h := ih(1)
	a, b := dialUDP(t, ts.l.UDPAddr()), dialUDP(t, ts.l.UDPAddr())
	ida, idb := a.connect(), b.connect()
	if ida == idb {
		t.Errorf("two clients got the same connection id")
	}
	ra := announceReq(h, 1, 100)
	r := a.announce(ida, &ra, "")
	if r.Action != tracker.ActionAnnounce || r.Announce.Interval != 5*time.Second || r.Announce.Incomplete != 1 ||
		len(r.Announce.Peers) != 0 {
		t.Fatalf("first announce: %+v", r)
	}
	rb := announceReq(h, 2, 0)
	r = b.announce(idb, &rb, "")
	if len(r.Announce.Peers) != 1 || r.Announce.Peers[0].Addr != netip.AddrPortFrom(local, ra.Port) ||
		r.Announce.Complete != 1 || r.Announce.Incomplete != 1 {
		t.Fatalf("second announce: %+v", r.Announce)
	}
	// A connection id is bound to the client's address.
	r = a.announce(idb, &ra, "")
	if r.Action != tracker.ActionError || r.Error != "bad connection id" {
		t.Errorf("announce with another client's id: %+v", r)
	}
	a.txID++
	r = a.parse(a.roundTrip(tracker.AppendUDPScrapeRequest(nil, ida, a.txID, []metainfo.Hash{h, ih(9)})))
	if r.Action != tracker.ActionScrape || len(r.Scrape) != 2 ||
		r.Scrape[0] != (tracker.ScrapeStats{Complete: 1, Incomplete: 1}) || r.Scrape[1] != (tracker.ScrapeStats{}) {
		t.Errorf("scrape: %+v", r)
	}
	// Malformed announce with a valid id: a full error message.
	bad := tracker.AppendUDPAnnounceRequest(nil, ida, 77, &ra, nil)
	binary.BigEndian.PutUint32(bad[80:], 9) // event 9
	r = a.parse(a.roundTrip(bad))
	if r.Action != tracker.ActionError || r.TransactionID != 77 || r.Error != "unknown event" {
		t.Errorf("bad event: %+v", r)
	}
}

func TestUDPIPv6(t *testing.T) {
	probe, err := net.ListenPacket("udp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	probe.Close()
	ts := startServer(t, Config{}, ListenConfig{UDP: "[::1]:0", UDPSockets: 1})
	a, b := dialUDP(t, ts.l.UDPAddr()), dialUDP(t, ts.l.UDPAddr())
	ra, rb := announceReq(ih(1), 1, 5), announceReq(ih(1), 2, 5)
	a.announce(a.connect(), &ra, "")
	r := b.announce(b.connect(), &rb, "")
	if len(r.Announce.Peers) != 1 || r.Announce.Peers[0].Addr != netip.AddrPortFrom(netip.IPv6Loopback(), ra.Port) {
		t.Errorf("IPv6 announce: %+v", r.Announce)
	}
}

func TestUDPConnectionIDExpires(t *testing.T) {
	ts := startServer(t, Config{}, ListenConfig{UDP: "127.0.0.1:0", UDPSockets: 1})
	c := dialUDP(t, ts.l.UDPAddr())
	id := c.connect()
	req := announceReq(ih(1), 1, 5)
	ts.clock.add(119 * time.Second)
	if r := c.announce(id, &req, ""); r.Action != tracker.ActionAnnounce {
		t.Fatalf("id refused after 119 s: %+v", r)
	}
	ts.clock.add(time.Second)
	if r := c.announce(id, &req, ""); r.Action != tracker.ActionError || r.Error != "bad connection id" {
		t.Fatalf("id accepted after 120 s: %+v", r)
	}
	if r := c.announce(c.connect(), &req, ""); r.Action != tracker.ActionAnnounce {
		t.Fatalf("fresh id refused: %+v", r)
	}
}

func TestUDPPrivate(t *testing.T) {
	ts := startServer(t, Config{Keys: []string{"sekrit"}}, ListenConfig{UDP: "127.0.0.1:0", UDPSockets: 1})
	c := dialUDP(t, ts.l.UDPAddr())
	id := c.connect()
	req := announceReq(ih(1), 1, 5)
	if r := c.announce(id, &req, "/sekrit/announce"); r.Action != tracker.ActionAnnounce {
		t.Errorf("with key: %+v", r)
	}
	if r := c.announce(id, &req, "/other/announce"); r.Action != tracker.ActionError || r.Error != "unknown key" {
		t.Errorf("wrong key: %+v", r)
	}
	if r := c.announce(id, &req, ""); r.Action != tracker.ActionError || !strings.Contains(r.Error, "private") {
		t.Errorf("no key: %+v", r)
	}
}

// TestUDPBogus sends what a hostile or broken client might, and checks
// that every reply is no larger than its request and that the tracker
// still serves afterwards.
func TestUDPBogus(t *testing.T) {
	ts := startServer(t, Config{}, ListenConfig{UDP: "127.0.0.1:0", UDPSockets: 1})
	c := dialUDP(t, ts.l.UDPAddr())
	unknown := tracker.AppendUDPConnectRequest(nil, 5)
	binary.BigEndian.PutUint32(unknown[8:], 7)
	noProto := tracker.AppendUDPConnectRequest(nil, 6)
	noProto[0] = 1
	for name, pkt := range map[string][]byte{
		"unknown action":   unknown,
		"connect no magic": noProto,
		"announce bad id":  tracker.AppendUDPAnnounceRequest(nil, 12345, 9, &tracker.AnnounceRequest{Port: 1}, nil),
		"scrape bad id":    tracker.AppendUDPScrapeRequest(nil, 12345, 9, []metainfo.Hash{{}}),
	} {
		reply := c.roundTrip(pkt)
		if len(reply) > len(pkt) {
			t.Errorf("%s: %d-byte reply to a %d-byte request", name, len(reply), len(pkt))
		}
		if r := c.parse(reply); r.Action != tracker.ActionError {
			t.Errorf("%s: reply %+v, want an error", name, r)
		}
	}
	// Dropped without reply: the next reply must answer the next request.
	for _, pkt := range [][]byte{{}, {1, 2, 3}, make([]byte, 15), make([]byte, maxUDPPacket+1), make([]byte, 65000)} {
		if _, err := c.c.Write(pkt); err != nil {
			t.Fatal(err)
		}
	}
	if id := c.connect(); id == 0 {
		t.Errorf("zero connection id")
	}
	for _, kind := range []string{KindUndersized, KindOversized} {
		if got := metricValue(t, ts.Server, "swarmlab_tracker_errors_total", "kind", kind, "proto", "udp"); got == 0 {
			t.Errorf("%s not counted", kind)
		}
	}
}

// TestUDPHandle drives one read loop's handler directly with injected
// times: the error rate limit and the no-amplification rule.
func TestUDPHandle(t *testing.T) {
	s := newServer(t, Config{UDPErrorRate: 10})
	w := s.newUDPWorker()
	from := netip.MustParseAddrPort("127.0.0.1:4000")
	bogus := tracker.AppendUDPAnnounceRequest(nil, 1, 2, &tracker.AnnounceRequest{Port: 1}, nil)
	sent := 0
	for i := 0; i < 1000; i++ {
		if out := w.handle(bogus, from, t0); len(out) > 0 {
			sent++
		}
	}
	if sent != 10 {
		t.Errorf("sent %d error replies in one instant at 10/s, want 10", sent)
	}
	// Half a second later, five more.
	sent = 0
	for i := 0; i < 100; i++ {
		if out := w.handle(bogus, from, t0.Add(500*time.Millisecond)); len(out) > 0 {
			sent++
		}
	}
	if sent != 5 {
		t.Errorf("after 0.5 s: %d replies, want 5", sent)
	}
	if got := metricValue(t, s, "swarmlab_tracker_errors_total", "kind", KindRateLimited, "proto", "udp"); got != 1085 {
		t.Errorf("rate_limited counted %v, want 1085", got)
	}
	// A 16-byte packet with an unknown action gets at most 16 bytes back.
	w2 := s.newUDPWorker()
	pkt := make([]byte, 16)
	pkt[11] = 9
	if out := w2.handle(pkt, from, t0); len(out) != 16 || string(out[8:]) != "unknown " {
		t.Errorf("reply %q (%d bytes) to a 16-byte packet", out, len(out))
	}
	// Connection ids also hold across handlers (the sockets of one port).
	id := binary.BigEndian.Uint64(w2.handle(tracker.AppendUDPConnectRequest(nil, 1), from, t0)[8:])
	a := announceReq(ih(1), 1, 0)
	if out := w.handle(tracker.AppendUDPAnnounceRequest(nil, id, 3, &a, nil), from, t0.Add(time.Minute)); binary.BigEndian.Uint32(out) != uint32(tracker.ActionAnnounce) {
		t.Errorf("announce on another loop refused: %q", out)
	}
}

// TestUDPResponseSize checks that a response never exceeds one datagram
// of typical MTU however many peers are asked for.
func TestUDPResponseSize(t *testing.T) {
	s := newServer(t, Config{MaxNumWant: 1000})
	w := s.newUDPWorker()
	for i := 0; i < 400; i++ {
		a := announceReq(ih(1), i, 100)
		s.Announce(t.Context(), Origin{Remote: local}, &a, t0, &tracker.AnnounceResponse{})
		a.Port = uint16(40000 + i)
		s.Announce(t.Context(), Origin{Remote: netip.IPv6Loopback()}, &a, t0, &tracker.AnnounceResponse{})
	}
	for _, from := range []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:1"), netip.MustParseAddrPort("[::1]:1")} {
		id := binary.BigEndian.Uint64(w.handle(tracker.AppendUDPConnectRequest(nil, 1), from, t0)[8:])
		a := announceReq(ih(1), 999, 100)
		a.NumWant = 1000
		out := w.handle(tracker.AppendUDPAnnounceRequest(nil, id, 3, &a, nil), from, t0)
		limit := 1472
		if from.Addr().Is6() {
			limit = 1232
		}
		if len(out) > limit || len(out) < limit-18 {
			t.Errorf("from %v: %d-byte response, want just under %d", from, len(out), limit)
		}
	}
}

// plainConn hides the *net.UDPConn, so the server uses its portable
// packet-at-a-time loop instead of batched system calls.
type plainConn struct{ net.PacketConn }

func TestUDPPortableLoop(t *testing.T) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(t, Config{})
	done := make(chan error, 1)
	go func() { done <- s.Serve(t.Context(), &Listeners{UDP: []net.PacketConn{plainConn{c}}}) }()
	cl := dialUDP(t, c.LocalAddr())
	req := announceReq(ih(1), 1, 5)
	if r := cl.announce(cl.connect(), &req, ""); r.Action != tracker.ActionAnnounce || r.Announce.Incomplete != 1 {
		t.Errorf("announce: %+v", r)
	}
	s.Close()
	if err := <-done; err != ErrClosed {
		t.Errorf("Serve: %v", err)
	}
}

// TestUDPFloodBounded announces thousands of new swarms and peers over a
// real socket: past the caps every announce is refused with the reason,
// and the store never holds more than the caps allow.
func TestUDPFloodBounded(t *testing.T) {
	ts := startServer(t, Config{StoreLimits: store.Limits{MaxSwarms: 50, MaxPeersPerSwarm: 20, MaxPeers: 500}},
		ListenConfig{UDP: "127.0.0.1:0", UDPSockets: 1})
	c := dialUDP(t, ts.l.UDPAddr())
	id := c.connect()
	refused := 0
	for i := 0; i < 3000; i++ {
		a := announceReq(ih(i%200), i, 100)
		r := c.announce(id, &a, "")
		switch {
		case r.Action == tracker.ActionAnnounce:
		case r.Action == tracker.ActionError && strings.Contains(r.Error, "full"):
			refused++
		default:
			t.Fatalf("announce %d: %+v", i, r)
		}
	}
	tot, err := ts.Store().Totals(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if tot.Swarms > 50 || tot.Peers > 500 || refused < 2500 {
		t.Errorf("after the flood: %+v, %d refused", tot, refused)
	}
}

// TestUDPCompactReply checks the reply the UDP frontend builds around the
// peers the store writes in place: the header (action, transaction id,
// interval, leechers, seeders), then the asked family's peers, each a
// distinct member of the swarm other than the asker; and that a reply
// following a longer one in the same buffer carries nothing stale.
func TestUDPCompactReply(t *testing.T) {
	s := newServer(t, Config{Interval: 7 * time.Second})
	w := s.newUDPWorker()
	members := map[netip.AddrPort]bool{}
	for i := 0; i < 60; i++ {
		a := announceReq(ih(1), i, int64(i%4)) // a quarter seeds
		remote := netip.AddrFrom4([4]byte{10, 0, 0, byte(i)})
		if i%2 == 1 {
			remote = netip.AddrFrom16([16]byte{0x20, 0x01, 15: byte(i)})
		}
		if err := s.Announce(t.Context(), Origin{Remote: remote}, &a, t0, &tracker.AnnounceResponse{}); err != nil {
			t.Fatal(err)
		}
		members[netip.AddrPortFrom(remote, a.Port)] = true
	}
	for _, tc := range []struct {
		from          string
		numWant, want int
		leechers      int // the asker is one, once per family
	}{
		{"127.0.0.1:9", 50, 30, 46}, {"127.0.0.1:9", 3, 3, 46}, {"[::1]:9", 40, 30, 47}, {"[::1]:9", 0, 0, 47},
	} {
		from := netip.MustParseAddrPort(tc.from)
		id := binary.BigEndian.Uint64(w.handle(tracker.AppendUDPConnectRequest(nil, 1), from, t0)[8:])
		a := announceReq(ih(1), 100, 5)
		a.NumWant = tc.numWant
		out := w.handle(tracker.AppendUDPAnnounceRequest(nil, id, 42, &a, nil), from, t0)
		r, err := tracker.ParseUDPResponse(out, from.Addr().Is6())
		if err != nil {
			t.Fatalf("from %v: %v", from, err)
		}
		if r.Action != tracker.ActionAnnounce || r.TransactionID != 42 || r.Announce.Interval != 7*time.Second ||
			r.Announce.Complete != 15 || r.Announce.Incomplete != tc.leechers {
			t.Errorf("from %v: header %+v", from, r)
		}
		if len(r.Announce.Peers) != tc.want {
			t.Errorf("from %v numwant %d: %d peers, want %d", from, tc.numWant, len(r.Announce.Peers), tc.want)
		}
		seen := map[netip.AddrPort]bool{}
		for _, p := range r.Announce.Peers {
			if !members[p.Addr] || seen[p.Addr] || p.Addr.Addr().Is4() != from.Addr().Is4() {
				t.Fatalf("from %v: peer %v not a distinct member of the right family", from, p.Addr)
			}
			seen[p.Addr] = true
		}
	}
}
