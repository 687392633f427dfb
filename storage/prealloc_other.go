//go:build !linux

package storage

import "os"

// preallocate is a no-op off Linux: files stay sparse.
func preallocate(*os.File, int64) error { return nil }
