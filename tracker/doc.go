// Package tracker holds the BitTorrent tracker wire formats shared by the
// tracker server (package tracker/server) and the client's announce code:
//
//   - HTTP announce and scrape (BEP 3, BEP 48): the query string in both
//     directions, and the bencoded response with peers in the dictionary
//     model, the compact model (BEP 23) and compact IPv6 "peers6" (BEP 7);
//   - UDP announce and scrape (BEP 15): connect, announce, scrape and error
//     packets in both directions, IPv4 and IPv6 peer lists, and BEP 41
//     options after an announce.
//
// It holds no policy and no I/O. Parsers run on every request a public
// tracker receives, so they are written for that: no url.Values, no
// reflection, no allocation on the announce path, and every field checked
// (wrong-length info hashes, ports out of range, negative byte counts) so
// that the server can answer with a failure reason instead of guessing.
package tracker
