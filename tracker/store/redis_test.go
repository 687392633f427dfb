package store_test

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
	"github.com/swarmlab/swarmlab/tracker/store"
	"github.com/swarmlab/swarmlab/tracker/store/storetest"
)

// redisURLEnv names the redis-server the Redis store is tested against;
// .ci/run starts a throwaway one and sets it. requireEnv, when "1", makes
// its absence a failure instead of a skip, as in the interop tests.
const (
	redisURLEnv = "SWARMLAB_REDIS_URL"
	requireEnv  = "SWARMLAB_REQUIRE_INTEROP"
)

func redisURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv(redisURLEnv)
	if u == "" {
		msg := redisURLEnv + " is not set (e.g. redis://127.0.0.1:6379/0; bash .ci/run starts a redis-server)"
		if os.Getenv(requireEnv) == "1" {
			t.Fatalf("%s (%s=1, so this is a failure, not a skip)", msg, requireEnv)
		}
		t.Skip(msg)
	}
	return u
}

// testPrefix returns a key prefix no other test uses and removes every key
// under it when the test ends, so tests share one server and database
// without seeing each other's swarms.
func testPrefix(t *testing.T, rawURL string) string {
	t.Helper()
	var b [8]byte
	_, _ = crand.Read(b[:])
	prefix := "swarmlab-test:" + hex.EncodeToString(b[:]) + ":"
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		t.Fatalf("%s: %v", redisURLEnv, err)
	}
	t.Cleanup(func() {
		// A client of its own: the store under test may be closed by now.
		c := redis.NewClient(opts)
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var keys []string
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("cleanup: scan %s*: %v", prefix, err)
			return
		}
		for len(keys) > 0 {
			n := min(len(keys), 500)
			if err := c.Del(ctx, keys[:n]...).Err(); err != nil {
				t.Errorf("cleanup: del: %v", err)
				return
			}
			keys = keys[n:]
		}
	})
	return prefix
}

func withPrefix(rawURL, prefix string) string {
	return rawURL + "?prefix=" + prefix
}

