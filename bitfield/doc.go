// Package bitfield is a fixed-size set of piece indexes, stored as 64-bit
// words so that the questions the engine and pickers ask most ("which
// pieces does this peer have that we lack?") run a word at a time. It
// converts to and from the wire form of BEP 3 bitfield messages (most
// significant bit first).
package bitfield
