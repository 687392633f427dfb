package storage

import (
	"errors"
	"io/fs"
	"os"
)

// handle is an open file of a Files storage. It is shared by every
// operation on that file; refs counts those in progress, and a handle is
// closed by the LRU only when refs is 0, so a pread never loses its file
// descriptor to another goroutine's eviction.
type handle struct {
	f        *os.File
	idx      int  // entry index
	readOnly bool // the file could be opened for reading only
	refs     int
	// direct is f's twin opened for direct writes (see
	// FileOptions.DirectWrites), nil until the first one; noDirect says
	// the file system refused it. Both are guarded by Files.mu.
	direct   *os.File
	noDirect bool
	// prev and next link the LRU list.
	prev, next *handle
}

// handleList is a doubly linked list of handles, most recently used first,
// with a sentinel so that insertion and removal need no special cases.
type handleList struct{ head handle }

func (l *handleList) init() { l.head.next, l.head.prev = &l.head, &l.head }

func (l *handleList) remove(h *handle) {
	h.prev.next, h.next.prev = h.next, h.prev
	h.prev, h.next = nil, nil
}

func (l *handleList) pushFront(h *handle) {
	h.prev, h.next = &l.head, l.head.next
	l.head.next.prev = h
	l.head.next = h
}

// acquire returns the open handle for entry idx, opening the file if
// needed, and counts the caller as a user until release. With create
// unset it returns nil, nil for a file that does not exist; with create
// set it creates the file.
func (s *Files) acquire(idx int, create bool) (*handle, error) {
	e := &s.entries[idx]
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return nil, errClosed
	}
	if h := e.h; h != nil {
		s.use(h)
		s.mu.Unlock()
		return h, nil
	}
	missing := e.size < 0
	s.mu.Unlock()
	if missing && !create {
		return nil, nil
	}

	// Opening, and creating, run without the lock: they are system calls
	// on paths of any depth, and other files' reads and writes should not
	// wait for them. Two goroutines may race to open the same file; the
	// loser closes its copy below.
	f, readOnly, created, err := s.openFile(e, create)
	if err != nil || f == nil {
		return nil, err
	}

	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		f.Close()
		return nil, errClosed
	}
	if created {
		e.size = e.length
		s.noteCreated(e.rel)
	} else if e.size < 0 {
		// Created by another goroutine whose acquire has not got here yet.
		e.size = 0
	}
	if h := e.h; h != nil {
		s.use(h)
		s.mu.Unlock()
		f.Close()
		return h, nil
	}
	h := &handle{f: f, idx: idx, readOnly: readOnly, refs: 1}
	e.h = h
	s.lru.pushFront(h)
	s.nopen++
	victims := s.evict()
	s.mu.Unlock()
	closeFiles(victims)
	return h, nil
}

// use counts one more user of the open handle h and makes it the most
// recently used. The caller holds s.mu.
func (s *Files) use(h *handle) {
	h.refs++
	s.lru.remove(h)
	s.lru.pushFront(h)
}

// release ends a use of h begun by acquire. wrote says the caller wrote
// to the file, up to byte end.
func (s *Files) release(h *handle, wrote bool, end int64) {
	s.mu.Lock()
	h.refs--
	if wrote {
		// Marked after the write, not before: a Sync that runs between
		// the two then either sees the mark or ran before the write
		// finished, and the write was not promised to it.
		s.markDirty(h.idx)
		if e := &s.entries[h.idx]; end > e.size {
			e.size = end
		}
	}
	var victims []*os.File
	if !s.closed.Load() && h.refs == 0 && s.nopen > s.maxOpen {
		victims = s.evict()
	}
	s.mu.Unlock()
	closeFiles(victims)
}

// evict unlinks idle handles, least recently used first, until at most
// maxOpen are open or only busy ones are left, and returns their files
// for the caller to close once it has let go of s.mu.
func (s *Files) evict() []*os.File {
	var victims []*os.File
	for h := s.lru.head.prev; s.nopen > s.maxOpen && h != &s.lru.head; {
		prev := h.prev
		if h.refs == 0 {
			s.lru.remove(h)
			s.entries[h.idx].h = nil
			s.nopen--
			victims = h.appendFiles(victims)
		}
		h = prev
	}
	return victims
}

// appendFiles appends the open files of h to fs.
func (h *handle) appendFiles(fs []*os.File) []*os.File {
	fs = append(fs, h.f)
	if h.direct != nil {
		fs = append(fs, h.direct)
	}
	return fs
}

// closeFiles closes evicted files. Their errors are dropped: close(2)
// reports only write-back errors on some network file systems, and the
// data is flushed, with errors reported, by Sync.
func closeFiles(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

// openFile opens the file of entry e for reading and writing, or for
// reading only when permissions allow no more (seeding from files the
// user may not modify). A missing file is nil, nil unless create is set,
// in which case it is created.
func (s *Files) openFile(e *fileEntry, create bool) (f *os.File, readOnly, created bool, err error) {
	// Two rounds at most: the second is for a file another goroutine
	// created between our open and our create. A loop could spin forever
	// on a dangling symbolic link, which is missing to open and present
	// to an exclusive create.
	for attempt := 0; ; attempt++ {
		f, err = s.root.OpenFile(e.rel, os.O_RDWR, 0)
		if errors.Is(err, fs.ErrPermission) {
			f, err = s.root.OpenFile(e.rel, os.O_RDONLY, 0)
			readOnly = err == nil
		}
		switch {
		case err == nil:
			return f, readOnly, false, nil
		case !errors.Is(err, fs.ErrNotExist):
			return nil, false, false, s.pathErr("open", e.rel, err)
		case !create:
			return nil, false, false, nil
		}
		if attempt > 0 {
			return nil, false, false, s.pathErr("open", e.rel, err)
		}
		f, created, err = s.create(e)
		if !errors.Is(err, fs.ErrExist) {
			return f, false, created, err
		}
	}
}
