package server

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
	"github.com/swarmlab/swarmlab/tracker/store"
)

// Server is a tracker: the announce and scrape logic over a store, and the
// HTTP and UDP frontends that Serve runs. Its methods are safe for
// concurrent use.
type Server struct {
	cfg       Config
	store     store.Store
	ownsStore bool
	whitelist *hashSet          // nil: open
	keys      map[string]string // key → itself; nil: not private
	connIDs   connIDs
	metrics   *metrics

	mu      sync.Mutex
	closed  bool
	cancels []context.CancelFunc // of running Serve calls
	done    sync.WaitGroup       // Serve calls
}

// New returns a Server for cfg. It opens nothing; see Serve.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("tracker config: %w", err)
	}
	s := &Server{cfg: cfg, store: cfg.Store}
	if s.store == nil {
		s.store = store.NewMemory(store.Options{Limits: cfg.StoreLimits, Seed: cfg.Seed})
		s.ownsStore = true
	}
	if cfg.Whitelist != nil {
		var key [16]byte
		_, _ = crand.Read(key[:]) // never fails on Linux
		s.whitelist = newHashSet(cfg.Whitelist, key)
	}
	if cfg.Keys != nil {
		s.keys = make(map[string]string, len(cfg.Keys))
		for _, k := range cfg.Keys {
			s.keys[k] = k
		}
	}
	key := cfg.ConnIDKey
	if key == ([16]byte{}) {
		_, _ = crand.Read(key[:]) // never fails on Linux
	}
	s.connIDs = newConnIDs(key)
	s.metrics = newMetrics(s.store)
	return s, nil
}

// Config returns the configuration in effect, defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// Store returns the store the server uses.
func (s *Server) Store() store.Store { return s.store }

// MetricsHandler serves the server's metrics in the Prometheus text
// format. Each Server has its own registry, so several in one process
// (a lab world, tests) never collide.
func (s *Server) MetricsHandler() http.Handler { return s.metrics.handler() }

// Origin describes where a request came from, as a frontend knows it.
type Origin struct {
	// Remote is the address the request came from; peers are recorded at
	// it (with the announced port) unless AllowIPOverride is set and the
	// request names an IP.
	Remote netip.Addr
	// Key is the private-tracker key the request carried in its path, or
	// "".
	Key string
	// Family restricts the returned peers to what the transport can carry
	// (UDP: the socket's family; HTTP: both).
	Family store.Family
	// MaxPeers, if positive, further caps the peers returned (UDP keeps
	// a response within one datagram of typical MTU).
	MaxPeers int
	// Proto names the frontend for metrics: "http", "udp", or "" for
	// direct calls, counted as "api".
	Proto string
}

// Failure is an announce or scrape refused for a reason the client should
// see. Kind classifies it for metrics (see the errors_total metric).
type Failure struct {
	Kind   string
	Reason string
}

func (f *Failure) Error() string { return f.Reason }

// Error kinds, the "kind" label of swarmlab_tracker_errors_total.
const (
	KindMalformed       = "malformed"         // unparseable query or packet
	KindUnregistered    = "unregistered"      // info hash not on the whitelist
	KindUnauthorized    = "unauthorized"      // private mode: missing or unknown key
	KindFull            = "full"              // a store limit refused a new peer or swarm
	KindStore           = "store"             // the store failed
	KindBadConnectionID = "bad_connection_id" // UDP: unknown or expired connection id
	KindUnknownAction   = "unknown_action"    // UDP: action not 0-2
	KindUndersized      = "undersized"        // UDP: shorter than a header, dropped
	KindOversized       = "oversized"         // UDP: longer than any request, dropped
	KindRateLimited     = "rate_limited"      // UDP: error reply suppressed
	KindNotFound        = "not_found"         // HTTP: path is not announce or scrape
	KindHTTP            = "http"              // HTTP: bad request line, headers or method
	KindConnLimit       = "conn_limit"        // HTTP: connection refused at the cap
)

var (
	errNoKey      = &Failure{KindUnauthorized, "this tracker is private: the announce URL must carry your key (/KEY/announce)"}
	errBadKey     = &Failure{KindUnauthorized, "unknown key"}
	errNotListed  = &Failure{KindUnregistered, "torrent not registered with this tracker"}
	errNoAddress  = &Failure{KindMalformed, "no usable peer address"}
	errFullScrape = &Failure{KindMalformed, "full scrape is not supported: name info hashes"}
)

func (s *Server) checkKey(key string) error {
	if s.keys == nil {
		return nil
	}
	if key == "" {
		return errNoKey
	}
	if _, ok := s.keys[key]; !ok {
		return errBadKey
	}
	return nil
}

func (s *Server) listed(h *metainfo.Hash) bool {
	if s.whitelist == nil {
		return true
	}
	return s.whitelist.has(h)
}

func protoOf(o *Origin) int {
	switch o.Proto {
	case "http":
		return protoHTTP
	case "udp":
		return protoUDP
	}
	return protoAPI
}

