package storage

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
	"unsafe"
)

// DirectAlignment is what FileOptions.DirectWrites needs of a write to
// send it past the page cache: its offset in the file, and the address
// and length of every buffer, must be multiples of it. 4096 is the
// logical block size of the most demanding common devices, so it is
// enough everywhere.
const DirectAlignment = 4096

// VectorWriter is implemented by storages that can write several buffers
// to consecutive content in one call, as pwritev does, so a caller holding
// a run of adjacent blocks in separate buffers need not copy them into one.
type VectorWriter interface {
	// WriteAtv writes the concatenation of bufs at off, with WriteAt's
	// rules, and returns how many bytes of it were written.
	WriteAtv(bufs [][]byte, off int64) (int, error)
}

var _ VectorWriter = (*Files)(nil)

// Aligned reports whether b starts and ends on DirectAlignment
// boundaries, as buffers of direct writes must.
func Aligned(b []byte) bool {
	return len(b)%DirectAlignment == 0 && (len(b) == 0 || uintptr(unsafe.Pointer(&b[0]))%DirectAlignment == 0)
}

// AlignedBuffer returns a zeroed buffer of n bytes that starts on a
// DirectAlignment boundary.
func AlignedBuffer(n int) []byte {
	// Go's allocator puts large objects on page boundaries, so the first
	// try nearly always succeeds; the fallback makes that a guarantee.
	b := make([]byte, n)
	if n == 0 || uintptr(unsafe.Pointer(&b[0]))%DirectAlignment == 0 {
		return b
	}
	b = make([]byte, n+DirectAlignment)
	skip := DirectAlignment - int(uintptr(unsafe.Pointer(&b[0]))%DirectAlignment)
	return b[skip : skip+n : skip+n]
}

// WriteAtv implements VectorWriter.
func (s *Files) WriteAtv(bufs [][]byte, off int64) (int, error) {
	if s.closed.Load() {
		return 0, errClosed
	}
	total := 0
	for _, b := range bufs {
		total += len(b)
	}
	if err := s.l.checkWrite(int64(total), off); err != nil {
		return 0, err
	}
	if total == 0 {
		return 0, nil
	}
	if err := s.createEmpty(); err != nil {
		return 0, err
	}
	spans := s.l.spans(off, int64(total))
	pos := int64(0)
	for _, sp := range spans {
		if !s.entries[sp.File].pad {
			iov := bufs
			if len(spans) > 1 {
				iov = sliceBufs(bufs, pos, sp.Length)
			}
			if err := s.writeFile(sp.File, iov, sp.Length, sp.Offset); err != nil {
				return int(pos), err
			}
		}
		pos += sp.Length
	}
	return total, nil
}

// sliceBufs returns the parts of bufs that hold bytes [pos, pos+n) of
// their concatenation.
func sliceBufs(bufs [][]byte, pos, n int64) [][]byte {
	var out [][]byte
	for _, b := range bufs {
		if n == 0 {
			break
		}
		if pos >= int64(len(b)) {
			pos -= int64(len(b))
			continue
		}
		part := b[pos:]
		pos = 0
		if int64(len(part)) > n {
			part = part[:n]
		}
		out = append(out, part)
		n -= int64(len(part))
	}
	return out
}

// writeFile writes iov, n bytes in all, at off in file idx: directly when
// the storage allows it and the write is aligned, through the page cache
// otherwise.
func (s *Files) writeFile(idx int, iov [][]byte, n, off int64) error {
	h, err := s.acquire(idx, true)
	if err != nil {
		return err
	}
	if h.readOnly {
		s.release(h, false, 0)
		return s.pathErr("write", s.entries[idx].rel, fs.ErrPermission)
	}
	f := h.f
	if s.direct && off%DirectAlignment == 0 && n%DirectAlignment == 0 && allAligned(iov) {
		if d := s.directFile(h); d != nil {
			f = d
		}
	}
	k, err := writeFull(f, iov, off)
	if f != h.f && errors.Is(err, syscall.EINVAL) && k == 0 {
		// Some file systems accept O_DIRECT at open and refuse the
		// writes; the page cache it is, from now on, for this file.
		s.mu.Lock()
		h.noDirect = true
		s.mu.Unlock()
		k, err = writeFull(h.f, iov, off)
	}
	s.release(h, k > 0, off+int64(k))
	if err != nil {
		return s.pathErr("write", s.entries[idx].rel, err)
	}
	return nil
}

func allAligned(iov [][]byte) bool {
	for _, b := range iov {
		if !Aligned(b) {
			return false
		}
	}
	return true
}

// directFile returns h's file for direct writes, opening it on first
// use, or nil if the file system does not take them. The caller holds a
// use of h (acquire), so h is not closed meanwhile.
func (s *Files) directFile(h *handle) *os.File {
	s.mu.Lock()
	d, no := h.direct, h.noDirect
	s.mu.Unlock()
	if d != nil || no {
		return d
	}
	// A second open file description: O_DIRECT belongs to one, and the
	// reads and unaligned writes on h.f must keep the page cache.
	d, err := s.root.OpenFile(s.entries[h.idx].rel, os.O_WRONLY|directFlag, 0)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err != nil:
		h.noDirect = true
		return nil
	case h.direct != nil || s.closed.Load():
		// Another writer got there first, or Close ran meanwhile (and
		// did not see this file to close it).
		d.Close()
		return h.direct
	}
	h.direct = d
	return d
}
