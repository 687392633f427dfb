package loadgen

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swarmlab/swarmlab/internal/splitmix"
	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
)

// Config describes one load run. Exactly one of UDP and HTTP is set.
type Config struct {
	// UDP is a tracker's UDP address (host:port).
	UDP string
	// HTTP is a tracker's announce URL (http://host:port/announce).
	HTTP string

	// Hashes is how many info hashes the peers are spread over (default
	// 1000); Peers is how many simulated peers there are (default 10,000).
	Hashes, Peers int
	// InFlight is how many announces are outstanding at any moment
	// (default 256). Conns is over how many UDP sockets or HTTP
	// connections they are spread (default 4 sockets; for HTTP InFlight/16
	// connections, so 16 requests pipelined on each).
	InFlight, Conns int
	// NumWant is the number of peers each announce asks for (default 50).
	NumWant int

	// Duration is how long to measure, after Warmup, during which replies
	// are not counted. Requests, if set, instead stops after that many
	// announces have been sent, and Fill after every peer has announced
	// once (with event=started): the pass that loads a tracker with a
	// known number of peers.
	Duration, Warmup time.Duration
	Requests         int64
	Fill             bool

	// Timeout is how long an announce may go unanswered before it counts
	// as an error (default 2 s).
	Timeout time.Duration
	// Seed picks the info hashes and peer ids; the same seed gives the
	// same population, which is what a whitelist needs.
	Seed uint64

	// renewAfter is the age at which a UDP socket renews its connection
	// id (default connIDRenew); tests shorten it.
	renewAfter time.Duration
}

// Defaults.
const (
	DefaultHashes   = 1000
	DefaultPeers    = 10_000
	DefaultInFlight = 256
	DefaultNumWant  = 50
	DefaultTimeout  = 2 * time.Second
	defaultSockets  = 4
	defaultPipeline = 16
)

func (c Config) withDefaults() (Config, error) {
	if (c.UDP == "") == (c.HTTP == "") {
		return c, errors.New("loadgen: set exactly one of UDP and HTTP")
	}
	if c.Hashes == 0 {
		c.Hashes = DefaultHashes
	}
	if c.Peers == 0 {
		c.Peers = DefaultPeers
	}
	if c.InFlight == 0 {
		c.InFlight = DefaultInFlight
	}
	if c.Conns == 0 {
		if c.UDP != "" {
			c.Conns = min(defaultSockets, c.InFlight)
		} else {
			c.Conns = max(1, c.InFlight/defaultPipeline)
		}
	}
	if c.NumWant == 0 {
		c.NumWant = DefaultNumWant
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.renewAfter == 0 {
		c.renewAfter = connIDRenew
	}
	switch {
	case c.Hashes < 1 || c.Peers < c.Hashes:
		return c, fmt.Errorf("loadgen: %d peers over %d hashes: want at least one hash and a peer per hash", c.Peers, c.Hashes)
	case c.Peers/c.Hashes > maxPortSlots:
		return c, fmt.Errorf("loadgen: %d peers per hash: at most %d fit the port range on one address", c.Peers/c.Hashes, maxPortSlots)
	case c.InFlight < 1 || c.Conns < 1 || c.Conns > c.InFlight:
		return c, fmt.Errorf("loadgen: %d in flight over %d connections: want 1 <= connections <= in flight", c.InFlight, c.Conns)
	case c.NumWant < 0 || c.Timeout < 0 || c.Duration < 0 || c.Warmup < 0 || c.Requests < 0:
		return c, errors.New("loadgen: negative numwant, timeout, duration or request count")
	case !c.Fill && c.Requests == 0 && c.Duration == 0:
		return c, errors.New("loadgen: set a duration, a request count or fill")
	}
	return c, nil
}

// ErrorKind classifies a failed announce.
type ErrorKind int

// Error kinds.
const (
	// ErrTimeout: no reply within the timeout.
	ErrTimeout ErrorKind = iota
	// ErrFailure: the tracker refused the announce (a failure reason or a
	// UDP error packet).
	ErrFailure
	// ErrBadReply: a reply that did not parse, or an HTTP status not 200.
	ErrBadReply
	// ErrConn: a socket error (refused, reset, or a connection that closed
	// before answering anything).
	ErrConn
	numErrorKinds
)

func (k ErrorKind) String() string {
	switch k {
	case ErrTimeout:
		return "timeout"
	case ErrFailure:
		return "failure"
	case ErrBadReply:
		return "bad reply"
	case ErrConn:
		return "connection"
	}
	return "error(" + strconv.Itoa(int(k)) + ")"
}

// Result is what a run measured.
type Result struct {
	// Config is the run's configuration with defaults filled in.
	Config Config
	// Proto is "udp" or "http".
	Proto string
	// Announces counts the successful announces answered in the measured
	// period, which lasted Elapsed.
	Announces int64
	Elapsed   time.Duration
	// Errors counts failed announces by kind, over the whole run.
	Errors [numErrorKinds]int64
	// FirstFailure is the first failure reason or error message seen, to
	// tell a misconfigured tracker (say, a whitelist without our hashes)
	// from a slow one.
	FirstFailure string
	// Latency is over the measured announces.
	Latency Percentiles
	// Reconnects counts HTTP connections the tracker closed; KeepAlive
	// reports whether it kept any connection open for a second request.
	Reconnects int64
	KeepAlive  bool
	// Connects counts UDP connect exchanges (one per socket at the start,
	// then one a minute).
	Connects int64
}

// Rate is the announces per second over the measured period.
func (r *Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Announces) / r.Elapsed.Seconds()
}

