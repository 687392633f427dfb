// Package live is the real-world driver of the engine: TCP connections,
// files and the wall clock.
//
// A Client listens for peers and dials them, shakes hands, and hands each
// connection to the Torrent it belongs to. A Torrent runs one goroutine
// that owns its engine.Torrent: every connection's reader feeds it
// messages through one channel, it ticks the engine from a wall-clock
// ticker, and it carries out the engine's actions — frames and uploads go
// to each connection's writer, blocks to disk workers (each owning a share
// of the pieces) that hash a piece's blocks as they come, write the piece
// in one call once it is complete, and report the check without reading
// it back. Nothing in the engine waits on I/O, and nothing here makes a
// protocol decision.
//
// Rate limits (golang.org/x/time/rate) apply per client and per torrent,
// in both directions, by delaying reads and writes, so TCP's own flow
// control slows the remote side down.
package live
