// Package interop holds end-to-end tests that check swarmlab against other
// BitTorrent implementations: torrents made by mktorrent and by libtorrent's
// Python binding must be read by `swarmlab inspect` with the info hash those
// tools compute, and torrents made by `swarmlab create` must be loaded by
// libtorrent with the same info hash and pass libtorrent's full hash check of
// the data.
//
// The tests build the swarmlab binary once (TestMain) and drive the real
// tools as subprocesses. The libtorrent side lives in testdata/lt.py, which
// prints one JSON object per call. Test data is generated from a seeded PRNG,
// so every run hashes the same bytes.
//
// A missing tool (mktorrent, or a python3 that can import libtorrent) skips
// the tests that need it, unless SWARMLAB_REQUIRE_INTEROP=1 is set, in which
// case it fails them: CI sets it so interop can never be skipped silently.
// On Debian the tools are `apt-get install mktorrent python3-libtorrent`.
//
// Nothing here uses a network beyond 127.0.0.1: tracker URLs point at
// 127.0.0.1:1 (nothing listens there), and the libtorrent session used for
// hash checks has DHT, LSD, UPnP and NAT-PMP off, listens on 127.0.0.1:0 and
// adds torrents with their trackers overridden to none.
package interop
