package live_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/engine"
	"github.com/swarmlab/swarmlab/live"
	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/storage"
)

// testLogger sends a client's log to the test's log, shown on failure.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// makeTorrent writes size bytes of seeded random data to dir/name and
// returns its torrent.
func makeTorrent(t *testing.T, dir, name string, size int, pieceLength int64) (*metainfo.MetaInfo, []byte) {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(size), 42))
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	mi, err := metainfo.Create(context.Background(), path, metainfo.CreateOptions{PieceLength: pieceLength})
	if err != nil {
		t.Fatal(err)
	}
	return mi, data
}

type peerNode struct {
	client  *live.Client
	torrent *live.Torrent
	store   storage.Storage
	dir     string
}

func startPeer(t *testing.T, mi *metainfo.MetaInfo, dir string, seed bool, st storage.Storage, seedRand uint64) *peerNode {
	t.Helper()
	c, err := live.NewClient(live.Config{ListenAddr: "127.0.0.1:0", Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if st == nil {
		st, err = storage.OpenFiles(dir, &mi.Info, storage.FileOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
	}
	var have []bool
	if seed {
		var check storage.Storage = st
		if l, ok := st.(lyingStorage); ok {
			check = l.Storage // a liar knows what it has; it lies when uploading
		}
		have, err = storage.Verify(context.Background(), check, &mi.Info, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
	}
	tor, err := c.AddTorrent(live.TorrentConfig{Meta: mi, Storage: st, Have: have, Seed: seedRand})
	if err != nil {
		t.Fatal(err)
	}
	return &peerNode{client: c, torrent: tor, store: st, dir: dir}
}

func (p *peerNode) addr(t *testing.T) netip.AddrPort {
	a, err := netip.ParseAddrPort(p.client.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func waitComplete(t *testing.T, p *peerNode, within time.Duration) {
	t.Helper()
	select {
	case <-p.torrent.Complete():
	case <-p.torrent.Failed():
		t.Fatalf("storage failed: %v", p.torrent.Err())
	case <-time.After(within):
		t.Fatalf("not complete after %v: %+v\n%s", within, p.torrent.Stats(), p.torrent.Describe())
	}
}

func TestSeedToLeecher(t *testing.T) {
	seedDir, leechDir := t.TempDir(), t.TempDir()
	mi, data := makeTorrent(t, seedDir, "content.bin", 3<<20+777, 64<<10)
	seed := startPeer(t, mi, seedDir, true, nil, 1)
	leech := startPeer(t, mi, leechDir, false, nil, 2)
	leech.torrent.AddPeers([]netip.AddrPort{seed.addr(t)})
	waitComplete(t, leech, 60*time.Second)
	if err := leech.torrent.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(leechDir, "content.bin"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("downloaded file differs (err %v)", err)
	}
	st := leech.torrent.Stats()
	if st.Downloaded != int64(len(data)) || st.HashFails != 0 {
		t.Fatalf("stats %+v", st)
	}
	peers := leech.torrent.Peers()
	if len(peers) != 1 || peers[0].Downloaded != int64(len(data)) {
		t.Fatalf("peer records %+v", peers)
	}
}

// lyingStorage serves garbage for every read: a peer built on it uploads
// corrupt blocks while claiming to have everything.
type lyingStorage struct{ storage.Storage }

func (l lyingStorage) ReadAt(p []byte, off int64) (int, error) {
	n, err := l.Storage.ReadAt(p, off)
	for i := range p[:n] {
		p[i] ^= 0xa5
	}
	return n, err
}

// TestCorruptPeerIsBanned: one peer serves corrupt data; every honest
// peer still finishes with correct data, bans the liar, and keeps the
// honest seed (which also contributed to failed pieces, through no fault
// of its own).
func TestCorruptPeerIsBanned(t *testing.T) {
	seedDir := t.TempDir()
	mi, data := makeTorrent(t, seedDir, "content.bin", 2<<20, 32<<10)
	seed := startPeer(t, mi, seedDir, true, nil, 1)

	liarStore, err := storage.NewMemory(&mi.Info)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := liarStore.WriteAt(data, 0); err != nil {
		t.Fatal(err)
	}
	liar := startPeer(t, mi, "", true, lyingStorage{liarStore}, 3)

	var leechers []*peerNode
	for i := range 3 {
		l := startPeer(t, mi, t.TempDir(), false, nil, uint64(10+i))
		l.torrent.AddPeers([]netip.AddrPort{liar.addr(t)})
		leechers = append(leechers, l)
	}
	// Only once each leecher has taken a bad piece does the seed join, so
	// the liar is sure to be tested.
	for i, l := range leechers {
		waitFor(t, 20*time.Second, func() bool { return l.torrent.Stats().HashFails > 0 },
			fmt.Sprintf("leecher %d to receive a corrupt piece", i))
		l.torrent.AddPeers([]netip.AddrPort{seed.addr(t)})
	}
	for _, l := range leechers {
		waitComplete(t, l, 60*time.Second)
	}
	for i, l := range leechers {
		if err := l.torrent.Close(); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(l.dir, "content.bin"))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("leecher %d finished with wrong data (err %v)", i, err)
		}
		recs := map[string]live.PeerRecord{}
		for _, rec := range l.torrent.Peers() {
			recs[rec.Addr] = rec
		}
		if rec := recs[liar.addr(t).String()]; !rec.Banned {
			t.Errorf("leecher %d did not ban the liar: %+v", i, rec)
		}
		if rec := recs[seed.addr(t).String()]; rec.Banned || rec.Downloaded == 0 {
			t.Errorf("leecher %d: honest seed banned or unused: %+v", i, rec)
		}
	}
}

// waitFor polls cond until it holds, failing the test after within.
func waitFor(t *testing.T, within time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func TestRateLimit(t *testing.T) {
	seedDir := t.TempDir()
	const size = 1 << 20
	mi, _ := makeTorrent(t, seedDir, "content.bin", size, 32<<10)
	c, err := live.NewClient(live.Config{ListenAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, err := storage.OpenFiles(seedDir, &mi.Info, storage.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	have, _ := storage.Verify(context.Background(), st, &mi.Info, 0, nil)
	// 512 KiB/s: a 1 MiB download cannot finish in much under 2 s
	// (less the limiter's initial burst of 64 KiB).
	if _, err := c.AddTorrent(live.TorrentConfig{Meta: mi, Storage: st, Have: have, MaxUp: 512 << 10}); err != nil {
		t.Fatal(err)
	}
	addr, _ := netip.ParseAddrPort(c.Addr().String())
	leech := startPeer(t, mi, t.TempDir(), false, nil, 5)
	start := time.Now()
	leech.torrent.AddPeers([]netip.AddrPort{addr})
	waitComplete(t, leech, 30*time.Second)
	// A lower bound only: the limit must hold. (No upper bound: a slow
	// machine may take longer without anything being wrong.)
	if el := time.Since(start); el < 1700*time.Millisecond {
		t.Fatalf("1 MiB at 512 KiB/s took %v", el)
	}
}

// TestGossipOverTCP: the three gossip modes move a torrent between
// swarmlab peers over real connections, via the BEP 10 extension.
func TestGossipOverTCP(t *testing.T) {
	for _, mode := range []engine.GossipMode{engine.Push, engine.Pull, engine.PushPull} {
		t.Run(mode.String(), func(t *testing.T) {
			seedDir := t.TempDir()
			mi, data := makeTorrent(t, seedDir, "content.bin", 512<<10, 32<<10)
			g := &engine.GossipConfig{Mode: mode, Fanout: 3, Interval: 50 * time.Millisecond}
			start := func(dir string, seed bool) *peerNode {
				c, err := live.NewClient(live.Config{ListenAddr: "127.0.0.1:0"})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { c.Close() })
				st, err := storage.OpenFiles(dir, &mi.Info, storage.FileOptions{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				var have []bool
				if seed {
					have, _ = storage.Verify(context.Background(), st, &mi.Info, 0, nil)
				}
				tor, err := c.AddTorrent(live.TorrentConfig{Meta: mi, Storage: st, Have: have, Gossip: g, Seed: 7})
				if err != nil {
					t.Fatal(err)
				}
				return &peerNode{client: c, torrent: tor, store: st, dir: dir}
			}
			nodes := []*peerNode{start(seedDir, true)}
			for range 4 {
				nodes = append(nodes, start(t.TempDir(), false))
			}
			for i, a := range nodes {
				for _, b := range nodes[i+1:] {
					a.torrent.AddPeers([]netip.AddrPort{b.addr(t)})
				}
			}
			for _, n := range nodes[1:] {
				waitComplete(t, n, 60*time.Second)
			}
			for i, n := range nodes[1:] {
				n.torrent.Close()
				got, err := os.ReadFile(filepath.Join(n.dir, "content.bin"))
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("peer %d: wrong data (err %v)", i, err)
				}
			}
		})
	}
}
