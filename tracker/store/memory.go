package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swarmlab/swarmlab/internal/splitmix"
	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
)

// numShards splits the store's swarms by the first byte of the info hash,
// which SHA-1 spreads evenly, so that two announces share a lock only when
// their swarms share a shard (1 in 256 for unrelated torrents).
const numShards = 256

// Memory is the in-memory Store.
//
// Its memory is bounded by Limits. An IPv4 peer takes 38 bytes in its
// swarm's arrays (a 6-byte address and a 32-byte entry of peer id and
// last-seen time), an IPv6 peer 12 more, plus 8 to 16 bytes of index in
// swarms too big to scan (see scanLimit) and slice growth slack: about 66
// bytes a peer in swarms of 1000, 79 in swarms of 10. A swarm costs about
// 150 bytes more (its header and its slot in the shard's swarmTable, which
// is kept between an eighth and half full). BenchmarkMemoryFootprint
// measures both.
type Memory struct {
	lim    Limits
	shards [numShards]shard
	// swarms and peers are store-wide so that the limits hold however the
	// info hashes fall into shards.
	swarms, peers atomic.Int64
	closed        atomic.Bool
}

type shard struct {
	mu     sync.Mutex
	swarms swarmTable
	rng    rng
	// picks is sampling scratch for samples too big for an announce's
	// stack; see picker.
	picks []int32
	// Keeps neighbouring shards' locks off one cache line.
	_ [16]byte
}

// NewMemory returns an empty in-memory store.
func NewMemory(opts Options) *Memory {
	m := &Memory{lim: opts.Limits.WithDefaults()}
	seed := opts.Seed
	if seed == 0 {
		seed = rand.Uint64() | 1
	}
	for i := range m.shards {
		m.shards[i].rng = rng{splitmix.Mix(seed ^ splitmix.Mix(uint64(i)))}
	}
	return m
}

func (m *Memory) shardOf(h *metainfo.Hash) *shard { return &m.shards[h[0]] }

// asker is where an announcing peer ended up: its family and position in
// that family's set, or position -1 if it is not in the swarm.
type asker struct {
	fam Family
	pos int32
}

// record applies a to its swarm, and sets res's counts; the caller holds
// sh's lock. It returns the swarm to sample from, or nil when the announce
// gets no peers (a stop, a refusal, or none wanted). (res is filled in
// place rather than returned: copying a returned struct just built field
// by field stalls on store forwarding, a measurable cost at this rate.)
func (m *Memory) record(sh *shard, a *Announce, now time.Time, res *Result) (*swarm, asker, error) {
	me := asker{fam: FamilyOf(a.Addr.Addr()), pos: -1}
	sw := sh.swarms.get(&a.InfoHash)
	if sw == nil {
		if a.Event == tracker.EventStopped {
			return nil, me, nil
		}
		if m.swarms.Add(1) > int64(m.lim.MaxSwarms) {
			m.swarms.Add(-1)
			return nil, me, fmt.Errorf("%w (limit %d)", ErrTooManySwarms, m.lim.MaxSwarms)
		}
		sw = &swarm{}
		sh.swarms.put(&a.InfoHash, sw)
	}
	var err error
	last := now.UnixNano()
	if me.fam == FamilyIPv4 {
		me.pos, err = touch(m, sw, &sw.v4, addr4Of(a.Addr), a, last)
	} else {
		if sw.v6 == nil {
			sw.v6 = &peerSet[addr6]{}
		}
		me.pos, err = touch(m, sw, sw.v6, addr6Of(a.Addr), a, last)
		if sw.v6.len() == 0 {
			sw.v6 = nil
		}
	}
	if sw.len() == 0 {
		sh.swarms.remove(&a.InfoHash)
		m.swarms.Add(-1)
	}
	if err != nil {
		return nil, me, err
	}
	sw.counts(res)
	if a.Event == tracker.EventStopped || a.NumWant <= 0 {
		return nil, me, nil
	}
	return sw, me, nil
}

// touch records, refreshes or removes the asker (at k) in set, one family
// of sw, and returns its position, or -1 when it is not in the set after.
func touch[K addrKey](m *Memory, sw *swarm, set *peerSet[K], k K, a *Announce, last int64) (int32, error) {
	pos := set.find(k)
	if a.Event == tracker.EventStopped {
		if pos >= 0 {
			set.remove(pos)
			m.peers.Add(-1)
		}
		return -1, nil
	}
	if pos < 0 {
		if err := m.admit(sw); err != nil {
			return -1, err
		}
		if a.Event == tracker.EventCompleted {
			sw.downloaded++
		}
		return set.insert(k, a.PeerID, a.Seed, last), nil
	}
	set.meta[pos] = peerMeta{id: a.PeerID, last: last}
	wasSeed := pos < set.seeds
	if a.Event == tracker.EventCompleted && !wasSeed {
		// Counted once per leecher that finishes, not once per
		// "completed" a client repeats after a lost response.
		sw.downloaded++
	}
	return set.setSeed(pos, a.Seed), nil
}

