package interop

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// swarmDeadline bounds one swarm test from start to finish; every wait in
// it fails the test when the deadline passes.
const swarmDeadline = 90 * time.Second

// payloadSize is the size of the file the swarms share: 193 pieces of
// 16 KiB (`swarmlab create`'s default for it), enough that a download
// takes real exchanges, small enough to be quick on loopback (on a 2-core
// VM a libtorrent leecher took 0.2 to 0.6 s, aria2 3 to 5 s with its
// start-up).
const payloadSize = 3<<20 + 12345

// swarmSetup is a payload on disk and torrents of it for one tracker.
type swarmSetup struct {
	dir      string // the test's temp directory
	seedDir  string // holds the payload; the seed's save path
	payload  string // the payload file
	infoHash string // hex
}

func newSwarmSetup(t *testing.T) *swarmSetup {
	t.Helper()
	dir := t.TempDir()
	s := &swarmSetup{dir: dir, seedDir: filepath.Join(dir, "seed")}
	s.payload = filepath.Join(s.seedDir, "payload.bin")
	genData(t, s.payload, 11, []fileSpec{{"", payloadSize}})
	return s
}

// torrent makes a torrent of the payload announcing to url. --no-date keeps
// the info dictionary, and so the info hash, the same whatever the URL, so
// torrents for different trackers describe one swarm.
func (s *swarmSetup) torrent(t *testing.T, name, announce string) string {
	t.Helper()
	path := filepath.Join(s.dir, name)
	run(t, swarmlabBin, "create", "--no-date", "-o", path, "-t", announce, s.payload)
	ih := inspect(t, path).InfoHash
	if s.infoHash == "" {
		s.infoHash = ih
	} else if ih != s.infoHash {
		t.Fatalf("%s has info hash %s, the other torrents %s", name, ih, s.infoHash)
	}
	return path
}

// check fails the test unless dir, a client's save path, holds the
// payload byte for byte.
func (s *swarmSetup) check(t *testing.T, dir string) {
	t.Helper()
	if err := diffFile(filepath.Join(dir, filepath.Base(s.payload)), s.payload); err != nil {
		t.Fatal(err)
	}
}

// swarmTools are the tools a swarm test uses, for needTools.
var swarmTools = []string{"libtorrent", "aria2c", "transmission-daemon", "transmission-remote"}

// TestTrackerSwarm runs tracker-only swarms: a libtorrent seed and, one
// after the other, an aria2 leecher, a libtorrent leecher and a
// Transmission leecher, each downloading the whole payload from peers it
// can only have learned from the tracker (DHT, LSD and peer exchange are
// off everywhere and no peer is given another's address directly).
//
// aria2 runs over HTTP only: its UDP tracker client exists only while its
// DHT is on, and DHT stays off here.
//
// Transmission 3.00 drops every 127.0.0.0/8 address a tracker gives it (its
// "martian" filter) but accepts connections from 127.0.0.1. So the test
// checks that the tracker hands Transmission's address to another peer
// (an announce of its own), then has the seed announce again: the seed
// learns Transmission from the tracker and dials it.
//
// The swarm also runs on opentracker, which shows the harness works with
// a tracker not our own: a failure only under swarmlab is swarmlab's.
func TestTrackerSwarm(t *testing.T) {
	for _, tc := range []struct{ tracker, proto string }{
		{"swarmlab", "http"},
		{"swarmlab", "udp"},
		{"opentracker", "http"},
	} {
		t.Run(tc.tracker+"/"+tc.proto, func(t *testing.T) {
			needTools(t, swarmTools...)
			ctx, cancel := context.WithTimeout(t.Context(), swarmDeadline)
			defer cancel()
			s := newSwarmSetup(t)
			var addrs trackerAddrs
			if tc.tracker == "swarmlab" {
				addrs = startSwarmlabTracker(t, ctx)
			} else {
				// The whitelist needs the info hash before the tracker
				// runs; the announce URL does not change it.
				s.torrent(t, "probe.torrent", deadTracker)
				addrs = startOpentracker(t, ctx, s.infoHash)
			}
			torrent := s.torrent(t, "swarm.torrent", addrs.announceURL(tc.proto))
			runSwarm(t, ctx, s, torrent, addrs, tc.proto)
		})
	}
}

