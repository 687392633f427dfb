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
// cancellation), and returns that error. It is the loop behind Create's
// hashing and storage.Verify, and trusts the invariants CheckLengths
// checks.
func (i *Info) EachPiece(ctx context.Context, workers int, fn func(piece int, buf []byte) error) error {
	n := i.NumPieces()
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, n)
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
			buf := make([]byte, bufSize)
			for !failed.Load() {
				if err := ctx.Err(); err != nil {
					fail(err)
					return
				}
				p := int(next.Add(1) - 1)
				if p >= n {
					return
				}
				if err := fn(p, buf[:i.PieceSize(p)]); err != nil {
					fail(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}
