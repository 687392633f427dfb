package live

import (
	"sync"

	"github.com/swarmlab/swarmlab/engine"
)

// blockPool recycles the 16 KiB buffers that carry blocks from a
// connection's reader through the engine to the disk worker, so a fast
// download does not allocate a buffer per block.
type blockPool struct{ p sync.Pool }

func newBlockPool() *blockPool {
	return &blockPool{p: sync.Pool{New: func() any {
		b := make([]byte, engine.BlockSize)
		return &b
	}}}
}

// get returns a buffer of length n; blocks larger than the standard size
// (some clients send them) get their own allocation.
func (bp *blockPool) get(n int) []byte {
	if n > engine.BlockSize {
		return make([]byte, n)
	}
	b := bp.p.Get().(*[]byte)
	return (*b)[:n]
}

func (bp *blockPool) put(b []byte) {
	if cap(b) != engine.BlockSize {
		return
	}
	b = b[:engine.BlockSize]
	bp.p.Put(&b)
}
