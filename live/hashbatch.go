package live

import (
	"sync"
	"time"

	"github.com/swarmlab/swarmlab/internal/mbsha1"
)

// hashBatchWait is the longest a complete piece waits for others to be
// hashed with. At download rates where pieces come faster than
// mbsha1.Lanes per wait, batches fill before it passes; slower, the
// piece is verified this much later than it could be, which only delays
// announcing it.
const hashBatchWait = 10 * time.Millisecond

// hashBatcher verifies complete pieces mbsha1.Lanes at a time, on
// processors where hashing them side by side is several times faster
// than one by one (internal/mbsha1). A disk worker hands it a piece
// once the piece is written and still in memory; the worker whose piece
// fills a batch hashes the batch, and a timer takes whatever is left
// after hashBatchWait.
type hashBatcher struct {
	d *disk

	mu     sync.Mutex
	queue  []heldPiece
	timer  *time.Timer
	armed  bool // timer set for the queue's oldest piece
	closed bool
	// hashing counts batches taken and not yet reported, so that close
	// can wait for them: after it, no block is held.
	hashing sync.WaitGroup
}

// heldPiece is a complete piece's blocks, in order of offset.
type heldPiece struct {
	piece  int
	blocks []diskJob
}

func newHashBatcher(d *disk) *hashBatcher {
	b := &hashBatcher{d: d}
	b.timer = time.AfterFunc(time.Hour, b.flush)
	b.timer.Stop()
	return b
}

// add queues a piece and hashes a batch if the piece fills one.
func (b *hashBatcher) add(p heldPiece) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		b.release(p)
		return
	}
	b.queue = append(b.queue, p)
	var batch []heldPiece
	if len(b.queue) >= mbsha1.Lanes {
		batch = b.take()
	} else if !b.armed {
		b.armed = true
		b.timer.Reset(hashBatchWait)
	}
	b.mu.Unlock()
	b.hash(batch)
}

// flush hashes whatever is queued; the timer calls it.
func (b *hashBatcher) flush() {
	b.mu.Lock()
	var batch []heldPiece
	if !b.closed {
		batch = b.take()
	}
	b.mu.Unlock()
	b.hash(batch)
}

// take empties the queue into a batch that the caller must hash; the
// caller holds mu.
func (b *hashBatcher) take() []heldPiece {
	batch := b.queue
	b.queue = nil
	b.armed = false
	b.timer.Stop()
	if len(batch) > 0 {
		b.hashing.Add(1)
	}
	return batch
}

// close waits for the batches being hashed, and gives back the blocks of
// the pieces queued, which are written: a restart verifies them from
// storage. Pieces added after it are given back at once.
func (b *hashBatcher) close() {
	b.mu.Lock()
	b.closed = true
	batch := b.queue
	b.queue = nil
	b.timer.Stop()
	b.mu.Unlock()
	for _, p := range batch {
		b.release(p)
	}
	b.hashing.Wait()
}

func (b *hashBatcher) hash(batch []heldPiece) {
	if len(batch) == 0 {
		return
	}
	defer b.hashing.Done()
	msgs := make([]mbsha1.Message, len(batch))
	for i, p := range batch {
		m := make(mbsha1.Message, len(p.blocks))
		for j, blk := range p.blocks {
			m[j] = blk.data
		}
		msgs[i] = m
	}
	sums := make([][mbsha1.Size]byte, len(batch))
	mbsha1.Sum(sums, msgs)
	for i, p := range batch {
		ok := sums[i] == b.d.t.meta.Info.PieceHash(p.piece)
		var data []byte
		if !ok {
			// The smart ban digests a failed piece's blocks.
			for _, seg := range msgs[i] {
				data = append(data, seg...)
			}
		}
		b.release(p)
		b.d.report(p.piece, ok, data)
	}
}

func (b *hashBatcher) release(p heldPiece) {
	for _, blk := range p.blocks {
		b.d.t.pool.putDownload(blk.data)
	}
}
