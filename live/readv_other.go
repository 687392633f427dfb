//go:build !linux

package live

import "io"

// newVectorReader: elsewhere blocks are read without the next header.
func newVectorReader(io.Reader) vectorReader { return nil }
