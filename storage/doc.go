// Package storage holds a torrent's content behind the Storage interface:
// random-access reads and writes addressed by offset in the torrent's
// concatenated content, so callers never deal with file boundaries.
//
// Files is the disk backend: one file per torrent file, pread and pwrite
// only, created sparse on first write, every path confined to the download
// directory with os.Root. It also writes runs of buffers in one call
// (VectorWriter, pwritev), and with FileOptions.DirectWrites sends aligned
// writes past the page cache, for a downloader that checks pieces from
// the bytes it received. Memory keeps pieces in memory, for tests and for
// labs that run many peers in one process.
//
// VerifyPiece and Verify check data against the piece hashes; Verify runs
// on all cores and is how a restart over an existing directory finds what
// it already has. Pieces count only once they verify: nothing here records
// completion, so a killed process loses nothing it wrote, and a power
// failure at most what was written after the last Sync.
//
// Package storagetest holds the conformance suite every backend passes.
package storage
