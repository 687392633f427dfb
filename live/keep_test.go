package live_test

import (
	"bytes"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/live"
	"github.com/swarmlab/swarmlab/wire"
)

// gate stands in front of a peer. It accepts connections and drops the
// first refuse of them at once, as a seed still checking its files does,
// then relays the rest to the peer.
type gate struct {
	ln       net.Listener
	to       string
	refuse   int32
	accepted atomic.Int32
	wg       sync.WaitGroup
}

func newGate(t *testing.T, to netip.AddrPort, refuse int32) *gate {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{ln: ln, to: to.String(), refuse: refuse}
	g.wg.Go(g.serve)
	t.Cleanup(func() { ln.Close(); g.wg.Wait() })
	return g
}

func (g *gate) addr() netip.AddrPort { return netip.MustParseAddrPort(g.ln.Addr().String()) }

func (g *gate) serve() {
	for {
		c, err := g.ln.Accept()
		if err != nil {
			return
		}
		if g.accepted.Add(1) <= g.refuse {
			c.Close()
			continue
		}
		p, err := net.Dial("tcp", g.to)
		if err != nil {
			c.Close()
			continue
		}
		relay := func(dst, src net.Conn) {
			io.Copy(dst, src)
			dst.Close()
			src.Close()
		}
		g.wg.Go(func() { relay(p, c) })
		g.wg.Go(func() { relay(c, p) })
	}
}

// A peer given with KeepPeers that drops the first connections is dialed
// again until one holds, and the download completes through it.
func TestKeptPeerIsRedialed(t *testing.T) {
	seedDir, leechDir := t.TempDir(), t.TempDir()
	mi, data := makeTorrent(t, seedDir, "content.bin", 1<<20+333, 64<<10)
	seed := startPeer(t, mi, seedDir, true, nil, 1)
	leech := startPeer(t, mi, leechDir, false, nil, 2)
	g := newGate(t, seed.addr(t), 2)
	leech.torrent.KeepPeers([]netip.AddrPort{g.addr()})
	waitComplete(t, leech, 60*time.Second)
	if err := leech.torrent.Close(); err != nil {
		t.Fatal(err)
	}
	// At least 3; more if the two seeds parted and the keeper came back
	// before Close.
	if n := g.accepted.Load(); n < 3 {
		t.Errorf("the gate took %d connections, want 2 dropped and 1 that held", n)
	}
	got, err := os.ReadFile(filepath.Join(leechDir, "content.bin"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("downloaded file differs (err %v)", err)
	}
}

// AddPeers dials once: the same gate leaves such a download without a
// peer. This is what KeepPeers is for, and shows the test above does not
// pass by some other route.
func TestAddedPeerIsDialedOnce(t *testing.T) {
	seedDir, leechDir := t.TempDir(), t.TempDir()
	mi, _ := makeTorrent(t, seedDir, "content.bin", 256<<10, 64<<10)
	seed := startPeer(t, mi, seedDir, true, nil, 1)
	leech := startPeer(t, mi, leechDir, false, nil, 2)
	g := newGate(t, seed.addr(t), 1)
	leech.torrent.AddPeers([]netip.AddrPort{g.addr()})
	waitFor(t, 10*time.Second, func() bool { return g.accepted.Load() == 1 }, "the one dial")
	leech.torrent.AddPeers([]netip.AddrPort{g.addr()}) // within redialAfter: skipped
	if err := leech.torrent.Close(); err != nil {
		t.Fatal(err)
	}
	if n := g.accepted.Load(); n != 1 {
		t.Errorf("the gate took %d connections, want 1", n)
	}
	select {
	case <-leech.torrent.Complete():
		t.Error("completed with no peer")
	default:
	}
}

// Close ends a kept peer's dial that is stuck in its handshake, and
// waits for it, so that when Close returns our end of the connection is
// closed. Without ending it, Close would wait out the dial's handshake
// timeout (10 s), twice what this test allows.
func TestCloseEndsDialsUnderWay(t *testing.T) {
	seedDir, leechDir := t.TempDir(), t.TempDir()
	mi, _ := makeTorrent(t, seedDir, "content.bin", 64<<10, 64<<10)
	leech := startPeer(t, mi, leechDir, false, nil, 2)
	// A listener that accepts and never answers the handshake.
	addr, accepted := live.AcceptOnce(t)
	leech.torrent.KeepPeers([]netip.AddrPort{netip.MustParseAddrPort(addr)})
	held := <-accepted
	if held == nil {
		t.Fatal("accept failed")
	}
	defer held.Close()
	closeWithin(t, 5*time.Second, "a dial stuck in its handshake", leech.torrent.Close)
	held.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 256)
	for {
		_, err := held.Read(buf) // our handshake first, then the close
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("our end of the stalled handshake was not closed: %v", err)
		}
	}
}

func TestCloseEndsIncomingHandshakes(t *testing.T) {
	dir := t.TempDir()
	mi, _ := makeTorrent(t, dir, "content.bin", 64<<10, 64<<10)
	seed := startPeer(t, mi, dir, true, nil, 3)
	nc, err := net.Dial("tcp", seed.client.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// The start of a handshake, without our peer id: once the client has
	// answered with its own handshake, it waits for the id.
	hs := wire.AppendHandshake(nil, wire.Handshake{InfoHash: mi.InfoHash})
	if _, err := nc.Write(hs[:len(hs)-20]); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(nc, make([]byte, len(hs))); err != nil {
		t.Fatalf("the client did not answer the handshake: %v", err)
	}
	closeWithin(t, 5*time.Second, "an incoming handshake", seed.client.Close)
	if n, err := nc.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("our end of the stalled handshake: read %d, %v; want EOF", n, err)
	}
}

// closeWithin calls closeFn and fails the test if it has not returned
// within d, which is well under the handshake timeout it must not wait
// out; what is what it would be waiting on.
func closeWithin(t *testing.T, d time.Duration, what string, closeFn func() error) {
	t.Helper()
	closed := make(chan error, 1)
	go func() { closed <- closeFn() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(d):
		t.Fatalf("Close still waits on %s after %v", what, d)
	}
}
