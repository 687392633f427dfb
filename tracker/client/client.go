package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
)

// Defaults for Config's zero fields.
const (
	// DefaultTimeout bounds one announce or scrape at one tracker. Long
	// enough for two UDP retransmissions (sent at 0, 15 and 45 s), short
	// enough that a dead tracker does not hold up the rest of its tier
	// for long.
	DefaultTimeout = time.Minute
	// DefaultUDPRetryBase is BEP 15's retransmission timeout for n = 0;
	// the n-th retransmission waits DefaultUDPRetryBase·2^n.
	DefaultUDPRetryBase = 15 * time.Second
	// DefaultUDPMaxRetries is BEP 15's largest n (a wait of 3840 s).
	DefaultUDPMaxRetries = 8
	// DefaultMaxResponse caps an HTTP tracker response body. A response
	// with 200 compact peers is under 2 KiB; a bigger one is broken or
	// hostile.
	DefaultMaxResponse = 1 << 20
	// ConnectionIDLifetime is how long BEP 15 lets a client use a
	// connection id after receiving it.
	ConnectionIDLifetime = time.Minute
)

// Config configures a Client. Every field is optional.
type Config struct {
	// PeerID, Port and Key fill the fields a request leaves zero (PeerID
	// and Port) or unset (Key, when !HasKey). A process whose torrents
	// share one identity sets them here; a lab world of many peers in one
	// process sets them per request instead. A zero Key is replaced by a
	// random one, since the point of the key is to tell clients apart.
	PeerID tracker.PeerID
	Port   uint16
	Key    uint32

	// UserAgent is sent with HTTP requests (default "swarmlab").
	UserAgent string
	// HTTPClient sends HTTP requests. Nil means a client of the Client's
	// own, with keep-alive, which Close releases.
	HTTPClient *http.Client
	// MaxResponse caps an HTTP response body (default DefaultMaxResponse).
	MaxResponse int64

	// Timeout bounds each Announce and Scrape call at one tracker, on top
	// of the caller's context (default DefaultTimeout; negative: only the
	// context bounds it). It cuts BEP 15's schedule short on purpose: a
	// tier of trackers is walked one at a time, and a client that gave
	// each dead tracker the full two hours would never reach the live
	// one. Set it negative to follow the schedule to the end.
	Timeout time.Duration
	// UDPRetryBase and UDPMaxRetries shape BEP 15 retransmission: a
	// request unanswered after UDPRetryBase·2^n is sent again, n counting
	// from 0 to UDPMaxRetries across the connect and the request it
	// serves (defaults DefaultUDPRetryBase and DefaultUDPMaxRetries).
	UDPRetryBase  time.Duration
	UDPMaxRetries int

	// Now reads the clock that ages UDP connection ids (default time.Now).
	Now func() time.Time
	// After makes the timers for retransmissions and Timeout (default
	// time.After). Tests hand in timers they fire themselves.
	After func(time.Duration) <-chan time.Time
}

// Client announces to and scrapes trackers. One Client serves every
// torrent of a process; its methods are safe for concurrent use.
type Client struct {
	cfg     Config
	http    *http.Client
	ownHTTP bool

	mu     sync.Mutex
	closed bool
	udp    map[string]*udpTracker // the live entry by host:port, as the URL spells it
	// sockets holds every open UDP socket: the live entries and failed
	// ones that requests still use.
	sockets map[*udpTracker]struct{}
	loops   sync.WaitGroup // UDP read loops
}