// Announce serves one announce at time now and fills resp, reusing the
// capacity of resp.Peers. A refusal is returned as a *Failure whose Reason
// is meant for the client; resp is then unchanged but for Peers.
func (s *Server) Announce(ctx context.Context, o Origin, req *tracker.AnnounceRequest, now time.Time, resp *tracker.AnnounceResponse) error {
	p := protoOf(&o)
	err := s.announce(ctx, &o, req, now, resp)
	if err != nil {
		s.metrics.failed(p, err)
		return err
	}
	s.metrics.announces[p][req.Event&3].Inc()
	return nil
}

func (s *Server) announce(ctx context.Context, o *Origin, req *tracker.AnnounceRequest, now time.Time, resp *tracker.AnnounceResponse) error {
	a, err := s.storeAnnounce(o, req)
	if err != nil {
		return err
	}
	res, err := s.store.Announce(ctx, a, now, resp.Peers[:0])
	resp.Peers = res.Peers
	if err != nil {
		return s.storeFailure(err)
	}
	s.fill(resp, &res)
	return nil
}

// announceCompact is Announce for replies that carry peers in compact
// form, one address family only: it appends the peers to dst straight
// from the store, with no []tracker.Peer in between, and fills resp but
// for its Peers, which it leaves empty. The UDP frontend serves every
// announce this way.
func (s *Server) announceCompact(ctx context.Context, o *Origin, req *tracker.AnnounceRequest, now time.Time, resp *tracker.AnnounceResponse, dst []byte) ([]byte, error) {
	p := protoOf(o)
	a, err := s.storeAnnounce(o, req)
	if err == nil {
		var res store.Result
		res, dst, err = s.store.AnnounceCompact(ctx, a, now, dst)
		if err != nil {
			err = s.storeFailure(err)
		} else {
			resp.Peers = resp.Peers[:0]
			s.fill(resp, &res)
		}
	}
	if err != nil {
		s.metrics.failed(p, err)
		return dst, err
	}
	s.metrics.announces[p][req.Event&3].Inc()
	return dst, nil
}

// storeAnnounce checks an announce and turns it into what the store
// records: the peer's address resolved and the peer count clamped.
func (s *Server) storeAnnounce(o *Origin, req *tracker.AnnounceRequest) (store.Announce, error) {
	if err := s.checkKey(o.Key); err != nil {
		return store.Announce{}, err
	}
	if !s.listed(&req.InfoHash) {
		return store.Announce{}, errNotListed
	}
	ip := o.Remote
	if s.cfg.AllowIPOverride && req.IP.IsValid() {
		ip = req.IP
	}
	ip = ip.Unmap().WithZone("")
	if !ip.IsValid() || ip.IsUnspecified() || req.Port == 0 {
		return store.Announce{}, errNoAddress
	}
	want := req.NumWant
	if want < 0 {
		want = s.cfg.NumWant
	}
	want = min(want, s.cfg.MaxNumWant)
	if o.MaxPeers > 0 {
		want = min(want, o.MaxPeers)
	}
	return store.Announce{
		InfoHash: req.InfoHash,
		PeerID:   req.PeerID,
		Addr:     netip.AddrPortFrom(ip, req.Port),
		Seed:     req.Left == 0,
		Event:    req.Event,
		NumWant:  want,
		Family:   o.Family,
	}, nil
}

// storeFailure turns a store error into the Failure the client sees.
func (s *Server) storeFailure(err error) error {
	if store.IsFull(err) {
		return &Failure{KindFull, err.Error()}
	}
	s.cfg.Logger.Warn("store announce failed", "err", err)
	return &Failure{KindStore, "tracker storage failure; try again later"}
}

// fill sets resp's fields other than Peers from a successful announce.
func (s *Server) fill(resp *tracker.AnnounceResponse, res *store.Result) {
	resp.Failure, resp.Warning, resp.TrackerID = "", "", ""
	resp.Interval, resp.MinInterval = s.cfg.Interval, s.cfg.MinInterval
	resp.Complete, resp.Incomplete = res.Complete, res.Incomplete
}

// Scrape appends the numbers for each of hashes to dst, in order. Hashes
// not on the whitelist read as empty swarms rather than failing the whole
// scrape, as other trackers do.
func (s *Server) Scrape(ctx context.Context, o Origin, hashes []metainfo.Hash, dst []tracker.ScrapeStats) ([]tracker.ScrapeStats, error) {
	p := protoOf(&o)
	out, err := s.scrape(ctx, &o, hashes, dst)
	if err != nil {
		s.metrics.failed(p, err)
		return out, err
	}
	s.metrics.scrapes[p].Inc()
	return out, nil
}

