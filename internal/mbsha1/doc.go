// Package mbsha1 computes the SHA-1 of many messages at once
// ("multi-buffer" hashing): one run of the compression function advances
// Lanes independent messages, one per 32-bit lane of a 512-bit register.
//
// SHA-1 is a chain: each 64-byte block depends on the one before, so a
// single message cannot use wide registers, and a processor without the
// SHA extensions hashes one at about 0.5 GB/s per core. A torrent's pieces
// are independent messages, and a download verifies them by the
// thousand, so hashing sixteen side by side does sixteen times the work
// per instruction. Where the processor lacks AVX-512, or too few
// messages are given for the lanes to pay, Sum falls back to
// crypto/sha1, one message at a time.
//
// A message is a list of segments (a piece as the blocks it arrived in),
// so that callers need not copy it into one buffer. Segments whose
// lengths are multiples of 64 bytes are read in place; a block that
// straddles two segments, and the final padded block, are assembled in a
// small buffer per lane.
package mbsha1
