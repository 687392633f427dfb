// Package interop holds end-to-end tests that check swarmlab against other
// BitTorrent implementations:
//
//   - torrents made by mktorrent and by libtorrent's Python binding must be
//     read by `swarmlab inspect` with the info hash those tools compute, and
//     torrents made by `swarmlab create` must be loaded by libtorrent with
//     the same info hash and pass libtorrent's full hash check of the data;
//   - `swarmlab tracker`, over HTTP and over UDP, must run tracker-only
//     swarms of real clients: a libtorrent seed, then aria2, libtorrent and
//     Transmission leechers that download the payload byte for byte from
//     peers they could only have learned from the tracker; two tracker
//     processes sharing one redis-server must serve one swarm. The same
//     swarm also runs on opentracker, to show the harness is sound;
//   - our client, `swarmlab seed` and `swarmlab download`, must exchange
//     data with libtorrent, aria2 and Transmission in both directions,
//     with peers told directly and through `swarmlab tracker`, and a
//     download killed with SIGKILL must resume from the pieces on disk.
//
// The tests build the swarmlab binary once (TestMain) and drive the real
// tools as subprocesses. The libtorrent side lives in testdata/lt.py, which
// prints one JSON object per call, and testdata/ltpeer.py, a long-running
// peer steered with JSON lines over its standard streams; both start the
// loopback-only session of testdata/ltsession.py. Test data is
// generated from a seeded PRNG, so every run hashes the same bytes.
//
// A missing tool (mktorrent, a python3 that can import libtorrent, aria2c,
// transmission-daemon and transmission-remote, opentracker) or a missing
// SWARMLAB_REDIS_URL skips the tests that need it, unless
// SWARMLAB_REQUIRE_INTEROP=1 is set, in which case it fails them: CI sets it
// so interop can never be skipped silently. On Debian the tools are
// `apt-get install mktorrent python3-libtorrent aria2 transmission-daemon
// transmission-cli opentracker redis-server`; .ci/run starts a redis-server.
//
// Nothing here uses a network beyond 127.0.0.1. Every client and tracker is
// bound to it, with DHT, local peer discovery, UPnP, NAT-PMP and peer
// exchange off; torrents for the metainfo tests name 127.0.0.1:1 as their
// tracker (nothing listens there), and the libtorrent session used for hash
// checks adds them with their trackers overridden to none.
package interop