// New returns a Client for cfg.
func New(cfg Config) *Client {
	if cfg.Key == 0 {
		cfg.Key = rand.Uint32()
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "swarmlab"
	}
	if cfg.MaxResponse <= 0 {
		cfg.MaxResponse = DefaultMaxResponse
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.UDPRetryBase <= 0 {
		cfg.UDPRetryBase = DefaultUDPRetryBase
	}
	if cfg.UDPMaxRetries <= 0 {
		cfg.UDPMaxRetries = DefaultUDPMaxRetries
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.After == nil {
		cfg.After = time.After
	}
	c := &Client{cfg: cfg, http: cfg.HTTPClient, udp: make(map[string]*udpTracker),
		sockets: make(map[*udpTracker]struct{})}
	if c.http == nil {
		// A transport of our own rather than http.DefaultTransport, so
		// that Close can drop our idle connections and nobody else's
		// settings leak in.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 4
		c.http = &http.Client{Transport: tr}
		c.ownHTTP = true
	}
	return c
}

// Close closes the UDP sockets and idle HTTP connections. Calls in flight
// fail; later calls return ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	for t := range c.sockets {
		c.closeUDPLocked(t)
	}
	clear(c.udp)
	c.mu.Unlock()
	c.loops.Wait()
	if c.ownHTTP {
		c.http.CloseIdleConnections()
	}
	return nil
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Errors.
var (
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("tracker client closed")
	// ErrTimeout means the tracker did not answer in time: the UDP
	// retransmissions ran out or Config.Timeout passed.
	ErrTimeout = errors.New("tracker did not answer in time")
	// ErrNoScrape means the tracker has no scrape URL (BEP 48's
	// convention does not apply to its announce URL).
	ErrNoScrape = errors.New("tracker has no scrape URL")
	// ErrScheme means the tracker URL is neither http(s) nor udp.
	ErrScheme = errors.New("unsupported tracker URL scheme")
)

// FailureError is a tracker's refusal: an HTTP "failure reason" or a BEP
// 15 error packet. Unlike a network error, retrying at once will not help.
type FailureError struct {
	Reason string
}

func (e *FailureError) Error() string { return "tracker refused: " + e.Reason }

// Announce sends req to the tracker at trackerURL, once (with BEP 15
// retransmission for UDP), and returns its answer. A refusal is a
// *FailureError; a "warning message" comes back in the response.
//
// PeerID, Port and Key are filled from Config where req leaves them out;
// Compact is always asked for.
func (c *Client) Announce(ctx context.Context, trackerURL string, req tracker.AnnounceRequest) (*tracker.AnnounceResponse, error) {
	if c.isClosed() {
		return nil, ErrClosed
	}
	u, err := parseTrackerURL(trackerURL)
	if err != nil {
		return nil, err
	}
	if req.PeerID == (tracker.PeerID{}) {
		req.PeerID = c.cfg.PeerID
	}
	if req.Port == 0 {
		req.Port = c.cfg.Port
	}
	if !req.HasKey {
		req.Key, req.HasKey = c.cfg.Key, true
	}
	if req.Port == 0 {
		// Trackers refuse it; say so without asking one.
		return nil, errors.New("announce: no port (set Config.Port or the request's)")
	}
	req.Compact, req.NoPeerID = true, false
	ctx, cancel := c.bound(ctx)
	defer cancel()
	var resp *tracker.AnnounceResponse
	if u.Scheme == "udp" {
		resp, err = c.udpAnnounce(ctx, u, &req)
	} else {
		resp, err = c.httpAnnounce(ctx, u, &req)
	}
	if err != nil {
		return nil, fmt.Errorf("announce to %s: %w", redact(u), c.cause(ctx, err))
	}
	return resp, nil
}

// Scrape asks the tracker at trackerURL (an announce URL) for the swarm
// numbers of hashes and returns them in the order asked. A hash the
// tracker leaves out of its answer reads as an empty swarm. Long lists
// go out in several requests of at most tracker.UDPMaxScrapeHashes, the
// most trackers accept at once.
func (c *Client) Scrape(ctx context.Context, trackerURL string, hashes []metainfo.Hash) ([]tracker.ScrapeStats, error) {
	if c.isClosed() {
		return nil, ErrClosed
	}
	u, err := parseTrackerURL(trackerURL)
	if err != nil {
		return nil, err
	}
	ctx, cancel := c.bound(ctx)
	defer cancel()
	out := make([]tracker.ScrapeStats, 0, len(hashes))
	for len(hashes) > 0 {
		chunk := hashes[:min(len(hashes), tracker.UDPMaxScrapeHashes)]
		hashes = hashes[len(chunk):]
		var stats []tracker.ScrapeStats
		if u.Scheme == "udp" {
			stats, err = c.udpScrape(ctx, u, chunk)
		} else {
			stats, err = c.httpScrape(ctx, u, chunk)
		}
		if err != nil {
			return nil, fmt.Errorf("scrape %s: %w", redact(u), c.cause(ctx, err))
		}
		out = append(out, stats...)
	}
	return out, nil
}

func parseTrackerURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		// url.Error repeats the whole URL, which for a private tracker
		// holds the user's key; say only what was wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("tracker URL: %w", err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch u.Scheme {
	case "http", "https":
	case "udp":
		if u.Port() == "" {
			return nil, fmt.Errorf("tracker URL %s: UDP tracker without a port", redact(u))
		}
	default:
		return nil, fmt.Errorf("tracker URL %s: %w", redact(u), ErrScheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("tracker URL %s: no host", redact(u))
	}
	return u, nil
}

// redact names a tracker for error messages by scheme and host only:
// private trackers carry the user's key in the path or query, and errors
// end up in logs.
func redact(u *url.URL) string { return u.Scheme + "://" + u.Host }

// bound applies Config.Timeout to ctx with a timer from Config.After, so
// that tests control it like every other timer.
func (c *Client) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.cfg.Timeout < 0 {
		return context.WithCancel(ctx)
	}
	return withTimer(ctx, c.cfg.After, c.cfg.Timeout)
}

// withTimer is context.WithTimeout on a timer made by after: the context
// ends with cause ErrTimeout when the timer fires before cancel is called.
func withTimer(ctx context.Context, after func(time.Duration) <-chan time.Time, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	timer := after(d)
	done := make(chan struct{})
	go func() {
		select {
		case <-timer:
			cancel(ErrTimeout)
		case <-done:
		}
	}()
	return ctx, func() {
		close(done)
		cancel(context.Canceled)
	}
}

// cause reports why ctx ended, when it did, in place of the transport's
// rendering of it (http.Client says "context canceled" for our timeout).
func (c *Client) cause(ctx context.Context, err error) error {
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return context.Cause(ctx)
	}
	return err
}