func (s *Server) scrape(ctx context.Context, o *Origin, hashes []metainfo.Hash, dst []tracker.ScrapeStats) ([]tracker.ScrapeStats, error) {
	if err := s.checkKey(o.Key); err != nil {
		return dst, err
	}
	if len(hashes) == 0 {
		return dst, errFullScrape
	}
	if len(hashes) > MaxScrapeHashes {
		return dst, &Failure{KindMalformed, fmt.Sprintf("too many info hashes (at most %d)", MaxScrapeHashes)}
	}
	start := len(dst)
	dst, err := s.store.Scrape(ctx, hashes, dst)
	if err != nil {
		s.cfg.Logger.Warn("store scrape failed", "err", err)
		return dst[:start], &Failure{KindStore, "tracker storage failure; try again later"}
	}
	if s.whitelist != nil {
		for i := range hashes {
			if !s.listed(&hashes[i]) {
				dst[start+i] = tracker.ScrapeStats{}
			}
		}
	}
	return dst, nil
}

// Expire removes the peers that have not announced within the peer TTL
// before now and reports how many. Serve calls it on every expiry tick; a
// simulator calls it with its virtual time.
func (s *Server) Expire(ctx context.Context, now time.Time) (int, error) {
	n, err := s.store.Expire(ctx, now.Add(-s.cfg.PeerTTL))
	s.metrics.expired.Add(float64(n))
	if err != nil {
		s.metrics.errors(protoAPI, KindStore).Inc()
	}
	return n, err
}

// Listeners are the sockets a Server serves on. Any may be nil.
type Listeners struct {
	HTTP net.Listener
	// UDP sockets are each served by their own read loop; Listen binds
	// several to one port with SO_REUSEPORT so that the kernel spreads
	// packets over them. A single socket is read by several loops.
	UDP     []net.PacketConn
	Metrics net.Listener
}

// Close closes every listener.
func (l *Listeners) Close() error {
	var errs []error
	if l.HTTP != nil {
		errs = append(errs, l.HTTP.Close())
	}
	for _, c := range l.UDP {
		errs = append(errs, c.Close())
	}
	if l.Metrics != nil {
		errs = append(errs, l.Metrics.Close())
	}
	return errors.Join(errs...)
}

// ErrClosed is returned by Serve after Close.
var ErrClosed = errors.New("tracker server closed")

// Serve runs the frontends on l and the expiry sweep until ctx is done or
// Close is called, then closes l, waits for its goroutines and returns
// (nil after ctx is done, ErrClosed after Close, or the error that stopped
// a listener).
func (s *Server) Serve(ctx context.Context, l *Listeners) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = l.Close()
		return ErrClosed
	}
	ctx, cancel := context.WithCancelCause(ctx)
	s.cancels = append(s.cancels, func() { cancel(ErrClosed) })
	s.done.Add(1)
	s.mu.Unlock()
	defer s.done.Done()

	var wg sync.WaitGroup
	fail := func(err error) {
		if err != nil && ctx.Err() == nil {
			cancel(err)
		}
	}
	if l.HTTP != nil {
		h := newHTTPFront(s, l.HTTP)
		wg.Add(2)
		go func() { defer wg.Done(); fail(h.serve()) }()
		go func() { defer wg.Done(); <-ctx.Done(); h.close() }()
	}
	for _, c := range l.UDP {
		loops := 1
		if len(l.UDP) == 1 {
			loops = udpLoopsPerSocket()
		}
		for range loops {
			wg.Add(1)
			go func() { defer wg.Done(); fail(s.serveUDP(ctx, c)) }()
		}
	}
	if len(l.UDP) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-ctx.Done()
			for _, c := range l.UDP {
				_ = c.Close()
			}
		}()
	}
	if l.Metrics != nil {
		hs := &http.Server{Handler: s.metricsMux(), ReadHeaderTimeout: 10 * time.Second}
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := hs.Serve(l.Metrics); !errors.Is(err, http.ErrServerClosed) {
				fail(err)
			}
		}()
		go func() { defer wg.Done(); <-ctx.Done(); _ = hs.Close() }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); s.expireLoop(ctx) }()

	<-ctx.Done()
	wg.Wait()
	switch err := context.Cause(ctx); {
	case errors.Is(err, ErrClosed):
		return ErrClosed
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return nil
	default:
		return err
	}
}

func (s *Server) expireLoop(ctx context.Context) {
	ticks := s.cfg.ExpireTicks
	if ticks == nil {
		t := time.NewTicker(s.cfg.ExpireEvery)
		defer t.Stop()
		ticks = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case now, ok := <-ticks:
			if !ok {
				return
			}
			if n, err := s.Expire(ctx, now); err != nil && ctx.Err() == nil {
				s.cfg.Logger.Warn("expiry failed", "err", err)
			} else if n > 0 {
				s.cfg.Logger.Debug("expired peers", "n", n)
			}
		}
	}
}

func (s *Server) metricsMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.MetricsHandler())
	return mux
}

// Close stops every Serve call, waits for them to return, and closes the
// store if the Server made it.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for _, c := range s.cancels {
		c()
	}
	s.mu.Unlock()
	s.done.Wait()
	if s.ownsStore {
		return s.store.Close()
	}
	return nil
}
