package client

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
)

// maxUDPPacket is the read buffer of a tracker socket: the largest UDP
// payload, so that a big peer list is never silently truncated into an
// unparseable one.
const maxUDPPacket = 64 << 10

// udpTracker is one UDP tracker's socket and connection id.
//
// The socket is connected (net.DialUDP): the kernel then drops datagrams
// from any other address, reports an ICMP "port unreachable" as
// ECONNREFUSED so that a dead tracker fails at once instead of after the
// retransmission schedule, and keeps the source port fixed, which trackers
// that bind connection ids to the client's address and port (swarmlab's
// own does) require. A socket lives about as long as its connection id:
// Client sweeps out idle ones whose id has expired, so a process that has
// met many trackers does not keep a socket open for each.
type udpTracker struct {
	key  string // host:port as the URL spells it, lower case
	conn *net.UDPConn
	v6   bool // peers are 18 bytes (BEP 15: by the tracker's address family)

	// users and dead are guarded by Client.mu.
	users int  // operations in flight
	dead  bool // failed: the next operation dials a new socket

	mu      sync.Mutex
	pending map[uint32]chan udpReply // by transaction id
	connID  uint64
	connAt  time.Time // when connID was received
	hasConn bool
}

type udpReply struct {
	resp *tracker.UDPResponse
	err  error
}

// errStale is exchange's signal that the connection id aged past its
// lifetime while a request waited, so the request must be sent again
// under a new id.
var errStale = errors.New("connection id expired")

func (c *Client) udpAnnounce(ctx context.Context, u *url.URL, req *tracker.AnnounceRequest) (*tracker.AnnounceResponse, error) {
	urlData := bep41URLData(u)
	resp, err := c.udpDo(ctx, u, tracker.ActionAnnounce, func(connID uint64, txID uint32) []byte {
		return tracker.AppendUDPAnnounceRequest(nil, connID, txID, req, urlData)
	})
	if err != nil {
		return nil, err
	}
	a := resp.Announce
	return &a, nil
}

func (c *Client) udpScrape(ctx context.Context, u *url.URL, hashes []metainfo.Hash) ([]tracker.ScrapeStats, error) {
	resp, err := c.udpDo(ctx, u, tracker.ActionScrape, func(connID uint64, txID uint32) []byte {
		return tracker.AppendUDPScrapeRequest(nil, connID, txID, hashes)
	})
	if err != nil {
		return nil, err
	}
	if len(resp.Scrape) != len(hashes) {
		return nil, fmt.Errorf("UDP scrape answered %d of %d info hashes", len(resp.Scrape), len(hashes))
	}
	return resp.Scrape, nil
}

// bep41URLData is what BEP 41 sends after a UDP announce: the announce
// URL's path and query, which is how a private UDP tracker learns a key.
// A bare host sends nothing.
func bep41URLData(u *url.URL) []byte {
	s := u.EscapedPath()
	if u.RawQuery != "" {
		s += "?" + u.RawQuery
	}
	if s == "" || s == "/" {
		return nil
	}
	return []byte(s)
}

// udpDo performs one BEP 15 request: it obtains a connection id (cached
// or by a connect exchange), sends the request that build makes, and
// retransmits both as BEP 15 says. One retry counter n spans the connect
// and the request, so the whole operation follows a single 15·2^n
// schedule; when the connection id ages out during the waits, the request
// goes out again under a fresh one.
func (c *Client) udpDo(ctx context.Context, u *url.URL, want tracker.Action, build func(connID uint64, txID uint32) []byte) (*tracker.UDPResponse, error) {
	t, err := c.acquireUDP(ctx, u)
	if err != nil {
		return nil, err
	}
	defer c.releaseUDP(t)
	n := 0
	retried := false
	for {
		connID, at, fresh, err := c.udpConnID(ctx, t, &n)
		if err != nil {
			c.udpFailed(t, err)
			return nil, err
		}
		stale := func() bool { return c.cfg.Now().Sub(at) >= ConnectionIDLifetime }
		txID, ch := t.register()
		resp, err := c.exchange(ctx, t, ch, build(connID, txID), want, &n, stale)
		t.unregister(txID)
		if err == nil {
			return resp, nil
		}
		if errors.Is(err, errStale) {
			t.dropConnID(connID)
			continue
		}
		var fe *FailureError
		if errors.As(err, &fe) {
			// The error may be about the connection id itself: the
			// tracker restarted and forgot it, or ages ids faster than
			// BEP 15 says. A reused id therefore earns one more try
			// under a fresh one before the refusal is believed.
			// (retried guards against a concurrent request handing us
			// another cached id each time round.)
			t.dropConnID(connID)
			if !fresh && !retried {
				retried = true
				continue
			}
			return nil, err
		}
		c.udpFailed(t, err)
		return nil, err
	}
}

