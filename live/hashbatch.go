package live

import (
	"sync"
	"time"

	"github.com/swarmlab/swarmlab/internal/mbsha1"
)

// hashBatchWait is the longest a complete piece waits for others to be
// hashed with. At download rates where pieces come faster than
// mbsha1.Lanes per wait, batches fill before it passes. Where too few
// would come within it to fill even mbsha1.MinBatch lanes (as in a lab
// world of rate-limited peers), a piece is hashed at once instead, so
// that slow downloads announce their pieces no later than before.
const hashBatchWait = 10 * time.Millisecond

// hashBatcher verifies complete pieces mbsha1.Lanes at a time, on
// processors where hashing them side by side is several times faster
// than one by one (internal/mbsha1). A disk worker hands it a piece
// once the piece is written and still in memory; the worker whose piece
// fills a batch hashes the batch, and a timer takes whatever is left
// after the wait.
type hashBatcher struct {
	d    *disk
	wait time.Duration
	now  func() time.Time

	mu sync.Mutex
	// last is when the last piece came, and gap a moving average of the
	// time between pieces.
	last   time.Time
	gap    time.Duration
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

func newHashBatcher(d *disk, wait time.Duration, now func() time.Time) *hashBatcher {
	b := &hashBatcher{d: d, wait: wait, now: now, gap: wait}
	b.timer = time.AfterFunc(time.Hour, b.flush)
	b.timer.Stop()
	return b
}

// add queues a piece and hashes a batch if the piece fills one, or
// hashes the piece alone if pieces come too slowly to be batched.
func (b *hashBatcher) add(p heldPiece) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		b.release(p)
		return
	}
	now := b.now()
	if !b.last.IsZero() {
		b.gap = (3*b.gap + now.Sub(b.last)) / 4
	}
	b.last = now
	b.queue = append(b.queue, p)
	var batch []heldPiece
	// Pieces expected within the wait: wait/gap. Waiting pays only if
	// they would make a batch of mbsha1.MinBatch with this one.
	slow := len(b.queue) == 1 && b.gap*time.Duration(mbsha1.MinBatch-1) > b.wait
	if slow || len(b.queue) >= mbsha1.Lanes {
		batch = b.take()
	} else if !b.armed {
		b.armed = true
		b.timer.Reset(b.wait)
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
