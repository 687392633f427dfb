package storage

import (
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// directSupported: O_DIRECT is worth trying here.
const directSupported = true

const directFlag = syscall.O_DIRECT

// maxIov is IOV_MAX on Linux: the most buffers one pwritev takes.
const maxIov = 1024

// writeFull writes the concatenation of iov at off with as few pwritev
// calls as it takes, and returns how many bytes were written.
func writeFull(f *os.File, iov [][]byte, off int64) (int, error) {
	if len(iov) == 1 {
		return f.WriteAt(iov[0], off)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	done := 0
	for len(iov) > 0 {
		batch := iov[:min(len(iov), maxIov)]
		var n int
		var werr error
		// Control rather than Write: Write takes the file's write lock,
		// which would queue the disk workers' writes to one file behind
		// each other, and pwritev needs no lock, only a descriptor that
		// stays open.
		if err := rc.Control(func(fd uintptr) {
			for {
				n, werr = unix.Pwritev(int(fd), batch, off)
				if werr != unix.EINTR {
					return
				}
			}
		}); err != nil {
			return done, err
		}
		if werr != nil {
			return done, werr
		}
		if n == 0 {
			return done, io.ErrShortWrite
		}
		done += n
		off += int64(n)
		iov = advance(iov, n)
	}
	return done, nil
}

// advance drops the first n bytes of iov. It copies the slice before
// changing an element, since iov is the caller's.
func advance(iov [][]byte, n int) [][]byte {
	for len(iov) > 0 && n >= len(iov[0]) {
		n -= len(iov[0])
		iov = iov[1:]
	}
	if n > 0 {
		iov = append([][]byte{iov[0][n:]}, iov[1:]...)
	}
	return iov
}