// udpConnID returns a connection id for t that is less than a lifetime
// old, with the time it was received, connecting first if need be. fresh
// reports that it was obtained by this call.
func (c *Client) udpConnID(ctx context.Context, t *udpTracker, n *int) (id uint64, at time.Time, fresh bool, err error) {
	if id, at, ok := t.cachedConnID(c.cfg.Now()); ok {
		return id, at, false, nil
	}
	txID, ch := t.register()
	resp, err := c.exchange(ctx, t, ch, tracker.AppendUDPConnectRequest(nil, txID), tracker.ActionConnect, n, nil)
	t.unregister(txID)
	if err != nil {
		return 0, time.Time{}, false, err
	}
	at = c.cfg.Now()
	t.setConnID(resp.ConnectionID, at)
	return resp.ConnectionID, at, true, nil
}

// exchange sends pkt and waits for the reply on ch, sending pkt again
// (same transaction id, so that a late answer to an earlier copy still
// counts) each time UDPRetryBase·2^n passes, n counting up to
// UDPMaxRetries. Replies with another action than want are ignored, but
// for an error reply, which becomes a *FailureError. stale, if not nil,
// is asked before each retransmission whether pkt's connection id has
// expired; exchange then returns errStale.
func (c *Client) exchange(ctx context.Context, t *udpTracker, ch <-chan udpReply, pkt []byte, want tracker.Action, n *int, stale func() bool) (*tracker.UDPResponse, error) {
	for {
		if _, err := t.conn.Write(pkt); err != nil {
			return nil, unwrapOpError(err)
		}
		timer := c.cfg.After(retryWait(c.cfg.UDPRetryBase, *n))
	wait:
		for {
			select {
			case <-ctx.Done():
				return nil, context.Cause(ctx)
			case r := <-ch:
				switch {
				case r.err != nil:
					return nil, r.err
				case r.resp.Action == want:
					return r.resp, nil
				case r.resp.Action == tracker.ActionError:
					return nil, &FailureError{Reason: r.resp.Error}
				}
				// Our transaction id with the wrong action: a confused
				// or spoofing sender. Keep waiting for the real answer.
			case <-timer:
				break wait
			}
		}
		if *n >= c.cfg.UDPMaxRetries {
			return nil, ErrTimeout
		}
		*n++
		if stale != nil && stale() {
			return nil, errStale
		}
	}
}

// retryWait is base·2^n, saturating rather than overflowing for a large
// configured retry count.
func retryWait(base time.Duration, n int) time.Duration {
	for ; n > 0 && base < math.MaxInt64/2; n-- {
		base *= 2
	}
	return base
}

// acquireUDP returns the live tracker entry for u's host, dialling a new
// socket when there is none, and counts the caller as a user until
// releaseUDP.
func (c *Client) acquireUDP(ctx context.Context, u *url.URL) (*udpTracker, error) {
	key := strings.ToLower(u.Host)
	if t, err := c.lookupUDP(key); t != nil || err != nil {
		return t, err
	}
	// Dial (and resolve) without holding the lock: DNS may be slow.
	var d net.Dialer
	nc, err := d.DialContext(ctx, "udp", u.Host)
	if err != nil {
		return nil, unwrapOpError(err)
	}
	conn := nc.(*net.UDPConn)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		conn.Close()
		return nil, ErrClosed
	}
	if t := c.udp[key]; t != nil && !t.dead {
		conn.Close() // another caller dialled first
		t.users++
		return t, nil
	}
	t := &udpTracker{
		key:     key,
		conn:    conn,
		v6:      conn.RemoteAddr().(*net.UDPAddr).AddrPort().Addr().Unmap().Is6(),
		users:   1,
		pending: make(map[uint32]chan udpReply),
	}
	// A dead entry still in use stays open for its users; releaseUDP
	// closes it when they are done, since it is no longer in the map.
	c.udp[key] = t
	c.sockets[t] = struct{}{}
	c.loops.Add(1)
	go t.readLoop(&c.loops)
	return t, nil
}