func openRedis(t *testing.T, rawURL string, opts store.Options) *store.Redis {
	t.Helper()
	s, err := store.OpenRedis(t.Context(), rawURL, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestRedisConformance(t *testing.T) {
	u := redisURL(t)
	storetest.Run(t, func(t *testing.T, opts store.Options) store.Store {
		return openRedis(t, withPrefix(u, testPrefix(t, u)), opts)
	})
}

func hashN(i byte) metainfo.Hash {
	var h metainfo.Hash
	h[0], h[19] = i, 0x5A
	return h
}

func peerN(i int) store.Announce {
	a := store.Announce{
		InfoHash: hashN(1),
		Addr:     netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(6000+i)),
		NumWant:  50,
	}
	copy(a.PeerID[:], "-SL0001-redis-test-"+string(rune('a'+i)))
	return a
}

// TestRedisSharedSwarm: two stores on one server and prefix, as two tracker
// instances behind one address would have, see one swarm: peers announced
// through one are handed out by the other, with the same counts; a store
// under another prefix sees none of it.
func TestRedisSharedSwarm(t *testing.T) {
	u := redisURL(t)
	shared := withPrefix(u, testPrefix(t, u))
	a := openRedis(t, shared, store.Options{})
	b := openRedis(t, shared, store.Options{})
	other := openRedis(t, withPrefix(u, testPrefix(t, u)), store.Options{})
	ctx := t.Context()
	now := time.Unix(1_700_000_000, 0)

	seed := peerN(0)
	seed.Seed = true
	if _, err := a.Announce(ctx, seed, now, nil); err != nil {
		t.Fatal(err)
	}
	r, err := b.Announce(ctx, peerN(1), now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Complete != 1 || r.Incomplete != 1 || len(r.Peers) != 1 || r.Peers[0].Addr != seed.Addr || r.Peers[0].ID != seed.PeerID {
		t.Fatalf("leecher via store b got %+v, want the seed announced via store a", r)
	}
	// The seed, re-announcing through b, is given the leecher.
	r, err = b.Announce(ctx, seed, now.Add(time.Second), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Peers) != 1 || r.Peers[0].Addr != peerN(1).Addr {
		t.Fatalf("seed via store b got %v, want the leecher", r.Peers)
	}
	for name, s := range map[string]store.Store{"a": a, "b": b} {
		st, err := s.Scrape(ctx, []metainfo.Hash{hashN(1)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := (tracker.ScrapeStats{Complete: 1, Incomplete: 1}); st[0] != want {
			t.Errorf("scrape via %s: %+v, want %+v", name, st[0], want)
		}
	}
	st, err := other.Scrape(ctx, []metainfo.Hash{hashN(1)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st[0] != (tracker.ScrapeStats{}) {
		t.Errorf("store under another prefix sees %+v", st[0])
	}
	// Expiry through one store removes the peer for both.
	if n, err := a.Expire(ctx, now.Add(500*time.Millisecond)); err != nil || n != 1 {
		t.Fatalf("Expire removed %d, %v; want the leecher", n, err)
	}
	tot, err := b.Totals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tot != (store.Totals{Swarms: 1, Peers: 1, Seeds: 1}) {
		t.Errorf("totals via b after expiry: %+v", tot)
	}
}

// TestRedisExpireBatches expires more peers than one script call removes,
// across many swarms, and checks that every one goes, the counters end at
// zero and no key is left behind. Every third peer first announced with
// another peer id and as a leecher, so expiry must find set members that
// changed.
func TestRedisExpireBatches(t *testing.T) {
	u := redisURL(t)
	prefix := testPrefix(t, u)
	s := openRedis(t, withPrefix(u, prefix), store.Options{})
	ctx := t.Context()
	now := time.Unix(1_700_000_000, 0)
	const n = 2500
	for i := range n {
		a := peerN(i % 20)
		a.InfoHash = hashN(byte(i / 20))
		a.NumWant = 0
		at := now.Add(time.Duration(i) * time.Millisecond)
		if i%3 == 0 {
			if _, err := s.Announce(ctx, a, at, nil); err != nil {
				t.Fatal(err)
			}
			a.Seed = true
			a.PeerID[19] ^= 0xFF
		}
		if _, err := s.Announce(ctx, a, at, nil); err != nil {
			t.Fatal(err)
		}
	}
	tot, err := s.Totals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// 20 ports in each of 125 swarms.
	if tot.Peers != n || tot.Swarms != n/20 {
		t.Fatalf("totals %+v, want %d peers in %d swarms", tot, n, n/20)
	}
	removed, err := s.Expire(ctx, now.Add(time.Hour))
	if err != nil || removed != n {
		t.Fatalf("Expire removed %d, %v; want %d", removed, err, n)
	}
	if tot, err = s.Totals(ctx); err != nil || tot != (store.Totals{}) {
		t.Fatalf("after expiry totals %+v, %v; want zero", tot, err)
	}
	opts, _ := redis.ParseURL(u)
	c := redis.NewClient(opts)
	defer c.Close()
	keys, err := c.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k != prefix+"peers" && k != prefix+"seeds" {
			t.Errorf("key %q left after every peer expired", k)
		}
	}
}

func TestOpenRedisErrors(t *testing.T) {
	ctx := t.Context()
	if _, err := store.OpenRedis(ctx, "http://127.0.0.1:1/", store.Options{}); err == nil {
		t.Error("OpenRedis accepted an http URL")
	}
	// Port 1 on loopback: nothing listens, so the ping fails at once.
	_, err := store.OpenRedis(ctx, "redis://127.0.0.1:1/0?dial_timeout=2s&max_retries=-1", store.Options{})
	if err == nil {
		t.Fatal("OpenRedis succeeded with no server")
	}
	if errors.Is(err, store.ErrClosed) {
		t.Errorf("unexpected error kind: %v", err)
	}
}
