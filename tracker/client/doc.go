// Package client is the announce side of a BitTorrent client: it talks to
// trackers over HTTP (BEP 3, compact peers BEP 23, "peers6" BEP 7) and UDP
// (BEP 15, with BEP 41 URL data), walks a torrent's tracker tiers (BEP 12),
// and runs the announce schedule of one torrent (started, regular,
// completed, stopped).
//
// The wire formats are package tracker's; this package adds transport and
// policy only. Three layers, each usable alone:
//
//   - Client sends one announce or scrape to one tracker. It owns the HTTP
//     client (keep-alive) and the UDP sockets and connection-id cache, and
//     is shared by every torrent of a process.
//   - Tiers holds one torrent's trackers in BEP 12 order and fails over
//     between them, promoting the tracker that answered.
//   - Announcer is the loop a torrent driver runs: when to announce, with
//     which event and counters, backing off on failure.
//
// Nothing here reads the wall clock for its decisions: retransmission and
// announce timers come from an injected After function and the age of a
// UDP connection id from an injected Now, so tests drive the schedules
// without waiting.
package client
