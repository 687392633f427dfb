// Package warmhash hashes buffers that are not in the CPU's cache faster
// than feeding them to the hash directly. A received block is such a
// buffer by the time a disk worker hashes it, a while after another
// goroutine read it from the socket. (Hashing each block in the reading
// goroutine, just after the read, was tried. In CPU profiles of 1 GiB
// downloads from a libtorrent seed, SHA-1 took 0.88 s that way and 0.91 s
// without it, and the reader no longer overlapped its reads with the
// hashing: downloads from our own seed got slower.)
//
// SHA-1 with the SHA extensions ran here (BenchmarkSHA1) at 1.85 GB/s on
// a buffer in cache but at 1.05-1.07 GB/s on buffers in memory: its loads
// come a few at a time between long runs of dependent rounds, so the CPU
// has little memory traffic in flight. Reading one byte of every cache
// line of a 16 KiB chunk first (independent loads, many in flight) and
// then hashing it from cache brought that to 1.60 GB/s. Hashing is most
// of the CPU a download spends.
//
// A buffer just filled by a read from a file is in cache already, and
// warming it gains nothing: storage.Verify hashes directly.
package warmhash
