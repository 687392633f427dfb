package store

import (
	"context"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
)

func benchAnnounce(h metainfo.Hash, i int) Announce {
	return Announce{
		InfoHash: h,
		Addr:     netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 6881),
		Seed:     i%4 == 0,
		NumWant:  50,
	}
}

// BenchmarkMemoryAnnounce measures the store's share of an announce: a
// refresh of a known peer that returns 50 others, in one big swarm and
// spread over many small ones, from one goroutine and from all cores.
func BenchmarkMemoryAnnounce(b *testing.B) {
	for _, tc := range []struct {
		name          string
		swarms, peers int
	}{{"1swarm-10000peers", 1, 10000}, {"10000swarms-10peers", 10000, 10}, {"100000swarms-1peer", 100000, 1}} {
		m := NewMemory(Options{Seed: 1})
		ctx := context.Background()
		now := time.Unix(1e9, 0)
		hashes := make([]metainfo.Hash, tc.swarms)
		for s := range hashes {
			hashes[s] = metainfo.Hash{byte(s), byte(s >> 8), byte(s >> 16)}
			for p := 0; p < tc.peers; p++ {
				if _, err := m.Announce(ctx, benchAnnounce(hashes[s], p), now, nil); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.Run(tc.name, func(b *testing.B) {
			buf := make([]tracker.Peer, 0, 64)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				a := benchAnnounce(hashes[i%tc.swarms], i/tc.swarms%tc.peers)
				i++
				r, err := m.Announce(ctx, a, now, buf[:0])
				if err != nil {
					b.Fatal(err)
				}
				buf = r.Peers
			}
		})
		b.Run(tc.name+"-parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				buf := make([]tracker.Peer, 0, 64)
				i := 0
				for pb.Next() {
					a := benchAnnounce(hashes[i%tc.swarms], i/tc.swarms%tc.peers)
					i += 7
					r, err := m.Announce(ctx, a, now, buf[:0])
					if err != nil {
						b.Error(err)
						return
					}
					buf = r.Peers
				}
			})
		})
	}
}

// BenchmarkMemoryChurn is a peer arriving and leaving: insert, sample,
// remove.
func BenchmarkMemoryChurn(b *testing.B) {
	m := NewMemory(Options{Seed: 1})
	ctx := context.Background()
	now := time.Unix(1e9, 0)
	h := metainfo.Hash{1}
	for p := 0; p < 1000; p++ {
		if _, err := m.Announce(ctx, benchAnnounce(h, p), now, nil); err != nil {
			b.Fatal(err)
		}
	}
	buf := make([]tracker.Peer, 0, 64)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		a := benchAnnounce(h, 1000+i%1000)
		i++
		r, err := m.Announce(ctx, a, now, buf[:0])
		if err != nil {
			b.Fatal(err)
		}
		a.Event = tracker.EventStopped
		if _, err := m.Announce(ctx, a, now, buf[:0]); err != nil {
			b.Fatal(err)
		}
		buf = r.Peers
	}
}

// BenchmarkMemoryFootprint reports the heap the store holds per peer,
// for peers spread over many small swarms and packed into a few big ones.
func BenchmarkMemoryFootprint(b *testing.B) {
	for _, tc := range []struct {
		name          string
		swarms, peers int
	}{{"1000swarms-1000peers", 1000, 1000}, {"100000swarms-10peers", 100000, 10}, {"1000000swarms-1peer", 1000000, 1}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				m := NewMemory(Options{Seed: 1})
				now := time.Unix(1e9, 0)
				for s := 0; s < tc.swarms; s++ {
					h := metainfo.Hash{byte(s), byte(s >> 8), byte(s >> 16), 1}
					for p := 0; p < tc.peers; p++ {
						a := benchAnnounce(h, p)
						a.NumWant = 0
						if _, err := m.Announce(context.Background(), a, now, nil); err != nil {
							b.Fatal(err)
						}
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				n := tc.swarms * tc.peers
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "B/peer")
				runtime.KeepAlive(m)
			}
		})
	}
}
