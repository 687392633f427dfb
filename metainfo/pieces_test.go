package metainfo

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"sync"
	"testing"
)

func TestEachBatch(t *testing.T) {
	for _, c := range []struct {
		pieces, batch, workers int
	}{
		{1, 1, 1},
		{10, 1, 2},
		{10, 3, 2},  // a short last run
		{10, 16, 2}, // one run, shorter than the batch
		{33, 16, 4},
		{5, 0, 0}, // batch 0 means 1; workers 0 means GOMAXPROCS
	} {
		t.Run(fmt.Sprintf("%d pieces by %d on %d", c.pieces, c.batch, c.workers), func(t *testing.T) {
			// A last piece of 7 bytes after pieces of 100.
			info := &Info{PieceLength: 100, Length: int64(c.pieces-1)*100 + 7, Pieces: make([]byte, c.pieces*HashSize)}
			var mu sync.Mutex
			seen := make([]int, c.pieces)
			err := info.eachBatch(context.Background(), c.workers, c.batch, func(first int, bufs [][]byte) error {
				if want := max(c.batch, 1); first%want != 0 || len(bufs) > want {
					t.Errorf("run at %d of %d pieces, batch %d", first, len(bufs), want)
				}
				mu.Lock()
				defer mu.Unlock()
				for k, b := range bufs {
					p := first + k
					if int64(len(b)) != info.PieceSize(p) {
						t.Errorf("piece %d: buffer of %d bytes, want %d", p, len(b), info.PieceSize(p))
					}
					seen[p]++
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for p, n := range seen {
				if n != 1 {
					t.Errorf("piece %d seen %d times", p, n)
				}
			}
		})
	}
}

func TestEachBatchStopsAtAnError(t *testing.T) {
	info := &Info{PieceLength: 10, Length: 1000, Pieces: make([]byte, 100*HashSize)}
	bad := errors.New("bad run")
	runs := 0
	err := info.eachBatch(context.Background(), 1, 4, func(first int, bufs [][]byte) error {
		runs++
		if first == 8 {
			return bad
		}
		return nil
	})
	if !errors.Is(err, bad) || runs != 3 {
		t.Errorf("err %v after %d runs; want %v after 3", err, runs, bad)
	}
}

func TestHashPieces(t *testing.T) {
	// 40 pieces of 64 bytes and a short last one: with the multi-lane
	// kernel, runs of 16 with skipped pieces among them.
	content := make([]byte, 40*64+5)
	for i := range content {
		content[i] = byte(i * 13)
	}
	info := &Info{PieceLength: 64, Length: int64(len(content)), Pieces: make([]byte, 41*HashSize)}
	piece := func(p int) []byte { return content[p*64 : min((p+1)*64, len(content))] }
	skip := func(p int) bool { return p%3 == 1 }
	var mu sync.Mutex
	got := map[int]*[HashSize]byte{}
	err := info.HashPieces(context.Background(), 2, func(p int, buf []byte) ([]byte, error) {
		if skip(p) {
			return nil, nil
		}
		copy(buf, piece(p))
		return buf, nil
	}, func(p int, sum *[HashSize]byte) {
		mu.Lock()
		defer mu.Unlock()
		if _, dup := got[p]; dup {
			t.Errorf("piece %d reported twice", p)
		}
		var d *[HashSize]byte
		if sum != nil {
			d = new([HashSize]byte)
			*d = *sum
		}
		got[p] = d
	})
	if err != nil {
		t.Fatal(err)
	}
	for p := range 41 {
		sum, ok := got[p]
		switch {
		case !ok:
			t.Errorf("piece %d not reported", p)
		case skip(p) && sum != nil:
			t.Errorf("skipped piece %d has a digest", p)
		case !skip(p) && (sum == nil || *sum != sha1.Sum(piece(p))):
			t.Errorf("piece %d: digest %x, want %x", p, sum, sha1.Sum(piece(p)))
		}
	}
}
