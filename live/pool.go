package live

import (
	"sync"

	"github.com/swarmlab/swarmlab/engine"
	"github.com/swarmlab/swarmlab/storage"
)

// maxPendingBlocks bounds the received blocks a torrent holds in memory
// before the disk worker has written them: 16 MiB. Without a bound, a disk
// slower than the network let received blocks pile up (a 1 GiB download
// peaked at 250-480 MiB RSS); with it, readers stop reading their sockets
// when the budget is spent, and TCP's flow control slows the senders.
const maxPendingBlocks = 1024

// blockPool recycles the 16 KiB buffers that carry blocks, and holds the
// budget of blocks received but not yet written.
type blockPool struct {
	p      sync.Pool
	tokens chan struct{}
}

func newBlockPool() *blockPool {
	return &blockPool{
		p: sync.Pool{New: func() any {
			// Aligned, so that a run of blocks can be written past the
			// page cache (storage.FileOptions.DirectWrites).
			b := storage.AlignedBuffer(engine.BlockSize)
			return &b
		}},
		tokens: make(chan struct{}, maxPendingBlocks),
	}
}

// get returns a buffer of length n for an upload; blocks larger than the
// standard size (some clients ask for them) get their own allocation.
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

// getDownload waits for room in the budget and returns a buffer for a
// received block; ok is false if stop closed first. Every buffer it
// returns must go back through putDownload exactly once.
func (bp *blockPool) getDownload(n int, stop <-chan struct{}) (b []byte, ok bool) {
	select {
	case bp.tokens <- struct{}{}:
		return bp.get(n), true
	case <-stop:
		return nil, false
	}
}

// putDownload returns a received block's buffer and its place in the
// budget.
func (bp *blockPool) putDownload(b []byte) {
	bp.put(b)
	<-bp.tokens
}
