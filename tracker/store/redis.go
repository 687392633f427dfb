package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swarmlab/swarmlab/internal/splitmix"
	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
)

// Redis is a Store kept in a Redis server, so that several tracker
// instances behind one address share their swarms. It has the memory
// store's semantics (the same conformance suite runs against both), and
// every call is one round trip: a Lua script run with EVALSHA, which Redis
// executes atomically, so concurrent announces from several trackers never
// see a half-updated swarm.
//
// Layout, under a key prefix P (default DefaultRedisPrefix), with H the raw
// 20-byte info hash and M a peer's 18-byte address key (IPv6 or IPv4-mapped
// address, then the port, big-endian):
//
//	P H :1 .. :4  sets of M + peer id, one per partition as in the memory
//	              store: IPv4 seeds, IPv4 leechers, IPv6 leechers, IPv6
//	              seeds; a sample needs no further lookup
//	P H :i        hash M -> partition digit + peer id, to find a peer by
//	              address; field "#dl" counts completed events
//	P swarms      set of the H with at least one peer
//	P peers       total peers, P seeds total seeds (counters, for the limits)
//	P exp         sorted set of H+M scored by last announce, Unix µs
//
// Peers are sampled with SRANDMEMBER, which draws without repeats inside a
// set; how many to draw from each set is decided by a hypergeometric draw
// in the script, so the sample is uniform over the union. Options.Seed
// seeds that split, but the draws inside a set are Redis's own, so samples
// are not reproducible as the memory store's are. Expiry walks exp
// from the oldest entry, so it costs time in proportion to what it removes.
//
// The scripts touch keys they derive from others (Expire, Totals), so the
// store needs a single Redis server or a primary with replicas, not Redis
// Cluster. Last-seen times are kept in whole microseconds (a sorted set's
// score is a float64, exact only to 2^53), so a peer last seen less than a
// microsecond before an expiry cutoff may be kept where the memory store
// would drop it.
type Redis struct {
	c      *redis.Client
	prefix string
	lim    Limits
	// seedBase and calls give each script call its own PRNG seed: a
	// SplitMix64 sequence from Options.Seed, lock-free and reproducible.
	seedBase uint64
	calls    atomic.Uint64
	closed   atomic.Bool
	// Fixed key names, built once.
	kSwarms, kPeers, kSeeds, kExp string
	// The scripts are per store, not package variables: a redis.Script
	// caches state, and a store owns everything it mutates.
	announce, scrape, expire, totals *redis.Script
}

// memberSize is the length of a partition set's member: the peer's
// address key (an addr6, IPv4 peers as IPv4-mapped), then its peer id.
const memberSize = len(addr6{}) + len(tracker.PeerID{})

// DefaultRedisPrefix prefixes every key the Redis store writes.
const DefaultRedisPrefix = "swarmlab:tracker:"

// redisPrefixParam is the query parameter of a redis:// URL that sets the
// key prefix; it is taken out before go-redis parses the rest.
const redisPrefixParam = "prefix"

// expireBatch is how many expired peers one Expire script removes: small
// enough that Redis, which runs scripts one at a time, is never blocked for
// long, large enough that round trips do not dominate.
const expireBatch = 1000

// OpenRedis connects to the Redis server at rawURL
// (redis://[user:password@]host:port/db, or rediss:// for TLS; go-redis's
// query options such as dial_timeout are accepted) and returns a store
// under the key prefix given by the URL's "prefix" parameter, or
// DefaultRedisPrefix. Stores that share a server and a prefix share swarms.
// It pings the server so that a wrong address fails here, not on the first
// announce.
func OpenRedis(ctx context.Context, rawURL string, opts Options) (*Redis, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// Not wrapped: url.Error quotes the URL, password and all.
		return nil, errors.New("redis store: malformed URL")
	}
	prefix := DefaultRedisPrefix
	q := u.Query()
	if q.Has(redisPrefixParam) {
		prefix = q.Get(redisPrefixParam)
		q.Del(redisPrefixParam)
		u.RawQuery = q.Encode()
	}
	ro, err := redis.ParseURL(u.String())
	if err != nil {
		return nil, fmt.Errorf("redis store: %s: %w", u.Redacted(), err)
	}
	c := redis.NewClient(ro)
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redis store: %s: %w", ro.Addr, err)
	}
	seed := opts.Seed
	if seed == 0 {
		seed = rand.Uint64() | 1
	}
	return &Redis{
		c:        c,
		prefix:   prefix,
		lim:      opts.Limits.WithDefaults(),
		seedBase: seed,
		kSwarms:  prefix + "swarms",
		kPeers:   prefix + "peers",
		kSeeds:   prefix + "seeds",
		kExp:     prefix + "exp",
		announce: redis.NewScript(announceLua),
		scrape:   redis.NewScript(scrapeLua),
		expire:   redis.NewScript(expireLua),
		totals:   redis.NewScript(totalsLua),
	}, nil
}

