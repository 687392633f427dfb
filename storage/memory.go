package storage

import (
	"sync"
	"sync/atomic"

	"github.com/swarmlab/swarmlab/metainfo"
)

// Memory is a Storage that keeps content in memory. A piece's buffer is
// allocated on the first write into it, so a lab can run many peers that
// each hold only part of a large torrent. It is safe for concurrent use.
type Memory struct {
	l      *layout
	closed atomic.Bool
	pieces []memPiece
}

// memPiece is one piece's bytes, nil until written. A lock per piece lets
// writers of different pieces proceed in parallel and keeps a read that
// overlaps a write of the same piece from being a data race.
type memPiece struct {
	mu   sync.RWMutex
	data []byte
}

var (
	_ Storage = (*Memory)(nil)
	_ Sparse  = (*Memory)(nil)
)

// NewMemory returns an empty in-memory storage for info, which must not
// be modified while the storage is in use. It fails only for an Info whose
// lengths and piece count disagree (ErrInvalidInfo).
func NewMemory(info *metainfo.Info) (*Memory, error) {
	l, err := newLayout(info)
	if err != nil {
		return nil, err
	}
	return &Memory{l: l, pieces: make([]memPiece, l.numPieces)}, nil
}

// ReadAt implements io.ReaderAt.
func (m *Memory) ReadAt(p []byte, off int64) (int, error) {
	if m.closed.Load() {
		return 0, errClosed
	}
	n, err := m.l.readRange(p, off)
	if n == 0 {
		return 0, err
	}
	var cerr error
	m.eachRange(p[:n], off, func(b []byte, off int64, pad bool) bool {
		if pad {
			clear(b)
			return true
		}
		cerr = m.eachPiece(b, off, false)
		return cerr == nil
	})
	if cerr != nil {
		return 0, cerr
	}
	return n, err
}

// WriteAt implements io.WriterAt.
func (m *Memory) WriteAt(p []byte, off int64) (int, error) {
	if m.closed.Load() {
		return 0, errClosed
	}
	if err := m.l.checkWrite(int64(len(p)), off); err != nil {
		return 0, err
	}
	var cerr error
	m.eachRange(p, off, func(b []byte, off int64, pad bool) bool {
		if !pad {
			cerr = m.eachPiece(b, off, true)
		}
		return cerr == nil
	})
	if cerr != nil {
		return 0, cerr
	}
	return len(p), nil
}

// Unwritten implements Sparse.
func (m *Memory) Unwritten(off, n int64) bool {
	if m.closed.Load() || off < 0 || n <= 0 || off > m.l.total-n {
		return false
	}
	content, written := false, false
	m.eachSpan(off, n, func(off, n int64, pad bool) bool {
		if pad {
			return true
		}
		content = true
		for p := int(off / m.l.pieceLength); p <= int((off+n-1)/m.l.pieceLength); p++ {
			mp := &m.pieces[p]
			mp.mu.RLock()
			written = mp.data != nil
			mp.mu.RUnlock()
			if written {
				return false
			}
		}
		return true
	})
	return content && !written
}

// Sync implements Storage; memory has nothing to flush.
func (m *Memory) Sync() error {
	if m.closed.Load() {
		return errClosed
	}
	return nil
}

// Close frees the content.
func (m *Memory) Close() error {
	if m.closed.Swap(true) {
		return nil
	}
	// An operation that passed its closed check before the Swap may still
	// be running; it rechecks under the piece lock, so nothing is stored
	// into a piece freed here.
	for i := range m.pieces {
		mp := &m.pieces[i]
		mp.mu.Lock()
		mp.data = nil
		mp.mu.Unlock()
	}
	return nil
}

// eachSpan calls fn for each run of content [off, off+n) that lies in one
// file, telling whether that file is a pad file, until fn returns false.
func (m *Memory) eachSpan(off, n int64, fn func(off, n int64, pad bool) bool) {
	if !m.l.hasPad {
		// Without pad files the file boundaries do not matter here.
		fn(off, n, false)
		return
	}
	for _, sp := range m.l.spans(off, n) {
		f := m.l.files[sp.File]
		if !fn(f.Offset+sp.Offset, sp.Length, f.IsPad()) {
			return
		}
	}
}

// eachRange is eachSpan over the bytes of b, which sits at content offset
// off.
func (m *Memory) eachRange(b []byte, off int64, fn func(b []byte, off int64, pad bool) bool) {
	if len(b) == 0 {
		return
	}
	m.eachSpan(off, int64(len(b)), func(o, n int64, pad bool) bool {
		return fn(b[o-off:o-off+n], o, pad)
	})
}

// eachPiece copies between b and the pieces holding content at off:
// into them when write is set, out of them (zeros for unwritten pieces)
// otherwise.
func (m *Memory) eachPiece(b []byte, off int64, write bool) error {
	for len(b) > 0 {
		p := int(off / m.l.pieceLength)
		po := off - int64(p)*m.l.pieceLength
		mp := &m.pieces[p]
		var k int
		if write {
			mp.mu.Lock()
			if m.closed.Load() {
				mp.mu.Unlock()
				return errClosed
			}
			if mp.data == nil {
				mp.data = make([]byte, m.l.pieceSize(p))
			}
			k = copy(mp.data[po:], b)
			mp.mu.Unlock()
		} else {
			mp.mu.RLock()
			if m.closed.Load() {
				mp.mu.RUnlock()
				return errClosed
			}
			if mp.data == nil {
				k = min(len(b), int(m.l.pieceSize(p)-po))
				clear(b[:k])
			} else {
				k = copy(b, mp.data[po:])
			}
			mp.mu.RUnlock()
		}
		b = b[k:]
		off += int64(k)
	}
	return nil
}