// ErrorCount is the total of Errors.
func (r *Result) ErrorCount() int64 {
	var n int64
	for _, e := range r.Errors {
		n += e
	}
	return n
}

// Percentiles of the announce latency.
type Percentiles struct {
	P50, P90, P99, P999, Max time.Duration
}

// Run generates load as cfg describes until it is done or ctx ends, and
// reports what it measured. An error means the run could not start (bad
// configuration, no tracker at the address); failures of individual
// announces are counted in the Result instead.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	pop := newPopulation(cfg)
	now := time.Now()
	ctl := &control{
		peers:       cfg.Peers,
		fill:        cfg.Fill,
		measureFrom: now.Add(cfg.Warmup),
	}
	switch {
	case cfg.Fill:
		ctl.limit = int64(cfg.Peers)
	case cfg.Requests > 0:
		ctl.limit = cfg.Requests
	default:
		ctl.end = ctl.measureFrom.Add(cfg.Duration)
	}
	stop := context.AfterFunc(ctx, func() { ctl.stopped.Store(true) })
	defer stop()

	// Split the in-flight requests over the connections as evenly as
	// they go.
	share := func(i int) int {
		n := cfg.InFlight / cfg.Conns
		if i < cfg.InFlight%cfg.Conns {
			n++
		}
		return n
	}
	res := &Result{Config: cfg, Proto: "udp"}
	if cfg.HTTP != "" {
		res.Proto = "http"
	}
	stats := make([]workerStats, cfg.Conns)
	var wg sync.WaitGroup
	errs := make([]error, cfg.Conns)
	if cfg.UDP != "" {
		ws := make([]*udpWorker, cfg.Conns)
		// Every socket connects before any starts its load, so that a
		// wrong address fails the run instead of skewing it.
		for i := range ws {
			w, err := newUDPWorker(ctx, cfg, pop, ctl, share(i), uint64(i))
			if err != nil {
				for _, o := range ws[:i] {
					o.close()
				}
				return nil, err
			}
			ws[i] = w
		}
		for i, w := range ws {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer w.close()
				errs[i] = w.run()
				stats[i] = w.st
			}()
		}
	} else {
		hc, err := newHTTPTarget(cfg.HTTP)
		if err != nil {
			return nil, err
		}
		for i := range cfg.Conns {
			w := newHTTPWorker(cfg, hc, pop, ctl, share(i), uint64(i))
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = w.run()
				stats[i] = w.st
			}()
		}
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	var hist histogram
	var last time.Time
	for i := range stats {
		s := &stats[i]
		res.Announces += s.ok
		for k := range s.errs {
			res.Errors[k] += s.errs[k]
		}
		if res.FirstFailure == "" {
			res.FirstFailure = s.firstFailure
		}
		res.Reconnects += s.reconnects
		res.KeepAlive = res.KeepAlive || s.keepAlive
		res.Connects += s.connects
		hist.merge(&s.hist)
		if s.last.After(last) {
			last = s.last
		}
	}
	if ctl.end.IsZero() {
		res.Elapsed = last.Sub(ctl.measureFrom)
	} else {
		res.Elapsed = ctl.end.Sub(ctl.measureFrom)
	}
	res.Latency = hist.percentiles()
	return res, nil
}

// control is what the workers share: which peer announces next and when
// to stop.
type control struct {
	peers       int
	fill        bool
	limit       int64 // announces to send in all; 0 for a timed run
	issued      atomic.Int64
	measureFrom time.Time
	end         time.Time // zero unless timed
	stopped     atomic.Bool
}

// next returns the peer to announce next, or -1 when the run is over.
func (c *control) next(now time.Time, rng *rand.Rand) int {
	if c.timeUp(now) {
		return -1
	}
	if c.limit > 0 {
		n := c.issued.Add(1)
		if n > c.limit {
			return -1
		}
		if c.fill {
			return int(n - 1)
		}
	}
	return rng.IntN(c.peers)
}

// over reports whether the run has ended: no new announces are to start.
func (c *control) over(now time.Time) bool {
	return c.timeUp(now) || (c.limit > 0 && c.issued.Load() >= c.limit)
}

// timeUp reports whether the run was stopped or, if timed, is past its end.
func (c *control) timeUp(now time.Time) bool {
	return c.stopped.Load() || (!c.end.IsZero() && now.After(c.end))
}

