package interop

import (
	"context"
	"net/netip"
	"path/filepath"
	"testing"
	"time"
)

// Transfers between our client and real clients, in both directions, on
// 127.0.0.1. Every case checks the received content byte for byte against
// the source, and in every case the seed is the only peer that has the
// data, so a complete download can only have come from it.
//
// Each pairing runs twice:
//   - direct: no tracker; the downloader is told the seed's address
//     (--peer, libtorrent's connect_peer) or, where the downloader cannot
//     be told (aria2, Transmission), our seed is told the downloader's
//     address and dials it;
//   - through a tracker: `swarmlab tracker`, where the peers find each
//     other only through announces. aria2 gets HTTP (it has no UDP tracker
//     client while its DHT is off); libtorrent gets UDP.
//
// The direct cases use a multi-file torrent with nested directories and
// file sizes that are not multiples of the piece size; the tracker cases
// a single file of a size that is not a power of two. Both torrents end
// in a short last piece.

// trackerTorrentSize is the single file of the tracker cases: about 3 MB,
// cut into 32 KiB pieces, the last 18,129 bytes long.
const (
	trackerTorrentSize  = 3_000_017
	trackerTorrentPiece = 32 << 10
)

// transferCase is the content, the torrent and, when through a tracker,
// the tracker of one subtest.
type transferCase struct {
	ctx     context.Context
	data    *clientData
	torrent string
	info    inspectOut
	tracker trackerAddrs // zero for direct cases
	proto   string       // the tracker's protocol, "" for direct cases
}

// newDirectCase checks the tools the subtest uses and sets up a direct
// case, which must end within deadline.
func newDirectCase(t *testing.T, deadline time.Duration, tools ...string) *transferCase {
	t.Helper()
	needTools(t, tools...)
	ctx, cancel := context.WithTimeout(t.Context(), deadline)
	t.Cleanup(cancel)
	c := &transferCase{ctx: ctx, data: newMultiData(t)}
	// deadTracker: the torrent names a tracker, as real ones do, where
	// nothing listens; the clients must find each other without it.
	c.torrent, c.info = c.data.torrent(t, "direct.torrent", deadTracker)
	return c
}

// newTrackerCase checks the tools the subtest uses and sets up a case
// through a `swarmlab tracker` over proto, which must end within
// deadline.
func newTrackerCase(t *testing.T, proto string, deadline time.Duration, tools ...string) *transferCase {
	t.Helper()
	needTools(t, tools...)
	ctx, cancel := context.WithTimeout(t.Context(), deadline)
	t.Cleanup(cancel)
	c := &transferCase{ctx: ctx, data: newSingleData(t, trackerTorrentSize, trackerTorrentPiece), proto: proto}
	c.tracker = startSwarmlabTracker(t, ctx)
	c.torrent, c.info = c.data.torrent(t, "tracker.torrent", c.tracker.announceURL(proto))
	return c
}

// ourArgs are our client's flags for this case: --peer for each of peers,
// and in a direct case --no-trackers, since its torrent's tracker is dead.
func (c *transferCase) ourArgs(peers ...string) []string {
	var args []string
	if c.proto == "" {
		args = append(args, "--no-trackers")
	}
	for _, p := range peers {
		args = append(args, "--peer", p)
	}
	return args
}

// seedByUs starts our seed of the content, dialling peers, and returns
// its address once it listens.
func (c *transferCase) seedByUs(t *testing.T, peers ...string) netip.AddrPort {
	t.Helper()
	return startOurSeed(t, c.ctx, c.torrent, c.data.dir, c.ourArgs(peers...)...)
}

// downloadByUs runs our client, dialling peers, into a fresh directory and
// checks what it saved against the content.
func (c *transferCase) downloadByUs(t *testing.T, peers ...string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "ours")
	runOurDownload(t, c.ctx, c.torrent, out, c.ourArgs(peers...)...)
	c.data.check(t, out)
}

// waitListed waits until the case's tracker hands out 127.0.0.1:port.
func (c *transferCase) waitListed(t *testing.T, port int, who string) {
	t.Helper()
	waitListed(t, c.ctx, c.tracker, c.proto, c.info.InfoHash, port, who)
}

// TestClientDownloadFromLibtorrent: our client downloads from a libtorrent
// seed.
func TestClientDownloadFromLibtorrent(t *testing.T) {
	t.Run("direct", func(t *testing.T) {
		c := newDirectCase(t, clientDeadline, "libtorrent")
		seed := startLtPeer(t, c.ctx, "libtorrent seed", c.torrent, c.data.dir, true)
		seed.waitAll(t, c.ctx, "finished")
		c.downloadByUs(t, loopback(seed.port))
	})
	t.Run("tracker-udp", func(t *testing.T) {
		c := newTrackerCase(t, "udp", clientDeadline, "libtorrent")
		seed := startLtPeer(t, c.ctx, "libtorrent seed", c.torrent, c.data.dir, true)
		// Announced as a seed: our client's first announce will list it.
		seed.waitAll(t, c.ctx, "finished", "tracker_reply")
		c.downloadByUs(t)
	})
}