func runSwarm(t *testing.T, ctx context.Context, s *swarmSetup, torrent string, addrs trackerAddrs, proto string) {
	start := time.Now()
	step := func(what string) { t.Logf("%5.1fs %s", time.Since(start).Seconds(), what) }
	seed := startLtPeer(t, ctx, "libtorrent seed", torrent, s.seedDir, true)
	seed.waitAll(t, ctx, "finished", "tracker_reply")
	step("libtorrent seed has announced")

	if proto == "http" {
		dir := filepath.Join(s.dir, "aria2")
		runAria2(t, ctx, torrent, dir)
		s.check(t, dir)
		step("aria2 has the payload")
	}

	dir := filepath.Join(s.dir, "lt-leecher")
	leech := startLtPeer(t, ctx, "libtorrent leecher", torrent, dir, false)
	leech.waitAll(t, ctx, "finished")
	s.check(t, dir)
	// Gone before Transmission comes, so that only the seed can serve it.
	leech.quit(t, ctx)
	step("libtorrent leecher has the payload")

	tr := startTransmission(t, ctx)
	tr.add(t, ctx, torrent, s.infoHash)
	waitListed(t, ctx, addrs, proto, s.infoHash, tr.peerPort, "Transmission")
	step("the tracker hands out Transmission's address")
	seed.send(t, map[string]any{"cmd": "reannounce"})
	seed.waitAll(t, ctx, "tracker_reply")
	step("libtorrent seed has announced again")
	defer func() {
		if t.Failed() {
			st := seed.status(t, context.Background())
			t.Logf("seed status: %+v", st)
		}
	}()
	tr.waitComplete(t, ctx, s.infoHash)
	s.check(t, tr.dir)
	step("Transmission has the payload")
}

// TestTrackerRedisShared: two `swarmlab tracker` processes sharing one
// redis-server serve one swarm. The libtorrent seed announces only to the
// first (HTTP); an aria2 leecher (HTTP) and a libtorrent leecher (UDP)
// announce only to the second, and both download the payload from the
// seed, which they can only have learned through Redis.
func TestTrackerRedisShared(t *testing.T) {
	needTools(t, swarmTools...)
	store := redisStoreURL(t)
	ctx, cancel := context.WithTimeout(t.Context(), swarmDeadline)
	defer cancel()
	a := startSwarmlabTracker(t, ctx, "--store", store)
	b := startSwarmlabTracker(t, ctx, "--store", store)
	s := newSwarmSetup(t)
	seedTorrent := s.torrent(t, "a.torrent", a.announceURL("http"))
	httpTorrent := s.torrent(t, "b-http.torrent", b.announceURL("http"))
	udpTorrent := s.torrent(t, "b-udp.torrent", b.announceURL("udp"))

	seed := startLtPeer(t, ctx, "libtorrent seed (tracker A)", seedTorrent, s.seedDir, true)
	seed.waitAll(t, ctx, "finished", "tracker_reply")

	dir := filepath.Join(s.dir, "aria2")
	runAria2(t, ctx, httpTorrent, dir)
	s.check(t, dir)

	dir = filepath.Join(s.dir, "lt-leecher")
	leech := startLtPeer(t, ctx, "libtorrent leecher (tracker B, UDP)", udpTorrent, dir, false)
	leech.waitAll(t, ctx, "finished")
	s.check(t, dir)
}

// redisStoreURL returns a --store URL on the redis-server named by
// SWARMLAB_REDIS_URL, under a key prefix of its own whose keys are deleted
// when the test ends. Without the variable the test is skipped, or failed
// when interop is required.
func redisStoreURL(t *testing.T) string {
	t.Helper()
	raw := os.Getenv("SWARMLAB_REDIS_URL")
	if raw == "" {
		missingTool(t, "SWARMLAB_REDIS_URL is not set (a redis-server to test against, e.g. redis://127.0.0.1:6379/0; .ci/run starts one)")
	}
	opts, err := redis.ParseURL(raw)
	if err != nil {
		t.Fatalf("SWARMLAB_REDIS_URL: %v", err)
	}
	var b [8]byte
	_, _ = crand.Read(b[:])
	prefix := "swarmlab-interop:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		c := redis.NewClient(opts)
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			if err := c.Del(ctx, iter.Val()).Err(); err != nil {
				t.Errorf("cleanup: %v", err)
				return
			}
		}
		if err := iter.Err(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("prefix", prefix)
	u.RawQuery = q.Encode()
	return u.String()
}
