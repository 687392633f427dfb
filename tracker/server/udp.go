package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"time"

	"github.com/swarmlab/swarmlab/tracker"
	"github.com/swarmlab/swarmlab/tracker/store"
)

// maxUDPPacket is the longest request served: a scrape of MaxScrapeHashes
// is 1496 bytes and an announce with BEP 41 URL data a few hundred. Longer
// datagrams are dropped unanswered; the read buffer is one byte longer so
// that they can be told from ones that just fit.
const maxUDPPacket = 2048

// Peers that fit one response datagram on a typical path: 1500-byte
// Ethernet MTU for IPv4 (1472 bytes of UDP payload), the IPv6 minimum MTU
// of 1280 for IPv6 (1232), so that an answer never needs fragmenting.
const (
	maxUDPPeers4 = (1472 - tracker.UDPAnnounceHeaderSize) / 6
	maxUDPPeers6 = (1232 - tracker.UDPAnnounceHeaderSize) / 18
)

func udpLoopsPerSocket() int { return runtime.GOMAXPROCS(0) }

// udpWorker is one read loop's state: everything a request needs is
// reused from packet to packet, so serving allocates nothing.
type udpWorker struct {
	s      *Server
	req    tracker.UDPRequest
	resp   tracker.AnnounceResponse
	stats  []tracker.ScrapeStats
	out    []byte
	errors *tokenBucket // shared by the workers of one read loop
}

func (s *Server) newUDPWorker() *udpWorker {
	rate := float64(s.cfg.UDPErrorRate)
	return &udpWorker{
		s:      s,
		out:    make([]byte, 0, 2048),
		stats:  make([]tracker.ScrapeStats, 0, MaxScrapeHashes),
		errors: &tokenBucket{rate: rate, burst: rate},
	}
}

// serveUDP is one read loop on c. On Linux it receives and replies in
// batches (udp_linux.go); this loop, a packet per system call, serves
// everywhere else and for PacketConns that are not UDP sockets.
func (s *Server) serveUDP(ctx context.Context, c net.PacketConn) error {
	if uc, ok := c.(*net.UDPConn); ok && batchSupported {
		return s.serveUDPBatch(ctx, uc)
	}
	w := s.newUDPWorker()
	buf := make([]byte, maxUDPPacket+1)
	uc, _ := c.(*net.UDPConn)
	var fails readFailures
	for {
		var (
			n    int
			from netip.AddrPort
			err  error
		)
		if uc != nil {
			n, from, err = uc.ReadFromUDPAddrPort(buf)
		} else {
			var a net.Addr
			n, a, err = c.ReadFrom(buf)
			if ua, ok := a.(*net.UDPAddr); ok {
				from = ua.AddrPort()
			}
		}
		if err != nil {
			if stop, err := fails.add(ctx, err); stop {
				return err
			}
			continue
		}
		fails.reset()
		out := w.handle(buf[:n], from, s.cfg.Now())
		if len(out) == 0 {
			continue
		}
		if uc != nil {
			_, err = uc.WriteToUDPAddrPort(out, from)
		} else {
			_, err = c.WriteTo(out, net.UDPAddrFromAddrPort(from))
		}
		_ = err // the client retries; nothing to do about one lost reply
	}
}

