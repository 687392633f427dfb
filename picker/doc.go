// Package picker holds piece-selection strategies: which piece to start
// downloading next from a given peer.
//
// A Picker is a pure decision over a View, a read-only snapshot that the
// engine keeps current (our pieces, the pieces under way, how many peers
// have each piece, the connected peers with their pieces and rates, a
// seeded random source and the time). It never sees a socket or a clock,
// so the same strategy runs unchanged in the live client, the emulated
// lab and the simulator, and a table test of a few lines pins its
// behaviour down.
//
// The engine, not the picker, finishes pieces already under way before
// starting new ones and runs the end game; a Picker only chooses among
// pieces nobody has started.
package picker
