//go:build !linux

package storage

import "os"

// directSupported: direct writes are implemented on Linux only.
const directSupported = false

const directFlag = 0

// writeFull writes the concatenation of iov at off, a buffer at a time,
// and returns how many bytes were written.
func writeFull(f *os.File, iov [][]byte, off int64) (int, error) {
	done := 0
	for _, b := range iov {
		n, err := f.WriteAt(b, off)
		done += n
		off += int64(n)
		if err != nil {
			return done, err
		}
	}
	return done, nil
}
