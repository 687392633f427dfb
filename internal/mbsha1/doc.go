// Package mbsha1 computes the SHA-1 of many messages at once
// ("multi-buffer" hashing): one run of the compression function advances
// Lanes independent messages, one per 32-bit lane of a 512-bit register.
//
// SHA-1 is a chain: each 64-byte block depends on the one before, so a
// single message cannot use wide registers, and a processor without the
// SHA extensions hashes one at about 0.5 GB/s per core. A torrent's pieces
// are independent messages, and a download verifies them by the
// thousand, so hashing sixteen side by side does sixteen times the work
// per instruction. On amd64 there are two kernels: sixteen lanes in
// AVX-512 registers, and, for processors with AVX2 but neither AVX-512
// nor the SHA extensions, eight lanes in AVX2 registers, run twice.
// Where neither applies, or too few messages are given for the lanes to
// pay, Sum falls back to crypto/sha1, one message at a time.
//
// BenchmarkSum, 256 KiB pieces as 16 KiB blocks, on a 2-core Xeon VM
// (Cascade Lake) without the SHA extensions, over several runs on a
// noisy host: crypto/sha1 0.45-0.60 GB/s; AVX-512 3.0-3.9 GB/s with 16
// pieces, 1.9-2.3 with 8; AVX2 1.4-2.1 GB/s with 16, 1.6-2.1 with 8.
// Both pass crypto/sha1 from 3 pieces.
//
// The method, hashing independent messages in the lanes of SIMD
// registers with the inputs transposed word by word, is described by
// Gueron and Krasnov, "Simultaneous hashing of multiple messages" (2012),
// and used by Intel's multi-buffer crypto libraries (isa-l_crypto,
// intel-ipsec-mb); the kernels here are written for this package.
//
// A message is a list of segments (a piece as the blocks it arrived in),
// so that callers need not copy it into one buffer. Segments whose
// lengths are multiples of 64 bytes are read in place; a block that
// straddles two segments, and the final padded block, are assembled in a
// small buffer per lane.
package mbsha1