// counts reports whether a reply at now falls in the measured period.
func (c *control) counts(now time.Time) bool {
	return !now.Before(c.measureFrom) && (c.end.IsZero() || !now.After(c.end))
}

// workerStats are one worker's counts, merged by Run.
type workerStats struct {
	ok           int64
	errs         [numErrorKinds]int64
	firstFailure string
	hist         histogram
	last         time.Time // latest counted reply
	reconnects   int64
	keepAlive    bool
	connects     int64
	lastConnErr  string
}

func (s *workerStats) success(ctl *control, sent, now time.Time) {
	if !ctl.counts(now) {
		return
	}
	s.ok++
	s.hist.add(now.Sub(sent))
	s.last = now
}

func (s *workerStats) fail(k ErrorKind, msg string) {
	s.errs[k]++
	if msg != "" && s.firstFailure == "" {
		s.firstFailure = msg
	}
}

// population is the set of simulated peers. Peer i belongs to swarm
// i mod Hashes, and everything about it is derived from i and the seed, so
// nothing per peer is stored and workers need no coordination.
type population struct {
	hashes  []metainfo.Hash
	seed    uint64
	numWant int
}

// maxPortSlots is how many peers one swarm can hold on one address: the
// ports from 1024 up.
const maxPortSlots = 65536 - 1024

// portStride walks the port range in a scattered order; it is coprime
// with maxPortSlots (2^10 * 3^2 * 7), so peers of one swarm never share a
// port.
const portStride = 40507

func newPopulation(cfg Config) *population {
	return &population{hashes: Hashes(cfg.Hashes, cfg.Seed), seed: cfg.Seed, numWant: cfg.NumWant}
}

// Hashes returns the n info hashes a run with this seed announces, in the
// order peers are assigned to them; opentracker's whitelist needs them.
func Hashes(n int, seed uint64) []metainfo.Hash {
	hs := make([]metainfo.Hash, n)
	for i := range hs {
		hs[i] = sha1.Sum([]byte("swarmlab loadgen " + strconv.FormatUint(seed, 10) + " " + strconv.Itoa(i)))
	}
	return hs
}

const idChars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"

// announce fills r with peer i's announce. A fifth of the peers are seeds.
func (p *population) announce(i int, ev tracker.Event, r *tracker.AnnounceRequest) {
	h := len(p.hashes)
	mix := splitmix.Mix(p.seed ^ uint64(i)*0xd1b54a32d192ed03)
	*r = tracker.AnnounceRequest{
		InfoHash: p.hashes[i%h],
		Port:     uint16(1024 + (i/h*portStride+int(p.seed%maxPortSlots))%maxPortSlots),
		Left:     0,
		Event:    ev,
		NumWant:  p.numWant,
		Key:      uint32(mix >> 32),
		HasKey:   true,
		Compact:  true,
	}
	if i%5 != 0 {
		r.Left = int64(mix%(1<<30)) + 1
	}
	copy(r.PeerID[:], "-SL0100-")
	for j, m := 8, mix; j < len(r.PeerID); j++ {
		r.PeerID[j] = idChars[m&63]
		m >>= 6
	}
}

// histogram records latencies in microseconds in log-linear buckets: exact
// below 32 µs, then 16 buckets per power of two (within about 6%).
type histogram struct {
	counts [640]int64
	total  int64
	max    time.Duration
}

func bucketOf(us uint64) int {
	if us < 32 {
		return int(us)
	}
	shift := bits.Len64(us) - 5 // us>>shift is in [16, 32)
	return min(shift*16+int(us>>uint(shift)), len(histogram{}.counts)-1)
}

// bucketMid is the middle of bucket b's range, in microseconds.
func bucketMid(b int) float64 {
	if b < 32 {
		return float64(b)
	}
	shift := b/16 - 1
	lo := float64((16 + b%16) << shift)
	return lo + float64(int(1)<<shift)/2
}

func (h *histogram) add(d time.Duration) {
	us := max(d.Microseconds(), 0)
	h.counts[bucketOf(uint64(us))]++
	h.total++
	h.max = max(h.max, d)
}

func (h *histogram) merge(o *histogram) {
	for i := range h.counts {
		h.counts[i] += o.counts[i]
	}
	h.total += o.total
	h.max = max(h.max, o.max)
}

func (h *histogram) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	if q >= 1 {
		return h.max
	}
	want := int64(q*float64(h.total) + 0.5)
	want = min(max(want, 1), h.total)
	var n int64
	for b, c := range h.counts {
		n += c
		if n >= want {
			return min(time.Duration(bucketMid(b)*float64(time.Microsecond)), h.max)
		}
	}
	return h.max
}

func (h *histogram) percentiles() Percentiles {
	return Percentiles{
		P50: h.quantile(0.50), P90: h.quantile(0.90), P99: h.quantile(0.99),
		P999: h.quantile(0.999), Max: h.max,
	}
}
