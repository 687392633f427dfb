package store

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
)

// numShards splits the store's swarms by the first byte of the info hash,
// which SHA-1 spreads evenly, so that two announces share a lock only when
// their swarms share a shard (1 in 256 for unrelated torrents).
const numShards = 256

// Memory is the in-memory Store.
//
// Its memory is bounded by Limits. A peer costs about 115 bytes: a 56-byte
// slot, its 4-byte place in the sampling order and, in swarms of more than
// smallSwarm peers, an index map entry, plus slice growth slack. A swarm
// costs about 150 bytes more (its header and its entry in the shard's
// map). BenchmarkMemoryFootprint measures both.
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
	swarms map[metainfo.Hash]*swarm
	rng    *rand.Rand
	// Keeps neighbouring shards' locks off one cache line.
	_ [40]byte
}

// NewMemory returns an empty in-memory store.
func NewMemory(opts Options) *Memory {
	m := &Memory{lim: opts.Limits.WithDefaults()}
	seed := opts.Seed
	if seed == 0 {
		var b [8]byte
		_, _ = crand.Read(b[:]) // crypto/rand.Read never fails on Linux
		seed = binary.LittleEndian.Uint64(b[:]) | 1
	}
	for i := range m.shards {
		m.shards[i].swarms = make(map[metainfo.Hash]*swarm)
		m.shards[i].rng = rand.New(rand.NewPCG(seed, uint64(i)))
	}
	return m
}

func (m *Memory) shardOf(h *metainfo.Hash) *shard { return &m.shards[h[0]] }

// Announce implements Store.
func (m *Memory) Announce(ctx context.Context, a Announce, now time.Time, dst []tracker.Peer) (Result, error) {
	if m.closed.Load() {
		return Result{Peers: dst}, ErrClosed
	}
	key := keyOf(a.Addr)
	fam := FamilyOf(a.Addr.Addr())
	part := partitionOf(fam, a.Seed)
	sh := m.shardOf(&a.InfoHash)
	sh.mu.Lock()
	defer sh.mu.Unlock()

	sw := sh.swarms[a.InfoHash]
	if sw == nil {
		if a.Event == tracker.EventStopped {
			return Result{Peers: dst}, nil
		}
		if m.swarms.Add(1) > int64(m.lim.MaxSwarms) {
			m.swarms.Add(-1)
			return Result{Peers: dst}, fmt.Errorf("%w (limit %d)", ErrTooManySwarms, m.lim.MaxSwarms)
		}
		sw = &swarm{}
		sh.swarms[a.InfoHash] = sw
	}
	slot := sw.find(key)

	if a.Event == tracker.EventStopped {
		if slot >= 0 {
			sw.remove(slot)
			m.peers.Add(-1)
		}
		res := sw.result(dst)
		if sw.len() == 0 {
			delete(sh.swarms, a.InfoHash)
			m.swarms.Add(-1)
		}
		return res, nil
	}

	if slot < 0 {
		if err := m.admit(sw); err != nil {
			if sw.len() == 0 {
				delete(sh.swarms, a.InfoHash)
				m.swarms.Add(-1)
			}
			return Result{Peers: dst}, err
		}
		slot = sw.insert(key, a.PeerID, part, now.UnixNano())
		if a.Event == tracker.EventCompleted {
			sw.downloaded++
		}
	} else {
		e := &sw.slab[slot]
		e.id = a.PeerID
		e.last = now.UnixNano()
		wasSeed := isSeedPart(e.part)
		if a.Event == tracker.EventCompleted && !wasSeed {
			// Counted once per leecher that finishes, not once per
			// "completed" a client repeats after a lost response.
			sw.downloaded++
		}
		if e.part != part {
			sw.move(slot, part)
		}
	}

	res := sw.result(dst)
	res.Peers = sw.sample(sh.rng, slot, a.Family, a.Seed, a.NumWant, dst)
	return res, nil
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
		if sw := sh.swarms[hashes[i]]; sw != nil {
			r := sw.result(nil)
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
		for h, sw := range sh.swarms {
			n := sw.expire(c)
			removed += n
			m.peers.Add(int64(-n))
			if sw.len() == 0 {
				delete(sh.swarms, h)
				m.swarms.Add(-1)
			}
		}
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
		for _, sw := range sh.swarms {
			t.Swarms++
			t.Peers += sw.len()
			t.Seeds += sw.seeds()
		}
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
		clear(sh.swarms)
		sh.mu.Unlock()
	}
	m.swarms.Store(0)
	m.peers.Store(0)
	return nil
}

// peerKey is a peer's address and port: the IP in 16-byte form (IPv4 as
// IPv4-mapped) then the port, big-endian. A fixed-size array hashes and
// compares faster than netip.AddrPort, which carries a zone handle.
type peerKey [18]byte

func keyOf(ap netip.AddrPort) peerKey {
	var k peerKey
	a16 := ap.Addr().Unmap().As16()
	copy(k[:16], a16[:])
	binary.BigEndian.PutUint16(k[16:], ap.Port())
	return k
}

func (k *peerKey) addrPort() netip.AddrPort {
	a := netip.AddrFrom16([16]byte(k[:16])).Unmap()
	return netip.AddrPortFrom(a, binary.BigEndian.Uint16(k[16:]))
}