// lookupUDP returns the live entry for key, counting a user, after
// closing idle entries whose connection id has expired.
func (c *Client) lookupUDP(key string) (*udpTracker, error) {
	now := c.cfg.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	for k, t := range c.udp {
		if t.users == 0 && (t.dead || !t.hasValidConnID(now)) {
			c.closeUDPLocked(t)
			delete(c.udp, k)
		}
	}
	if t := c.udp[key]; t != nil && !t.dead {
		t.users++
		return t, nil
	}
	return nil, nil
}

func (c *Client) releaseUDP(t *udpTracker) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t.users--
	if t.users > 0 {
		return
	}
	switch {
	case c.udp[t.key] != t:
		c.closeUDPLocked(t) // replaced while in use
	case t.dead:
		c.closeUDPLocked(t)
		delete(c.udp, t.key)
	}
}

// udpFailed retires t after a failure other than a refusal: the next
// operation starts over with a new socket, a new connection id and a new
// DNS answer. A caller's own cancellation says nothing about the tracker.
func (c *Client) udpFailed(t *udpTracker, err error) {
	var fe *FailureError
	if errors.As(err, &fe) || errors.Is(err, context.Canceled) {
		return
	}
	c.mu.Lock()
	t.dead = true
	c.mu.Unlock()
}

// closeUDPLocked closes t's socket, which ends its read loop.
func (c *Client) closeUDPLocked(t *udpTracker) {
	_ = t.conn.Close()
	delete(c.sockets, t)
}

// readLoop hands each datagram to the request waiting for its
// transaction id and drops the rest.
func (t *udpTracker) readLoop(wg *sync.WaitGroup) {
	defer wg.Done()
	buf := make([]byte, maxUDPPacket)
	for {
		n, err := t.conn.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				t.fail(ErrClosed)
				return
			}
			// An ICMP error (ECONNREFUSED above all) is about the
			// tracker, not the socket: fail what is waiting and keep
			// reading.
			t.fail(unwrapOpError(err))
			continue
		}
		resp, err := tracker.ParseUDPResponse(buf[:n], t.v6)
		if err != nil {
			continue // garbage is a stray; retransmission covers a mangled reply
		}
		t.mu.Lock()
		ch := t.pending[resp.TransactionID]
		t.mu.Unlock()
		if ch == nil {
			continue // not ours, or too late
		}
		select {
		case ch <- udpReply{resp: resp}:
		default: // the waiter has enough to read already
		}
	}
}

// fail delivers err to every waiting request.
func (t *udpTracker) fail(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, ch := range t.pending {
		select {
		case ch <- udpReply{err: err}:
		default:
		}
	}
}

// register picks a random transaction id unused on t, so that replies
// cannot be confused between concurrent requests, and a channel for its
// replies.
func (t *udpTracker) register() (uint32, <-chan udpReply) {
	ch := make(chan udpReply, 4)
	t.mu.Lock()
	defer t.mu.Unlock()
	for {
		id := rand.Uint32() // unpredictable: the runtime's ChaCha8 source
		if _, taken := t.pending[id]; !taken {
			t.pending[id] = ch
			return id, ch
		}
	}
}

func (t *udpTracker) unregister(id uint32) {
	t.mu.Lock()
	delete(t.pending, id)
	t.mu.Unlock()
}

func (t *udpTracker) cachedConnID(now time.Time) (uint64, time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.hasConn && now.Sub(t.connAt) < ConnectionIDLifetime {
		return t.connID, t.connAt, true
	}
	return 0, time.Time{}, false
}

func (t *udpTracker) hasValidConnID(now time.Time) bool {
	_, _, ok := t.cachedConnID(now)
	return ok
}

func (t *udpTracker) setConnID(id uint64, at time.Time) {
	t.mu.Lock()
	t.connID, t.connAt, t.hasConn = id, at, true
	t.mu.Unlock()
}

// dropConnID forgets id unless a concurrent request has replaced it.
func (t *udpTracker) dropConnID(id uint64) {
	t.mu.Lock()
	if t.hasConn && t.connID == id {
		t.hasConn = false
	}
	t.mu.Unlock()
}

// unwrapOpError drops the *net.OpError wrapper, whose message names the
// local socket, leaving the cause (ECONNREFUSED and the like), which
// errors.Is still finds.
func unwrapOpError(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return fmt.Errorf("%s: %w", oe.Op, oe.Err)
	}
	return err
}
