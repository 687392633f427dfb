package interop

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
	"github.com/swarmlab/swarmlab/tracker/client"
)

// swarmDeadline bounds one swarm test from start to finish; every wait in
// it fails the test when the deadline passes.
const swarmDeadline = 90 * time.Second

// payloadSize is the size of the file the swarms share: a few hundred
// pieces, enough that a download takes real exchanges, small enough that
// it takes well under a second on loopback.
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

// needSwarmTools checks every tool a swarm test uses before any is
// started, so a missing one skips (or fails) the test at once.
func needSwarmTools(t *testing.T) {
	t.Helper()
	needSwarmlab(t)
	needLibtorrent(t)
	for _, tool := range []struct{ bin, pkg string }{
		{"aria2c", "aria2"},
		{"transmission-daemon", "transmission-daemon"},
		{"transmission-remote", "transmission-cli"},
	} {
		if _, err := exec.LookPath(tool.bin); err != nil {
			missingTool(t, "%s not found (apt-get install %s)", tool.bin, tool.pkg)
		}
	}
}

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
			needSwarmTools(t)
			ctx, cancel := context.WithTimeout(t.Context(), swarmDeadline)
			defer cancel()
			s := newSwarmSetup(t)
			var addrs trackerAddrs
			var torrent string
			if tc.tracker == "swarmlab" {
				addrs = startSwarmlabTracker(t, ctx)
				torrent = s.torrent(t, "swarm.torrent", addrs.announceURL(tc.proto))
			} else {
				// The whitelist needs the info hash before the tracker
				// runs; the announce URL does not change it.
				s.torrent(t, "probe.torrent", deadTracker)
				addrs = startOpentracker(t, ctx, s.infoHash)
				torrent = s.torrent(t, "swarm.torrent", addrs.announceURL(tc.proto))
			}
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
		sameFile(t, filepath.Join(dir, "payload.bin"), s.payload)
		step("aria2 has the payload")
	}

	dir := filepath.Join(s.dir, "lt-leecher")
	leech := startLtPeer(t, ctx, "libtorrent leecher", torrent, dir, false)
	leech.waitAll(t, ctx, "finished")
	sameFile(t, filepath.Join(dir, "payload.bin"), s.payload)
	// Gone before Transmission comes, so that only the seed can serve it.
	leech.quit(t, ctx)
	step("libtorrent leecher has the payload")

	tr := startTransmission(t, ctx)
	tr.run(t, ctx, "--add", torrent, "--download-dir", tr.dir)
	want := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(tr.peerPort))
	ih, err := metainfo.ParseHash(s.infoHash)
	if err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, "the tracker to hand out Transmission's address "+want.String(), func() (bool, error) {
		peers, err := probeAnnounce(ctx, addrs, proto, ih)
		for _, p := range peers {
			if p.Addr == want {
				return true, nil
			}
		}
		if err == nil {
			err = fmt.Errorf("peers %v", peers)
		}
		return false, err
	})
	step("the tracker hands out Transmission's address")
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		// What each side saw, for the failure report.
		dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, _ := tr.tryRemote(dctx, "--torrent", s.infoHash, "--info", "--info-peers", "--info-trackers")
		t.Logf("transmission-remote --info:\n%s", out)
	})
	seed.send(t, map[string]any{"cmd": "reannounce"})
	seed.waitAll(t, ctx, "tracker_reply")
	step("libtorrent seed has announced again")
	defer func() {
		if t.Failed() {
			st := seed.status(t, context.Background())
			t.Logf("seed status: %+v", st)
		}
	}()
	poll(t, ctx, "Transmission to finish the download", func() (bool, error) {
		pct, err := tr.percent(ctx, s.infoHash)
		return pct >= 100, err
	})
	sameFile(t, filepath.Join(tr.dir, "payload.bin"), s.payload)
	step("Transmission has the payload")
}

// probeAnnounce announces to the tracker, with the project's tracker
// client, as a seed (so it is given leechers) at a port no client uses,
// returns the peers the tracker gave, and announces "stopped" so that it
// leaves no trace in the swarm.
func probeAnnounce(ctx context.Context, addrs trackerAddrs, proto string, ih metainfo.Hash) ([]tracker.Peer, error) {
	c := client.New(client.Config{Timeout: 5 * time.Second})
	defer c.Close()
	req := tracker.AnnounceRequest{InfoHash: ih, Port: 9, Left: 0, Event: tracker.EventStarted, NumWant: 200}
	copy(req.PeerID[:], "-SLPROBE-interoptest")
	u := addrs.announceURL(proto)
	resp, err := c.Announce(ctx, u, req)
	if err != nil {
		return nil, err
	}
	req.Event, req.NumWant = tracker.EventStopped, 0
	if _, err := c.Announce(ctx, u, req); err != nil {
		return nil, fmt.Errorf("stopped announce: %w", err)
	}
	return resp.Peers, nil
}

// TestTrackerRedisShared: two `swarmlab tracker` processes sharing one
// redis-server serve one swarm. The libtorrent seed announces only to the
// first (HTTP); an aria2 leecher (HTTP) and a libtorrent leecher (UDP)
// announce only to the second, and both download the payload from the
// seed, which they can only have learned through Redis.
func TestTrackerRedisShared(t *testing.T) {
	needSwarmTools(t)
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
	sameFile(t, filepath.Join(dir, "payload.bin"), s.payload)

	dir = filepath.Join(s.dir, "lt-leecher")
	leech := startLtPeer(t, ctx, "libtorrent leecher (tracker B, UDP)", udpTorrent, dir, false)
	leech.waitAll(t, ctx, "finished")
	sameFile(t, filepath.Join(dir, "payload.bin"), s.payload)
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