// TestClientDownloadFromAria2: our client downloads from an aria2 seed.
func TestClientDownloadFromAria2(t *testing.T) {
	t.Run("direct", func(t *testing.T) {
		c := newDirectCase(t, clientDeadline, "aria2c")
		port := freePort(t)
		startAria2(t, c.ctx, c.torrent, c.data.dir, port, true)
		c.downloadByUs(t, loopback(port))
	})
	t.Run("tracker-http", func(t *testing.T) {
		c := newTrackerCase(t, "http", clientDeadline, "aria2c")
		port := freePort(t)
		startAria2(t, c.ctx, c.torrent, c.data.dir, port, true)
		c.waitListed(t, port, "the aria2 seed")
		c.downloadByUs(t)
	})
}

// TestClientSeedToLibtorrent: libtorrent downloads from our seed.
func TestClientSeedToLibtorrent(t *testing.T) {
	t.Run("direct", func(t *testing.T) {
		c := newDirectCase(t, clientDeadline, "libtorrent")
		addr := c.seedByUs(t)
		dir := filepath.Join(t.TempDir(), "libtorrent")
		leech := startLtPeer(t, c.ctx, "libtorrent leecher", c.torrent, dir, false)
		leech.send(t, map[string]any{"cmd": "connect", "ip": addr.Addr().String(), "port": int(addr.Port())})
		leech.waitAll(t, c.ctx, "finished")
		c.data.check(t, dir)
	})
	t.Run("tracker-udp", func(t *testing.T) {
		c := newTrackerCase(t, "udp", clientDeadline, "libtorrent")
		addr := c.seedByUs(t)
		c.waitListed(t, int(addr.Port()), "our seed")
		dir := filepath.Join(t.TempDir(), "libtorrent")
		leech := startLtPeer(t, c.ctx, "libtorrent leecher", c.torrent, dir, false)
		leech.waitAll(t, c.ctx, "finished")
		c.data.check(t, dir)
	})
}

// TestClientSeedToAria2: aria2 downloads from our seed. aria2 opens with
// "have none" and then, whenever one message is shorter than the have
// messages it owes (DefaultBtInteractive::checkHave), announces its pieces
// with a fresh bitfield in the middle of the connection; our seed must
// take that as news, not as a protocol error.
func TestClientSeedToAria2(t *testing.T) {
	t.Run("direct", func(t *testing.T) {
		c := newDirectCase(t, clientDeadline, "aria2c")
		port := freePort(t)
		dir := filepath.Join(t.TempDir(), "aria2")
		leech := startAria2(t, c.ctx, c.torrent, dir, port, false)
		// aria2 cannot be told a peer's address; our seed dials it.
		c.seedByUs(t, loopback(port))
		leech.wait(t, c.ctx)
		c.data.check(t, dir)
	})
	t.Run("tracker-http", func(t *testing.T) {
		c := newTrackerCase(t, "http", clientDeadline, "aria2c")
		addr := c.seedByUs(t)
		c.waitListed(t, int(addr.Port()), "our seed")
		dir := filepath.Join(t.TempDir(), "aria2")
		runAria2(t, c.ctx, c.torrent, dir)
		c.data.check(t, dir)
	})
}

// TestClientSeedToTransmission: Transmission downloads from our seed.
// Transmission 3.00 ignores 127.0.0.0/8 addresses from trackers, so in
// both cases our seed dials it: told its address directly, or learning it
// from the tracker, which is why our seed starts only once Transmission
// has announced (a seed is given leechers only). The two subtests run in
// parallel: most of each is Transmission waiting for its rechoke timer.
func TestClientSeedToTransmission(t *testing.T) {
	t.Run("direct", func(t *testing.T) {
		t.Parallel()
		c := newDirectCase(t, transmissionDeadline, "transmission-daemon", "transmission-remote")
		tr := startTransmission(t, c.ctx)
		tr.add(t, c.ctx, c.torrent, c.info.InfoHash)
		// A connection that arrives while Transmission still checks the
		// (empty) download directory is refused, and our client does not
		// redial an address at once.
		poll(t, c.ctx, "Transmission to start the torrent", func() (bool, error) {
			st, err := tr.state(c.ctx, c.info.InfoHash)
			return st == "Idle" || st == "Downloading", err
		})
		c.seedByUs(t, loopback(tr.peerPort))
		waitTransmission(t, c, tr)
	})
	t.Run("tracker-http", func(t *testing.T) {
		t.Parallel()
		c := newTrackerCase(t, "http", transmissionDeadline, "transmission-daemon", "transmission-remote")
		tr := startTransmission(t, c.ctx)
		tr.add(t, c.ctx, c.torrent, c.info.InfoHash)
		c.waitListed(t, tr.peerPort, "Transmission")
		c.seedByUs(t)
		waitTransmission(t, c, tr)
	})
}

// waitTransmission waits until Transmission has the whole torrent and its
// files hold the content.
func waitTransmission(t *testing.T, c *transferCase, tr *transmission) {
	t.Helper()
	tr.waitComplete(t, c.ctx, c.info.InfoHash)
	// Transmission counts a piece done once verified, which it may do
	// from its write cache; the files on disk catch up when it flushes.
	// Content that never matches still fails, at the deadline.
	poll(t, c.ctx, "Transmission's files to match the source", func() (bool, error) {
		err := c.data.compare(tr.dir)
		return err == nil, err
	})
}
