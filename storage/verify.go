package storage

import (
	"context"
	"crypto/sha1"
	"fmt"
	"io"
	"sync"

	"github.com/swarmlab/swarmlab/metainfo"
)

// VerifyPiece reports whether piece holds data matching its hash in info.
// buf is scratch space; one of info.PieceLength bytes avoids an allocation
// per call. A read error, or a storage shorter than info says, is an
// error rather than false, since the piece's state is then unknown.
//
// When s implements Sparse and the piece has not been written at all, the
// answer is false without reading.
func VerifyPiece(s io.ReaderAt, info *metainfo.Info, piece int, buf []byte) (bool, error) {
	if info == nil {
		return false, fmt.Errorf("storage: verify piece %d: %w: nil", piece, ErrInvalidInfo)
	}
	data, err := readPiece(s, info, piece, buf)
	if data == nil || err != nil {
		return false, err
	}
	return sha1.Sum(data) == info.PieceHash(piece), nil
}

// readPiece reads piece into buf (or a new buffer, if buf is too short)
// and returns it, or nil when s implements Sparse and the piece was never
// written. Errors are as VerifyPiece's.
func readPiece(s io.ReaderAt, info *metainfo.Info, piece int, buf []byte) ([]byte, error) {
	size := info.PieceSize(piece)
	if size <= 0 || size > info.PieceLength {
		return nil, fmt.Errorf("storage: verify piece %d: %w: no such piece (%d pieces, size %d)", piece, ErrInvalidInfo, info.NumPieces(), size)
	}
	off := int64(piece) * info.PieceLength
	if sp, ok := s.(Sparse); ok && sp.Unwritten(off, size) {
		return nil, nil
	}
	if int64(cap(buf)) < size {
		buf = make([]byte, size)
	}
	buf = buf[:size]
	n, err := s.ReadAt(buf, off)
	if int64(n) < size {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("storage: verify piece %d: %w", piece, err)
	}
	// io.ReaderAt allows io.EOF with a full read at the end of the input.
	return buf, nil
}

// Verify checks every piece of info against s and returns which ones hold
// the right data. This is how a restart over an existing download finds
// what it already has.
//
// It hashes on workers goroutines (0 means runtime.GOMAXPROCS(0); see
// metainfo.Info.HashPieces), each claiming the next run of unchecked
// pieces (sixteen where the processor can hash them side by side, one
// otherwise) and reading them into its own buffers with ReadAt, so s
// must allow concurrent ReadAt calls (io.ReaderAt requires it). It stops
// at the first error or when ctx is cancelled.
//
// progress, if not nil, is called once per piece checked with done counting
// up from 1 to total. Calls never overlap, but come from the hashing
// goroutines, so a slow callback slows verification down.
func Verify(ctx context.Context, s io.ReaderAt, info *metainfo.Info, workers int, progress func(done, total int)) ([]bool, error) {
	if _, err := checkInfo(info); err != nil {
		return nil, err
	}
	have := make([]bool, info.NumPieces())
	var (
		progressMu sync.Mutex
		done       int
	)
	err := info.HashPieces(ctx, workers, func(p int, buf []byte) ([]byte, error) {
		return readPiece(s, info, p, buf)
	}, func(p int, sum *[metainfo.HashSize]byte) {
		// Each piece goes to one worker, so its slot has one writer;
		// HashPieces' return orders the writes before ours.
		have[p] = sum != nil && *sum == info.PieceHash(p)
		if progress != nil {
			progressMu.Lock()
			done++
			progress(done, len(have))
			progressMu.Unlock()
		}
	})
	if err != nil {
		return nil, err
	}
	return have, nil
}