// nextSeed returns a fresh 31-bit seed for the script's PRNG (SplitMix64
// over a call counter). Zero is avoided: it is a fixed point of MINSTD.
func (r *Redis) nextSeed() int64 {
	z := splitmix.Mix(r.seedBase + r.calls.Add(1)*0x9e3779b97f4a7c15)
	return int64(z%(1<<31-2)) + 1
}

// Result codes of the announce script.
const (
	codeOK = iota
	codeTooManySwarms
	codeSwarmFull
	codeTooManyPeers
)

// Announce implements Store.
func (r *Redis) Announce(ctx context.Context, a Announce, now time.Time, dst []tracker.Peer) (Result, error) {
	res, ps, err := r.run(ctx, &a, now)
	res.Peers = dst
	if err != nil {
		return res, err
	}
	for ; len(ps) > 0; ps = ps[memberSize:] {
		var k addr6
		copy(k[:], ps)
		p := tracker.Peer{Addr: k.addrPort()}
		copy(p.ID[:], ps[len(addr6{}):memberSize])
		res.Peers = append(res.Peers, p)
	}
	return res, nil
}

// AnnounceCompact implements Store. The script already keeps to one family
// when asked to, so each member's address key only needs cutting down to
// the compact form.
func (r *Redis) AnnounceCompact(ctx context.Context, a Announce, now time.Time, dst []byte) (Result, []byte, error) {
	if a.Family != FamilyIPv4 && a.Family != FamilyIPv6 {
		return Result{}, dst, errCompactFamily
	}
	res, ps, err := r.run(ctx, &a, now)
	if err != nil {
		return res, dst, err
	}
	for ; len(ps) > 0; ps = ps[memberSize:] {
		if a.Family == FamilyIPv4 {
			dst = append(dst, ps[12:len(addr6{})]...) // IPv4-mapped: the last 4 address bytes
		} else {
			dst = append(dst, ps[:len(addr6{})]...)
		}
	}
	return res, dst, nil
}

// run runs the announce script and returns the counts and the sampled
// members (address key then peer id, memberSize bytes each).
func (r *Redis) run(ctx context.Context, a *Announce, now time.Time) (Result, string, error) {
	if r.closed.Load() {
		return Result{}, "", ErrClosed
	}
	sw := r.prefix + string(a.InfoHash[:])
	keys := []string{sw + ":1", sw + ":2", sw + ":3", sw + ":4", sw + ":i", r.kSwarms, r.kPeers, r.kSeeds, r.kExp}
	key := addr6Of(a.Addr)
	part := partitionOf(FamilyOf(a.Addr.Addr()), a.Seed) + 1 // Lua counts from 1
	seed := 0
	if a.Seed {
		seed = 1
	}
	numWant := a.NumWant
	if a.Event == tracker.EventStopped || numWant < 0 {
		numWant = 0
	}
	v, err := r.announce.Run(ctx, r.c, keys,
		a.InfoHash[:], key[:], a.PeerID[:], part, int(a.Event), numWant, int(a.Family), seed,
		now.UnixMicro(), r.lim.MaxSwarms, r.lim.MaxPeersPerSwarm, r.lim.MaxPeers, r.nextSeed(),
	).Slice()
	if err != nil {
		return Result{}, "", fmt.Errorf("redis store: announce: %w", err)
	}
	if len(v) < 4 {
		return Result{}, "", fmt.Errorf("redis store: announce: malformed reply of %d items", len(v))
	}
	switch code, _ := v[0].(int64); code {
	case codeOK:
	case codeTooManySwarms:
		return Result{}, "", fmt.Errorf("%w (limit %d)", ErrTooManySwarms, r.lim.MaxSwarms)
	case codeSwarmFull:
		return Result{}, "", fmt.Errorf("%w (limit %d peers)", ErrSwarmFull, r.lim.MaxPeersPerSwarm)
	case codeTooManyPeers:
		return Result{}, "", fmt.Errorf("%w (limit %d)", ErrTooManyPeers, r.lim.MaxPeers)
	default:
		return Result{}, "", fmt.Errorf("redis store: announce: unknown result code %v", v[0])
	}
	var res Result
	res.Complete, res.Incomplete, res.Downloaded = asInt(v[1]), asInt(v[2]), asInt(v[3])
	if len(v) < 5 {
		return res, "", nil
	}
	ps, _ := v[4].(string)
	if len(ps)%memberSize != 0 {
		return Result{}, "", fmt.Errorf("redis store: announce: %d bytes of peers is not a whole number of entries", len(ps))
	}
	return res, ps, nil
}

