// Package world runs a scenario's world in emulation: real swarmlab peers
// talking BitTorrent over loopback TCP in one process, in real time.
//
// A world has an in-process tracker (tracker/server, HTTP on 127.0.0.1),
// content generated from the world's seed with its torrent built in
// memory, and one live.Client per peer, each with its own listener, peer
// id, link limits and strategies. Peers join on the wall clock at the
// times the scenario's seeded schedule gives, find each other only
// through the tracker, and after completing seed, leave or restart as
// the scenario says. Run returns the lab.Run record: every peer, its
// joins, pieces, completion and departure, and byte counters sampled
// every 250 ms.
//
// Storage is in memory (storage.Memory), one copy per peer. A lab world
// measures strategies, not disks: files would add page-cache and fsync
// noise that differs between runs, and a world of a hundred peers would
// write a hundred copies. Memory also lets every completed peer's data be
// compared with the content byte for byte as it leaves (Run.Verified).
//
// Determinism: the content, the arrival schedule, every peer's id and
// random source, and the tracker's sampling all derive from the world's
// seed. What real sockets and the scheduler decide (which connection a
// block arrives on first) does not, so two runs of a world agree in
// their schedule and strategies but not in every byte's timing.
package world