// Announce implements Store.
func (m *Memory) Announce(ctx context.Context, a Announce, now time.Time, dst []tracker.Peer) (Result, error) {
	if m.closed.Load() {
		return Result{Peers: dst}, ErrClosed
	}
	sh := m.shardOf(&a.InfoHash)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	res := Result{Peers: dst}
	sw, me, err := m.record(sh, &a, now, &res)
	if sw == nil {
		return res, err
	}
	sp4, sp6 := sw.spans(a.Family, a.Seed, me.fam, me.pos)
	n := sp4.size() + sp6.size()
	if n == 0 {
		return res, nil
	}
	// Each scratch is declared in the branch that uses it: Go zeroes it
	// where it is declared, and most announces need only the small one.
	if n <= smallPicks {
		var buf [smallPicks]uint8
		res.Peers = appendPeers(sw, dst, sp4, sp6, pick8(&sh.rng, &buf, n, a.NumWant))
		return res, nil
	}
	var small [stackPicks]int32
	p := picker{rng: &sh.rng, small: &small, big: &sh.picks}
	res.Peers = appendPeers(sw, dst, sp4, sp6, p.pick(n, a.NumWant))
	return res, nil
}

// AnnounceCompact implements Store. The chosen peers' keys are already in
// compact form, so they are copied straight into dst.
func (m *Memory) AnnounceCompact(ctx context.Context, a Announce, now time.Time, dst []byte) (Result, []byte, error) {
	if a.Family != FamilyIPv4 && a.Family != FamilyIPv6 {
		return Result{}, dst, errCompactFamily
	}
	if m.closed.Load() {
		return Result{}, dst, ErrClosed
	}
	sh := m.shardOf(&a.InfoHash)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	var res Result
	sw, me, err := m.record(sh, &a, now, &res)
	if sw == nil {
		return res, dst, err
	}
	sp4, sp6 := sw.spans(a.Family, a.Seed, me.fam, me.pos)
	n := sp4.size() + sp6.size() // one of them is empty
	if n == 0 {
		return res, dst, nil
	}
	if n <= smallPicks { // see Announce
		var buf [smallPicks]uint8
		picks := pick8(&sh.rng, &buf, n, a.NumWant)
		if a.Family == FamilyIPv4 {
			return res, appendCompact4(dst, &sw.v4, sp4, picks), nil
		}
		return res, appendCompact6(dst, sw.v6, sp6, picks), nil
	}
	var small [stackPicks]int32
	p := picker{rng: &sh.rng, small: &small, big: &sh.picks}
	if a.Family == FamilyIPv4 {
		dst = appendCompact4(dst, &sw.v4, sp4, p.pick(n, a.NumWant))
	} else {
		dst = appendCompact6(dst, sw.v6, sp6, p.pick(n, a.NumWant))
	}
	return res, dst, nil
}

// admit checks the limits for one more peer in sw and counts it.
func (m *Memory) admit(sw *swarm) error {
	if sw.len() >= m.lim.MaxPeersPerSwarm {
		return fmt.Errorf("%w (limit %d peers)", ErrSwarmFull, m.lim.MaxPeersPerSwarm)
	}
	if m.peers.Add(1) > int64(m.lim.MaxPeers) {
		m.peers.Add(-1)
		return fmt.Errorf("%w (limit %d)", ErrTooManyPeers, m.lim.MaxPeers)
	}
	return nil
}

// Scrape implements Store.
func (m *Memory) Scrape(ctx context.Context, hashes []metainfo.Hash, dst []tracker.ScrapeStats) ([]tracker.ScrapeStats, error) {
	if m.closed.Load() {
		return dst, ErrClosed
	}
	for i := range hashes {
		sh := m.shardOf(&hashes[i])
		var st tracker.ScrapeStats
		sh.mu.Lock()
		if sw := sh.swarms.get(&hashes[i]); sw != nil {
			var r Result
			sw.counts(&r)
			st = tracker.ScrapeStats{Complete: r.Complete, Downloaded: r.Downloaded, Incomplete: r.Incomplete}
		}
		sh.mu.Unlock()
		dst = append(dst, st)
	}
	return dst, nil
}

// Expire implements Store. It holds one shard's lock at a time, so
// announces to other shards proceed while it runs.
func (m *Memory) Expire(ctx context.Context, cutoff time.Time) (int, error) {
	if m.closed.Load() {
		return 0, ErrClosed
	}
	c := cutoff.UnixNano()
	removed := 0
	for i := range m.shards {
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		sh := &m.shards[i]
		sh.mu.Lock()
		sh.swarms.each(func(sw *swarm) bool {
			n := sw.expire(c)
			removed += n
			m.peers.Add(int64(-n))
			if sw.len() > 0 {
				return false
			}
			m.swarms.Add(-1)
			return true
		})
		sh.mu.Unlock()
	}
	return removed, nil
}

// Totals implements Store.
func (m *Memory) Totals(ctx context.Context) (Totals, error) {
	if m.closed.Load() {
		return Totals{}, ErrClosed
	}
	var t Totals
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		sh.swarms.each(func(sw *swarm) bool {
			t.Swarms++
			t.Peers += sw.len()
			t.Seeds += sw.seeds()
			return false
		})
		sh.mu.Unlock()
	}
	return t, nil
}

// Close implements Store. It drops every swarm.
func (m *Memory) Close() error {
	if m.closed.Swap(true) {
		return nil
	}
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		sh.swarms.clear()
		sh.mu.Unlock()
	}
	m.swarms.Store(0)
	m.peers.Store(0)
	return nil
}