// handle serves one datagram and returns the reply, or nothing when the
// datagram deserves none. The reply aliases w's buffer.
//
// Nothing is sent back that is larger than what came in unless the sender
// proved, with a valid connection id, that it receives at its source
// address: connect replies are exactly as long as connect requests, and
// error replies are cut to the length of the request and rate-limited.
// The tracker therefore cannot amplify traffic aimed at a spoofed address.
func (w *udpWorker) handle(pkt []byte, from netip.AddrPort, now time.Time) []byte {
	s := w.s
	m := s.metrics
	switch {
	case len(pkt) < 16:
		m.errors(protoUDP, KindUndersized).Inc()
		return nil
	case len(pkt) > maxUDPPacket:
		m.errors(protoUDP, KindOversized).Inc()
		return nil
	}
	req := &w.req
	err := tracker.ParseUDPRequest(pkt, req, MaxScrapeHashes)
	if req.Action == tracker.ActionConnect {
		if err != nil {
			return w.fail(pkt, KindMalformed, err.Error(), now)
		}
		m.connects.Inc()
		return tracker.AppendUDPConnectResponse(w.out[:0], req.TransactionID, s.connIDs.issue(from, now))
	}
	if req.Action != tracker.ActionAnnounce && req.Action != tracker.ActionScrape {
		return w.fail(pkt, KindUnknownAction, "unknown action", now)
	}
	if !s.connIDs.valid(req.ConnectionID, from, now) {
		return w.fail(pkt, KindBadConnectionID, "bad connection id", now)
	}
	if err != nil {
		// The sender is proven to receive at its address, so it gets the
		// whole reason, unlimited.
		m.errors(protoUDP, KindMalformed).Inc()
		return tracker.AppendUDPError(w.out[:0], req.TransactionID, err.Error())
	}
	fam := store.FamilyOf(from.Addr())
	o := Origin{Remote: from.Addr(), Family: fam, Proto: "udp", MaxPeers: maxUDPPeers4}
	if fam == store.FamilyIPv6 {
		o.MaxPeers = maxUDPPeers6
	}
	if req.Action == tracker.ActionScrape {
		// BEP 41 options exist only for announces, so a private tracker
		// cannot be scraped over UDP: Key stays empty and is refused.
		w.stats, err = s.Scrape(context.Background(), o, req.InfoHashes, w.stats[:0])
		if err != nil {
			return tracker.AppendUDPError(w.out[:0], req.TransactionID, err.Error())
		}
		return tracker.AppendUDPScrapeResponse(w.out[:0], req.TransactionID, w.stats)
	}
	if len(req.URLData) > 0 {
		key, _ := splitKeyPath(req.URLData)
		o.Key = s.keyString(key)
	}
	// The store appends the peers, already in compact form, after room
	// left for the header, which is written once the counts are known.
	// The header is fixed-size, so writing it over that room (appending to
	// out[:0], whose capacity holds it) leaves the peers in place.
	out, err := s.announceCompact(context.Background(), &o, &req.Announce, now, &w.resp,
		w.out[:tracker.UDPAnnounceHeaderSize])
	w.out = out[:0] // keep the buffer should the store have grown it
	if err != nil {
		return tracker.AppendUDPError(w.out[:0], req.TransactionID, err.Error())
	}
	tracker.AppendUDPAnnounceHeader(out[:0], req.TransactionID, &w.resp)
	return out
}

// fail answers a request that has not proven its source address: an error
// packet no longer than the request, within the error rate. The request's
// transaction id is in w.req, where parsing put it.
func (w *udpWorker) fail(pkt []byte, kind, msg string, now time.Time) []byte {
	m := w.s.metrics
	m.errors(protoUDP, kind).Inc()
	if !w.errors.allow(now) {
		m.errors(protoUDP, KindRateLimited).Inc()
		return nil
	}
	room := len(pkt) - tracker.UDPErrorHeaderSize
	if len(msg) > room {
		msg = msg[:room]
	}
	return tracker.AppendUDPError(w.out[:0], w.req.TransactionID, msg)
}

// readFailures tells a failed read that affects one packet (an ICMP error
// surfacing, a momentary buffer shortage), after which the loop goes on,
// from a socket that fails every read, which would otherwise spin a core.
type readFailures struct{ n int }

const maxReadFailures = 1000

func (f *readFailures) reset() { f.n = 0 }

// add counts a read that failed with err and reports whether the read loop
// is to stop, and with what: nil when ctx is done or the socket was closed
// (the way Serve ends a loop), an error when reads keep failing.
func (f *readFailures) add(ctx context.Context, err error) (stop bool, _ error) {
	if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
		return true, nil
	}
	f.n++
	if f.n >= maxReadFailures {
		return true, fmt.Errorf("udp: %d reads in a row failed, last: %w", f.n, err)
	}
	return false, nil
}

// tokenBucket limits events to rate per second with bursts of burst, by
// the times it is given.
type tokenBucket struct {
	rate, burst, tokens float64
	last                time.Time
}

func (b *tokenBucket) allow(now time.Time) bool {
	if b.last.IsZero() {
		b.tokens = b.burst
	} else if d := now.Sub(b.last); d > 0 {
		b.tokens = min(b.burst, b.tokens+d.Seconds()*b.rate)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}
