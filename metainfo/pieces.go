package metainfo

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// EachPiece calls fn for every piece of i on workers goroutines (0 means
// runtime.GOMAXPROCS(0)). Each goroutine claims the next piece no one has
// taken, so all of them stay busy however uneven the pieces' costs, and
// owns one buffer: fn gets the piece's index and buf, a slice of that
// buffer as long as the piece, to read it into. Calls for different
// pieces run at the same time.
//
// EachPiece stops at the first error fn returns, or when ctx is cancelled
// (looked at before every piece, which bounds the work done after a
// cancellation), and returns that error. It trusts the invariants
// CheckLengths checks.
func (i *Info) EachPiece(ctx context.Context, workers int, fn func(piece int, buf []byte) error) error {
	return i.EachBatch(ctx, workers, 1, func(first int, bufs [][]byte) error { return fn(first, bufs[0]) })
}

// EachBatch is EachPiece for runs of up to batch consecutive pieces (at
// least 1): fn gets the first piece's index and one buffer per piece,
// each as long as its piece, so that it can hash them together
// (internal/mbsha1). Each goroutine owns batch buffers. ctx is looked at
// before every run; fn may look at it between the run's pieces. It is the
// loop behind Create's hashing and storage.Verify.
func (i *Info) EachBatch(ctx context.Context, workers, batch int, fn func(first int, bufs [][]byte) error) error {
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
