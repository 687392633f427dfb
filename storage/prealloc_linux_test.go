package storage_test

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// preallocSupported reports whether the file system under dir takes
// fallocate.
func preallocSupported(t *testing.T, dir string) bool {
	f, err := os.CreateTemp(dir, "probe")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return unix.Fallocate(int(f.Fd()), 0, 0, 1<<20) == nil
}
