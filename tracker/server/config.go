package server

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
	"github.com/swarmlab/swarmlab/tracker/store"
)

// Config configures a Server. The zero value is an open tracker with the
// defaults below over a fresh in-memory store.
type Config struct {
	// Store holds the swarms. Nil means a new store.Memory with StoreLimits
	// and Seed, which the Server then owns and closes.
	Store       store.Store
	StoreLimits store.Limits
	// Seed seeds the in-memory store's peer sampling; 0 is random.
	Seed uint64

	// Interval is the announce interval told to clients (default 30 min).
	// MinInterval is the "min interval" (default Interval/2).
	Interval, MinInterval time.Duration
	// PeerTTL is how long a peer stays after its last announce (default
	// 2×Interval, so one lost announce does not drop a peer).
	PeerTTL time.Duration
	// ExpireEvery is the period of the expiry sweep Serve runs (default
	// PeerTTL/4, at least a second and at most 5 minutes), ignored when
	// ExpireTicks is set.
	ExpireEvery time.Duration
	// ExpireTicks, if set, drives the expiry sweep instead of a ticker:
	// each value received is the "now" to expire against. Tests and the
	// simulator send virtual times here.
	ExpireTicks <-chan time.Time

	// NumWant is the number of peers given when a client does not say
	// (default 50); MaxNumWant caps what a client may ask for (default
	// 200).
	NumWant, MaxNumWant int

	// Whitelist, if not nil, lists the only info hashes served (an empty
	// non-nil list refuses everything); nil serves every torrent.
	Whitelist []metainfo.Hash
	// Keys, if not nil, makes the tracker private: every announce and
	// scrape must carry one of these keys as the first path segment
	// (http://host/KEY/announce), over UDP in BEP 41 URL data.
	Keys []string
	// AllowIPOverride honours the "ip" a client names instead of the
	// address its request came from. Off by default: it lets anyone
	// enter a third party's address into a swarm.
	AllowIPOverride bool

	// Now reads the clock for the frontends (default time.Now). The
	// logic itself takes times as arguments.
	Now func() time.Time

	// ConnIDKey keys the UDP connection ids. Zero means a random key;
	// tracker instances behind one UDP address that share a store must
	// share a key so that an id one issues is accepted by another.
	ConnIDKey [16]byte
	// UDPErrorRate caps the error packets each UDP read loop sends per
	// second (default 1000), so that the tracker cannot be used to
	// reflect traffic at a spoofed address; errors beyond it are dropped.
	UDPErrorRate int

	// MaxHTTPConns caps open HTTP connections (default 4096, ~20 KB
	// each at most); connections beyond it are closed at once.
	MaxHTTPConns int
	// HTTPIdleTimeout closes a connection that does not send a complete
	// request within it (default 60 s).
	HTTPIdleTimeout time.Duration

	// Logger receives operational messages (default: discarded).
	Logger *slog.Logger
}

// Defaults.
const (
	DefaultInterval     = 30 * time.Minute
	DefaultNumWant      = 50
	DefaultMaxNumWant   = 200
	DefaultUDPErrorRate = 1000
	DefaultMaxHTTPConns = 4096
	DefaultIdleTimeout  = 60 * time.Second
	// MaxScrapeHashes is the most info hashes one scrape may ask about,
	// over HTTP or UDP (BEP 15's "about 74").
	MaxScrapeHashes = tracker.UDPMaxScrapeHashes
)

func (c Config) withDefaults() (Config, error) {
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.MinInterval == 0 {
		c.MinInterval = c.Interval / 2
	}
	if c.PeerTTL == 0 {
		c.PeerTTL = 2 * c.Interval
	}
	if c.ExpireEvery == 0 {
		c.ExpireEvery = min(max(c.PeerTTL/4, time.Second), 5*time.Minute)
	}
	if c.NumWant == 0 {
		c.NumWant = DefaultNumWant
	}
	if c.MaxNumWant == 0 {
		c.MaxNumWant = DefaultMaxNumWant
	}
	if c.UDPErrorRate == 0 {
		c.UDPErrorRate = DefaultUDPErrorRate
	}
	if c.MaxHTTPConns == 0 {
		c.MaxHTTPConns = DefaultMaxHTTPConns
	}
	if c.HTTPIdleTimeout == 0 {
		c.HTTPIdleTimeout = DefaultIdleTimeout
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case c.Interval < time.Second:
		return c, fmt.Errorf("interval %v: want at least 1s (clients see whole seconds)", c.Interval)
	case c.MinInterval < 0 || c.MinInterval > c.Interval:
		return c, fmt.Errorf("min interval %v: want between 0 and the interval %v", c.MinInterval, c.Interval)
	case c.PeerTTL < c.Interval:
		return c, fmt.Errorf("peer TTL %v is shorter than the interval %v: every peer would expire between announces", c.PeerTTL, c.Interval)
	case c.ExpireEvery < 0:
		return c, fmt.Errorf("expire period %v is negative", c.ExpireEvery)
	case c.NumWant < 0 || c.MaxNumWant < 0 || c.NumWant > c.MaxNumWant:
		return c, fmt.Errorf("numwant %d, max %d: want 0 <= numwant <= max", c.NumWant, c.MaxNumWant)
	case c.UDPErrorRate < 0 || c.MaxHTTPConns < 0 || c.HTTPIdleTimeout < 0:
		return c, fmt.Errorf("negative UDP error rate, connection cap or idle timeout")
	}
	for _, k := range c.Keys {
		if !validKey(k) {
			return c, fmt.Errorf("key %q: want 1-64 letters, digits, '-' or '_'", k)
		}
	}
	return c, nil
}

// validKey accepts keys that fit in one URL path segment unescaped.
func validKey(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
