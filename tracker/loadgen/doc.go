// Package loadgen is a closed-loop load generator for BitTorrent trackers,
// behind `swarmlab bench tracker`.
//
// It keeps a fixed number of announces in flight and sends the next one the
// moment a reply arrives, so what it measures is the tracker's throughput at
// that concurrency, with latency percentiles alongside. Announces come from a
// population of simulated peers spread over a set of info hashes (1,000 by
// default), each peer with its own id and port; a fill pass announces every
// peer once, which is how the tracker's memory per peer is measured.
//
//   - UDP (BEP 15): several sockets, each with its own goroutine and its
//     share of the in-flight requests, matched to replies by transaction
//     id and sent and received in batches (sendmmsg and recvmmsg on Linux),
//     so the generator takes as little CPU from the tracker as it can. Each
//     socket gets a connection id once and renews it before it is a minute
//     old, as BEP 15 asks of clients. It starts with a few requests and
//     adds one per reply, so a tracker's socket buffer is not flooded by a
//     first burst. A request with no reply within the timeout is counted
//     as an error and replaced.
//   - HTTP: persistent connections, each with several requests pipelined.
//     A tracker that closes the connection after each response (opentracker
//     does) is detected and served one request per connection, so it is
//     measured the way it can work rather than penalised for resends.
//
// Requests and replies go through the tracker package's codecs, the same
// ones the server uses. Nothing here knows which tracker it talks to, so the
// same load can be run against ours and against opentracker.
package loadgen