// Partitions of a swarm in the Redis store, numbered from 0 here and from
// 1 in the scripts.
const (
	partSeed4 = iota
	partLeech4
	partLeech6
	partSeed6
)

func partitionOf(f Family, seed bool) int {
	switch {
	case f == FamilyIPv6 && seed:
		return partSeed6
	case f == FamilyIPv6:
		return partLeech6
	case seed:
		return partSeed4
	}
	return partLeech4
}

func asInt(v any) int {
	n, _ := v.(int64)
	return int(n)
}

// Scrape implements Store.
func (r *Redis) Scrape(ctx context.Context, hashes []metainfo.Hash, dst []tracker.ScrapeStats) ([]tracker.ScrapeStats, error) {
	if r.closed.Load() {
		return dst, ErrClosed
	}
	if len(hashes) == 0 {
		return dst, nil
	}
	keys := make([]string, 0, 5*len(hashes))
	for i := range hashes {
		sw := r.prefix + string(hashes[i][:])
		keys = append(keys, sw+":1", sw+":2", sw+":3", sw+":4", sw+":i")
	}
	v, err := r.scrape.Run(ctx, r.c, keys).Int64Slice()
	if err != nil {
		return dst, fmt.Errorf("redis store: scrape: %w", err)
	}
	if len(v) != 3*len(hashes) {
		return dst, fmt.Errorf("redis store: scrape: %d numbers for %d swarms", len(v), len(hashes))
	}
	for i := 0; i < len(v); i += 3 {
		dst = append(dst, tracker.ScrapeStats{Complete: int(v[i]), Incomplete: int(v[i+1]), Downloaded: int(v[i+2])})
	}
	return dst, nil
}

// Expire implements Store. It removes peers in batches of expireBatch, one
// script each, until a batch comes back short.
func (r *Redis) Expire(ctx context.Context, cutoff time.Time) (int, error) {
	if r.closed.Load() {
		return 0, ErrClosed
	}
	removed := 0
	for {
		// The reply is {entries looked at, peers removed}; they differ
		// only if exp held an entry for a peer already gone.
		v, err := r.expire.Run(ctx, r.c, []string{r.kExp, r.kSwarms, r.kPeers, r.kSeeds},
			r.prefix, cutoff.UnixMicro(), expireBatch).Int64Slice()
		if err != nil {
			return removed, fmt.Errorf("redis store: expire: %w", err)
		}
		if len(v) != 2 {
			return removed, fmt.Errorf("redis store: expire: malformed reply %v", v)
		}
		removed += int(v[1])
		if v[0] < expireBatch {
			return removed, nil
		}
		if err := ctx.Err(); err != nil {
			return removed, err
		}
	}
}

// Totals implements Store. It reads the counters the scripts keep, so it
// is exact and O(1).
func (r *Redis) Totals(ctx context.Context) (Totals, error) {
	if r.closed.Load() {
		return Totals{}, ErrClosed
	}
	v, err := r.totals.Run(ctx, r.c, []string{r.kSwarms, r.kPeers, r.kSeeds}).Int64Slice()
	if err != nil {
		return Totals{}, fmt.Errorf("redis store: totals: %w", err)
	}
	if len(v) != 3 {
		return Totals{}, fmt.Errorf("redis store: totals: malformed reply %v", v)
	}
	return Totals{Swarms: int(v[0]), Peers: int(v[1]), Seeds: int(v[2])}, nil
}

// Close implements Store. It closes the connection pool and leaves the
// swarms in Redis, where other trackers sharing them still need them.
func (r *Redis) Close() error {
	if r.closed.Swap(true) {
		return nil
	}
	if err := r.c.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
		return fmt.Errorf("redis store: %w", err)
	}
	return nil
}

// String describes the store for logs: the server's address and the key
// prefix, never a password.
func (r *Redis) String() string {
	o := r.c.Options()
	return "redis://" + o.Addr + "/" + strconv.Itoa(o.DB) + " prefix " + strconv.Quote(r.prefix)
}
