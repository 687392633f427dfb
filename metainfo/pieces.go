package metainfo

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/swarmlab/swarmlab/internal/mbsha1"
)

// hashBatchBytes bounds the buffers of one HashPieces goroutine's run of
// pieces (mbsha1.BatchFor): sixteen pieces of up to 1 MiB.
const hashBatchBytes = 16 << 20

// HashPieces computes the SHA-1 of every piece of i on workers goroutines
// (0 means runtime.GOMAXPROCS(0)), hashing runs of consecutive pieces side
// by side where the processor allows (internal/mbsha1). Each goroutine
// claims the next run no one has taken, so all of them stay busy however
// uneven the runs' costs, and owns one buffer per piece of a run. read gets a piece's
// index and a buffer as long as the piece, and returns the bytes to hash
// (the buffer, filled) or nil to skip the piece; then done gets each piece
// of the run, in order, with its digest, or nil for a skipped piece. Calls
// for different runs happen at the same time.
//
// HashPieces looks at ctx before every piece, and stops at the first
// error read returns or at a cancellation, returning that error. It is
// the loop behind Create's hashing and storage.Verify, and trusts the
// invariants CheckLengths checks.
func (i *Info) HashPieces(ctx context.Context, workers int, read func(piece int, buf []byte) ([]byte, error), done func(piece int, sum *[HashSize]byte)) error {
	batch := mbsha1.BatchFor(i.PieceLength, hashBatchBytes)
	return i.eachBatch(ctx, workers, batch, func(first int, bufs [][]byte) error {
		msgs := make([]mbsha1.Message, 0, len(bufs))
		var skipped []bool
		for k, buf := range bufs {
			// eachBatch looks at ctx before a run; this, before each
			// of its other pieces.
			if k > 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			data, err := read(first+k, buf)
			if err != nil {
				return err
			}
			if data == nil {
				if skipped == nil {
					skipped = make([]bool, len(bufs))
				}
				skipped[k] = true
				continue
			}
			msgs = append(msgs, mbsha1.Message{data})
		}
		sums := make([][HashSize]byte, len(msgs))
		mbsha1.Sum(sums, msgs)
		for k := range bufs {
			if skipped != nil && skipped[k] {
				done(first+k, nil)
				continue
			}
			done(first+k, &sums[0])
			sums = sums[1:]
		}
		return nil
	})
}

// eachBatch calls fn for runs of up to batch consecutive pieces (at least
// 1) on workers goroutines: fn gets the first piece's index and one
// buffer per piece, each as long as its piece. Each goroutine owns batch
// buffers. It stops at the first error fn returns, or when ctx, looked at
// before every run, is cancelled.
func (i *Info) eachBatch(ctx context.Context, workers, batch int, fn func(first int, bufs [][]byte) error) error {
	n := i.NumPieces()
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	batch = max(batch, 1)
	// Runs are claimed whole, so more workers than runs would idle.
	workers = max(1, min(workers, (n+batch-1)/batch))
	// A piece is never longer than the content, which matters for a small
	// torrent with a large piece length.
	bufSize := min(i.PieceLength, i.TotalLength())

	var (
		next     atomic.Int64
		failed   atomic.Bool
		failOnce sync.Once
		firstErr error // set once under failOnce, read after wg.Wait
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		failOnce.Do(func() {
			firstErr = err
			failed.Store(true)
		})
	}
	for range workers {
		wg.Go(func() {
			bufs := make([][]byte, batch)
			for k := range bufs {
				bufs[k] = make([]byte, bufSize)
			}
			run := make([][]byte, 0, batch)
			for !failed.Load() {
				if err := ctx.Err(); err != nil {
					fail(err)
					return
				}
				first := int(next.Add(int64(batch)) - int64(batch))
				if first >= n {
					return
				}
				run = run[:0]
				for p := first; p < min(first+batch, n); p++ {
					run = append(run, bufs[p-first][:i.PieceSize(p)])
				}
				if err := fn(first, run); err != nil {
					fail(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}
