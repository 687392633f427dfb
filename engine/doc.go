// Package engine is the BitTorrent protocol state machine for one torrent.
//
// It owns no goroutines, sockets, files or clocks. A driver feeds it
// events — a peer connected (AddPeer), a message arrived (Receive), a
// block went out (UploadDone), a piece was hashed (PieceVerified), time
// passed (Tick) — and collects the Actions it asks for: send a message,
// upload a block from storage, write a block, hash a piece, close a
// connection. The live driver does that with TCP and files, the simulator
// with an event queue and a virtual clock; both run this same code, and
// the same piece pickers and chokers. A driver takes the actions with
// Actions, one per message; or with TakeActions, where a message to many
// connections (a verified piece's HAVEs) is one SendEach, which the
// simulator handles once rather than once a neighbour.
//
// Every input carries the driver's notion of now, as time since the
// driver started; iteration is over slices in connection order, never over
// maps, and all randomness comes from the configured *rand.Rand. Given the
// same events, a Torrent makes the same decisions, which is what lets a
// simulation be reproduced bit for bit.
//
// The model is etcd's raft package: Step-style inputs, then a drain of
// what to do. A Torrent is not safe for concurrent use; the driver
// serialises calls.
package engine
