// Package server is swarmlab's BitTorrent tracker: HTTP announce and scrape
// (BEP 3, 23, 7, 48) and UDP (BEP 15, 41) in front of a store.Store, with
// access control, peer expiry and Prometheus metrics.
//
// It is a library first. The lab's worlds run a Server in-process, either
// on loopback sockets (Listen, Serve) or without sockets at all (Announce,
// Scrape, Expire take the time as an argument), and the "swarmlab tracker"
// command is a thin layer over the same calls.
//
// The hot paths are built for throughput on few cores: the HTTP frontend is
// a minimal HTTP/1.1 server that serves only announce and scrape, with
// keep-alive and pipelining, reused per-connection buffers and no per-request
// allocation; the UDP frontend runs one read loop per socket (several
// sockets share a port with SO_REUSEPORT) and keeps no per-client state,
// deriving connection ids from a keyed hash of the client's address and the
// current minute.
//
// Memory is bounded however clients behave: the store caps swarms and peers
// (store.Limits), the HTTP frontend caps connections and request size, and
// UDP holds nothing between packets.
package server
