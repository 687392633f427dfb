//go:build linux

package live

import (
	"io"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// socketReader reads a socket with readv(2), through the runtime's
// poller so that read deadlines and Close still apply.
type socketReader struct {
	rc  syscall.RawConn
	iov [2]unix.Iovec
	n   int
	err error
	// read is the poller callback, made once: a closure per call would
	// be an allocation per block.
	read func(fd uintptr) bool
}

// newVectorReader returns a vectored reader for src, or nil if src is
// not a socket the poller serves.
func newVectorReader(src io.Reader) vectorReader {
	sc, ok := src.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	s := &socketReader{rc: rc}
	s.read = func(fd uintptr) bool {
		for {
			n, _, errno := unix.Syscall(unix.SYS_READV, fd, uintptr(unsafe.Pointer(&s.iov[0])), uintptr(len(s.iov)))
			switch errno {
			case 0:
				s.n, s.err = int(n), nil
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return false // wait until the socket is readable
			default:
				s.n, s.err = 0, errno
			}
			return true
		}
	}
	return s
}

func (s *socketReader) readv(a, b []byte) (int, error) {
	s.iov[0].Base, s.iov[1].Base = &a[0], &b[0]
	s.iov[0].SetLen(len(a))
	s.iov[1].SetLen(len(b))
	err := s.rc.Read(s.read)
	// Drop the buffers: the pool owns them between calls.
	s.iov[0].Base, s.iov[1].Base = nil, nil
	if err != nil {
		return 0, err
	}
	if s.err != nil {
		return 0, s.err
	}
	if s.n == 0 {
		return 0, io.EOF
	}
	return s.n, nil
}
