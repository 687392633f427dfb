//go:build !unix

package world

// fdLimit is the process's limit on open files (0: unknown).
func fdLimit() uint64 { return 0 }
