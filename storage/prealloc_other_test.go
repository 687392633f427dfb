//go:build !linux

package storage_test

import "testing"

// preallocSupported: Preallocate is a no-op off Linux.
func preallocSupported(*testing.T, string) bool { return false }
