package storage

import (
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/swarmlab/swarmlab/metainfo"
)

// Storage holds one torrent's content, addressed by offset in the
// torrent's concatenated content: all files in order, pad files included.
// Implementations are safe for concurrent use; concurrent writes to
// overlapping ranges leave those bytes unspecified, as with pwrite.
type Storage interface {
	// ReadAt reads content. It returns a short count only at the end of
	// the content, with io.EOF, and an error for a negative offset. Ranges
	// never written read as zeros, as do pad files.
	io.ReaderAt
	// WriteAt stores content. A range not entirely within the content is
	// an error wrapping ErrOutOfRange and writes nothing. Bytes that fall
	// in pad files are dropped (BEP 47: pad files are never stored), but
	// count as written.
	io.WriterAt
	// Sync makes every write that completed before the call durable (it
	// survives a power failure, not just the process). After Sync fails,
	// writes since the previous successful Sync may be lost, so pieces
	// they held must be verified again.
	Sync() error
	// Close releases the storage without syncing it. Reads and writes
	// after Close fail; calling Close again returns nil.
	Close() error
}

// Sparse is implemented by storages that can tell, without reading, that a
// range holds nothing written yet. VerifyPiece and Verify use it so that
// checking a download that has barely started does not hash gigabytes of
// zeros, and so that a piece of zeros does not count as present (with no
// file behind it) before anything was written where it lives.
type Sparse interface {
	// Unwritten reports whether [off, off+n) has bytes outside pad files
	// and none of them has been stored. false means "maybe written": a
	// backend may track writes more coarsely than bytes (Files tracks
	// whole files). A range of pad files only, or one not within the
	// content, is false.
	Unwritten(off, n int64) bool
}

var (
	// ErrOutOfRange is wrapped by the error for a write not entirely
	// within the torrent's content.
	ErrOutOfRange = errors.New("range outside the torrent's content")
	// ErrFileTooLong is wrapped by OpenFiles' error for a file on disk
	// longer than the torrent says. Such a file is most likely other data
	// under the same name, and truncating it would destroy that data, so
	// the user has to move it away instead.
	ErrFileTooLong = errors.New("file on disk is longer than in the torrent")
	// ErrInvalidInfo is wrapped by the error for an Info whose lengths and
	// piece count do not agree; Parse never returns one.
	ErrInvalidInfo = errors.New("invalid info")
)

// errClosed is returned by operations on a closed storage; it wraps
// fs.ErrClosed so callers can test for it the usual way.
var errClosed = fmt.Errorf("storage: %w", fs.ErrClosed)

// checkInfo verifies what storage relies on and Parse guarantees, for an
// Info that may have been built by hand (metainfo.Info.CheckLengths). It
// returns the content length.
func checkInfo(info *metainfo.Info) (int64, error) {
	if info == nil {
		return 0, fmt.Errorf("storage: %w: nil", ErrInvalidInfo)
	}
	total, err := info.CheckLengths()
	if err != nil {
		return 0, fmt.Errorf("storage: %w: %w", ErrInvalidInfo, err)
	}
	return total, nil
}

// layout is the part of an Info that backends map bytes with, checked
// once. Its file offsets are computed here rather than trusted, so an Info
// assembled by hand without SetOffsets cannot send bytes to the wrong
// file, and a caller changing its Info later cannot move them either.
type layout struct {
	view        metainfo.Info // Name, Length and Files only: what Spans reads
	files       []metainfo.File
	total       int64
	pieceLength int64
	numPieces   int
	hasPad      bool
}

func newLayout(info *metainfo.Info) (*layout, error) {
	total, err := checkInfo(info)
	if err != nil {
		return nil, err
	}
	files := info.FileList()
	var off int64
	hasPad := false
	for k := range files {
		files[k].Offset = off
		off += files[k].Length
		hasPad = hasPad || files[k].IsPad()
	}
	l := &layout{
		view:        metainfo.Info{Name: info.Name, Length: info.Length},
		files:       files,
		total:       total,
		pieceLength: info.PieceLength,
		numPieces:   info.NumPieces(),
		hasPad:      hasPad,
	}
	if info.IsMultiFile() {
		l.view.Files = files
	}
	return l, nil
}

// spans returns the file ranges holding content [off, off+n), which the
// caller has checked lies within the content.
func (l *layout) spans(off, n int64) []metainfo.FileSpan { return l.view.Spans(off, n) }

// pieceSize is the length of piece p, which the caller has range-checked.
func (l *layout) pieceSize(p int) int64 {
	if p == l.numPieces-1 {
		return l.total - int64(p)*l.pieceLength
	}
	return l.pieceLength
}

// readRange checks a ReadAt and returns how many bytes of p it can fill:
// short only at the end of the content, where the error is io.EOF.
func (l *layout) readRange(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("storage: read at negative offset %d", off)
	}
	if off >= l.total {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	if rest := l.total - off; int64(len(p)) > rest {
		return int(rest), io.EOF
	}
	return len(p), nil
}

// checkWrite rejects a write of n bytes at off that is not entirely
// within the content. It is written so that off+n cannot overflow.
func (l *layout) checkWrite(n, off int64) error {
	if off < 0 || off > l.total || n > l.total-off {
		return fmt.Errorf("storage: write of %d bytes at offset %d: %w (%d bytes)", n, off, ErrOutOfRange, l.total)
	}
	return nil
}
