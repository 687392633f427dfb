// Package live is the real-world driver of the engine: TCP connections,
// files and the wall clock.
//
// A Client listens for peers and dials them, shakes hands, and hands each
// connection to the Torrent it belongs to. A Torrent runs one goroutine
// that owns its engine.Torrent: every connection's reader feeds it
// messages through one channel, it ticks the engine from a wall-clock
// ticker, and it carries out the engine's actions — frames and uploads go
// to each connection's writer, blocks to disk workers (each owning a share
// of the pieces) that hold a piece's blocks, write the piece in one call
// once it is complete, and report the check without reading it back.
// Where internal/mbsha1 has a kernel for the processor, complete pieces
// are hashed up to sixteen at a time (several times faster than one by
// one); elsewhere a worker hashes each piece's blocks as they come. Nothing in the engine waits on I/O, and nothing here makes a
// protocol decision.
//
// Rate limits (golang.org/x/time/rate) apply per client and per torrent,
// in both directions, by delaying reads and writes, so TCP's own flow
// control slows the remote side down.
package live
