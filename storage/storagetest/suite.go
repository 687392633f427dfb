package storagetest

import (
	"bytes"
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/storage"
)

// OpenFunc opens a fresh, empty storage for info. Run closes every storage
// it opens, so OpenFunc need not.
type OpenFunc func(t *testing.T, info *metainfo.Info) storage.Storage

// pieceLength is small so that a few kilobytes of content cross many
// piece and file boundaries.
const pieceLength = 256

// Layouts returns the torrents Run checks, by name: single files with a
// short last piece, and multi-file layouts with zero-length files at the
// start, middle and end, pad files aligning files to pieces, a trailing
// pad file, and pieces made only of padding.
func Layouts() map[string]*Torrent {
	many := []metainfo.File{{Path: []string{"first-empty"}}}
	sizes := []int64{0, 1, 37, 255, 256, 257, 0, 5, 1000, 3, 64}
	var off int64
	for i := range 25 {
		n := sizes[i%len(sizes)]
		many = append(many, metainfo.File{Path: []string{fmt.Sprintf("d%d", i%3), fmt.Sprintf("f%02d", i)}, Length: n})
		off += n
		if i%5 == 4 && off%pieceLength != 0 {
			pad := pieceLength - off%pieceLength
			many = append(many, PadFile(pad))
			off += pad
		}
	}
	many = append(many, PadFile(100))

	return map[string]*Torrent{
		"single":       SingleFile("one.bin", 10*pieceLength+37, pieceLength, 1),
		"single-short": SingleFile("short.bin", 100, pieceLength, 2),
		"multi": MultiFile("multi", pieceLength, 3,
			metainfo.File{Path: []string{"a.txt"}, Length: 300},
			metainfo.File{Path: []string{"empty"}},
			metainfo.File{Path: []string{"sub", "b.bin"}, Length: 700},
			PadFile(24), // b ends at 1000; c starts at 1024
			metainfo.File{Path: []string{"c.bin"}, Length: 2 * pieceLength, Attr: "x"},
			metainfo.File{Path: []string{"d"}, Length: 1},
			metainfo.File{Path: []string{"sub", "z-empty"}},
		),
		"many-small": MultiFile("many", pieceLength, 4, many...),
		"pad-pieces": MultiFile("padded", pieceLength, 5,
			metainfo.File{Path: []string{"a"}, Length: 10},
			PadFile(3*pieceLength-10), // pieces 1 and 2 are all padding
			metainfo.File{Path: []string{"b"}, Length: 300},
		),
	}
}

// Run checks that the storages open returns behave as storage.Storage
// promises, for every layout in Layouts.
func Run(t *testing.T, open OpenFunc) {
	layouts := Layouts()
	for _, name := range slices.Sorted(maps.Keys(layouts)) {
		tor := layouts[name]
		t.Run(name, func(t *testing.T) {
			t.Run("UnwrittenReadsZeros", func(t *testing.T) { testUnwritten(t, open, tor) })
			t.Run("BlockSizes", func(t *testing.T) { testBlockSizes(t, open, tor) })
			t.Run("AcrossBoundaries", func(t *testing.T) { testBoundaries(t, open, tor) })
			t.Run("PadDropped", func(t *testing.T) { testPad(t, open, tor) })
			t.Run("OutOfRange", func(t *testing.T) { testOutOfRange(t, open, tor) })
			t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, open, tor) })
			t.Run("Verify", func(t *testing.T) { testVerify(t, open, tor) })
			t.Run("Sparse", func(t *testing.T) { testSparse(t, open, tor) })
			t.Run("Close", func(t *testing.T) { testClose(t, open, tor) })
		})
	}
}

func openStorage(t *testing.T, open OpenFunc, tor *Torrent) storage.Storage {
	t.Helper()
	s := open(t, tor.Info)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func write(t *testing.T, s storage.Storage, p []byte, off int64) {
	t.Helper()
	n, err := s.WriteAt(p, off)
	if err != nil || n != len(p) {
		t.Fatalf("WriteAt(%d bytes, %d) = %d, %v; want %d, nil", len(p), off, n, err, len(p))
	}
}

// read reads n bytes at off, which must lie within the content; io.EOF is
// accepted only with a full read ending at the end of the content.
func read(t *testing.T, s storage.Storage, total, off int64, n int) []byte {
	t.Helper()
	p := make([]byte, n)
	for i := range p {
		p[i] = 0xa5 // so that a read leaving bytes untouched shows
	}
	k, err := s.ReadAt(p, off)
	if k != n || err != nil && !(err == io.EOF && off+int64(n) == total) {
		t.Fatalf("ReadAt(%d bytes, %d) = %d, %v; want %d, nil", n, off, k, err, n)
	}
	return p
}

// expectEqual compares got with want, content at offset off, naming the
// first differing byte.
func expectEqual(t *testing.T, what string, got, want []byte, off int64) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: byte %d differs: got %#02x, want %#02x", what, off+int64(i), got[i], want[i])
		}
	}
}

// boundaries returns the offsets inside the content where a file or a
// piece ends and another begins.
func boundaries(tor *Torrent) []int64 {
	total := int64(len(tor.Content))
	seen := map[int64]bool{}
	var out []int64
	add := func(b int64) {
		if b > 0 && b < total && !seen[b] {
			seen[b] = true
			out = append(out, b)
		}
	}
	for _, f := range tor.Info.FileList() {
		add(f.Offset)
	}
	for b := tor.Info.PieceLength; b < total; b += tor.Info.PieceLength {
		add(b)
	}
	return out
}

func testUnwritten(t *testing.T, open OpenFunc, tor *Torrent) {
	s := openStorage(t, open, tor)
	total := int64(len(tor.Content))
	expectEqual(t, "fresh storage", read(t, s, total, 0, int(total)), make([]byte, total), 0)
	// Partly written: everything else still reads as zeros.
	mid := total / 2
	want := make([]byte, total)
	copy(want[mid:mid+1], tor.Content[mid:])
	write(t, s, tor.Content[mid:mid+1], mid)
	expectEqual(t, "one byte written", read(t, s, total, 0, int(total)), want, 0)
}

func testBlockSizes(t *testing.T, open OpenFunc, tor *Torrent) {
	total := int64(len(tor.Content))
	sizes := []int64{1, 7, 100, pieceLength, 1000}
	if !slices.Contains(sizes, total) {
		sizes = append(sizes, total)
	}
	for _, bs := range sizes {
		t.Run(fmt.Sprint(bs), func(t *testing.T) {
			s := openStorage(t, open, tor)
			for off := int64(0); off < total; off += bs {
				write(t, s, tor.Content[off:min(off+bs, total)], off)
			}
			rs := bs*3 + 1 // read blocks that do not line up with the writes
			for off := int64(0); off < total; off += rs {
				n := min(rs, total-off)
				expectEqual(t, "read back", read(t, s, total, off, int(n)), tor.Content[off:off+n], off)
			}
		})
	}
}

func testBoundaries(t *testing.T, open OpenFunc, tor *Torrent) {
	total := int64(len(tor.Content))
	s := openStorage(t, open, tor)
	// Write a few bytes either side of every boundary, each in one call.
	want := make([]byte, total)
	for _, b := range boundaries(tor) {
		lo, hi := max(b-2, 0), min(b+3, total)
		write(t, s, tor.Content[lo:hi], lo)
		copy(want[lo:hi], tor.Content[lo:hi])
	}
	expectEqual(t, "writes across boundaries", read(t, s, total, 0, int(total)), want, 0)

	// Then read windows across every boundary from fully written content.
	write(t, s, tor.Content, 0)
	for _, b := range boundaries(tor) {
		for _, k := range []int64{1, 7} {
			lo, hi := max(b-k, 0), min(b+k, total)
			expectEqual(t, fmt.Sprintf("read across %d", b), read(t, s, total, lo, int(hi-lo)), tor.Content[lo:hi], lo)
		}
	}
}

func testPad(t *testing.T, open OpenFunc, tor *Torrent) {
	total := int64(len(tor.Content))
	s := openStorage(t, open, tor)
	// Fill everything with 0xff: the bytes in pad files must be dropped
	// and read back as zeros, the others kept.
	ones := bytes.Repeat([]byte{0xff}, int(total))
	write(t, s, ones, 0)
	got := read(t, s, total, 0, int(total))
	for off := range total {
		want := byte(0xff)
		if tor.InPad(off) {
			want = 0
		}
		if got[off] != want {
			t.Fatalf("byte %d (pad %v) = %#02x, want %#02x", off, tor.InPad(off), got[off], want)
		}
	}
	// The real content verifies, pad pieces included.
	write(t, s, tor.Content, 0)
	have, err := storage.Verify(context.Background(), s, tor.Info, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, ok := range have {
		if !ok {
			t.Errorf("piece %d does not verify after writing all content", i)
		}
	}
}

func testOutOfRange(t *testing.T, open OpenFunc, tor *Torrent) {
	total := int64(len(tor.Content))
	s := openStorage(t, open, tor)
	ten := bytes.Repeat([]byte{0xee}, 10)
	for _, off := range []int64{-1, -10, total - 5, total, total + 1, math.MaxInt64 - 3, math.MinInt64} {
		n, err := s.WriteAt(ten, off)
		if err == nil || n != 0 {
			t.Errorf("WriteAt(10 bytes, %d) = %d, %v; want 0 and an error", off, n, err)
		} else if !errors.Is(err, storage.ErrOutOfRange) {
			t.Errorf("WriteAt(10 bytes, %d): error %q does not wrap ErrOutOfRange", off, err)
		}
	}
	// Nothing was written, not even the part of a write that fitted.
	expectEqual(t, "after rejected writes", read(t, s, total, 0, int(total)), make([]byte, total), 0)

	for _, off := range []int64{-1, math.MinInt64} {
		if n, err := s.ReadAt(ten, off); err == nil || n != 0 {
			t.Errorf("ReadAt(10 bytes, %d) = %d, %v; want 0 and an error", off, n, err)
		}
	}
	for _, off := range []int64{total, total + 1, math.MaxInt64 - 3} {
		if n, err := s.ReadAt(ten, off); err != io.EOF || n != 0 {
			t.Errorf("ReadAt(10 bytes, %d) = %d, %v; want 0, io.EOF", off, n, err)
		}
	}
	// A read running past the end is short, with io.EOF, and correct.
	write(t, s, tor.Content, 0)
	k := min(4, total)
	p := make([]byte, 10)
	n, err := s.ReadAt(p, total-k)
	if int64(n) != k || err != io.EOF {
		t.Fatalf("ReadAt(10 bytes, total-%d) = %d, %v; want %d, io.EOF", k, n, err, k)
	}
	expectEqual(t, "short read at the end", p[:n], tor.Content[total-k:], total-k)
	// Empty reads and writes within range are no-ops.
	if n, err := s.WriteAt(nil, 0); n != 0 || err != nil {
		t.Errorf("WriteAt(nil, 0) = %d, %v; want 0, nil", n, err)
	}
	if n, err := s.ReadAt(nil, 0); n != 0 || err != nil {
		t.Errorf("ReadAt(nil, 0) = %d, %v; want 0, nil", n, err)
	}
}

func testConcurrent(t *testing.T, open OpenFunc, tor *Torrent) {
	total := int64(len(tor.Content))
	s := openStorage(t, open, tor)
	n := tor.Info.NumPieces()
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		// A writer per piece, in blocks of 100 bytes, so that writers of
		// neighbouring pieces share files and even blocks of files.
		wg.Go(func() {
			off := int64(i) * tor.Info.PieceLength
			piece := tor.Piece(i)
			for k := 0; k < len(piece); k += 100 {
				b := piece[k:min(k+100, len(piece))]
				if m, err := s.WriteAt(b, off+int64(k)); err != nil || m != len(b) {
					errs <- fmt.Errorf("piece %d: WriteAt = %d, %v", i, m, err)
					return
				}
			}
		})
		// And a reader per piece, whose results are unspecified while the
		// writers run, but whose calls must not fail or race.
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(i), 0))
			p := make([]byte, 64)
			for range 20 {
				off := r.Int64N(total)
				if m, err := s.ReadAt(p, off); err != nil && !(err == io.EOF && off+int64(len(p)) > total) {
					errs <- fmt.Errorf("ReadAt(%d bytes, %d) = %d, %v", len(p), off, m, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	expectEqual(t, "after concurrent writes", read(t, s, total, 0, int(total)), tor.Content, 0)
}

func testVerify(t *testing.T, open OpenFunc, tor *Torrent) {
	s := openStorage(t, open, tor)
	n := tor.Info.NumPieces()
	want := make([]bool, n)
	for i := range n {
		off := int64(i) * tor.Info.PieceLength
		switch {
		case tor.PadOnly(i):
			want[i] = true // zeros, and correct without any write
		case i%3 == 0: // correct
			write(t, s, tor.Piece(i), off)
			want[i] = true
		case i%3 == 1: // corrupt: one byte that is stored is wrong
			bad := bytes.Clone(tor.Piece(i))
			k := int64(0)
			for tor.InPad(off + k) {
				k++
			}
			bad[k] ^= 0x01
			write(t, s, bad, off)
		}
		// i%3 == 2: missing
	}
	if err := s.Sync(); err != nil {
		t.Fatalf("Sync: %v", err)
	}

	buf := make([]byte, tor.Info.PieceLength)
	for i := range n {
		// A nil buffer must work too, just more slowly.
		b := buf
		if i%2 == 1 {
			b = nil
		}
		ok, err := storage.VerifyPiece(s, tor.Info, i, b)
		if err != nil || ok != want[i] {
			t.Errorf("VerifyPiece(%d) = %v, %v; want %v, nil", i, ok, err, want[i])
		}
	}
	for _, piece := range []int{-1, n, math.MaxInt} {
		if _, err := storage.VerifyPiece(s, tor.Info, piece, buf); err == nil {
			t.Errorf("VerifyPiece(%d) of %d pieces: no error", piece, n)
		}
	}

	for _, workers := range []int{0, 1, 3, n + 5} {
		var calls []int
		have, err := storage.Verify(context.Background(), s, tor.Info, workers, func(done, total int) {
			if total != n {
				t.Errorf("progress total = %d, want %d", total, n)
			}
			calls = append(calls, done)
		})
		if err != nil {
			t.Fatalf("Verify(workers %d): %v", workers, err)
		}
		for i := range n {
			if have[i] != want[i] {
				t.Errorf("Verify(workers %d): piece %d = %v, want %v", workers, i, have[i], want[i])
			}
		}
		for k, done := range calls {
			if done != k+1 {
				t.Fatalf("Verify(workers %d): progress calls %v, want 1 to %d", workers, calls, n)
			}
		}
		if len(calls) != n {
			t.Errorf("Verify(workers %d): %d progress calls, want %d", workers, len(calls), n)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := storage.Verify(ctx, s, tor.Info, 0, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify with a cancelled context: %v, want context.Canceled", err)
	}
}

func testSparse(t *testing.T, open OpenFunc, tor *Torrent) {
	s := openStorage(t, open, tor)
	sp, ok := s.(storage.Sparse)
	if !ok {
		t.Skip("storage does not implement storage.Sparse")
	}
	total := int64(len(tor.Content))
	n := tor.Info.NumPieces()
	for i := range n {
		off := int64(i) * tor.Info.PieceLength
		// Unwritten is false for padding alone, whose zeros are the
		// right content: otherwise pad pieces could never complete.
		if got, want := sp.Unwritten(off, tor.Info.PieceSize(i)), !tor.PadOnly(i); got != want {
			t.Errorf("fresh storage: Unwritten(piece %d) = %v, want %v", i, got, want)
		}
	}
	for _, r := range [][2]int64{{-1, 10}, {0, 0}, {0, -1}, {total - 1, 2}, {total, 1}, {math.MaxInt64, math.MaxInt64}} {
		if sp.Unwritten(r[0], r[1]) {
			t.Errorf("Unwritten(%d, %d) = true for a range not within the content", r[0], r[1])
		}
	}
	// Writing the middle piece's stored bytes makes that piece written;
	// a write of only its padding would not.
	i := n / 2
	if tor.PadOnly(i) {
		i = 0
	}
	off := int64(i) * tor.Info.PieceLength
	write(t, s, tor.Piece(i), off)
	if sp.Unwritten(off, tor.Info.PieceSize(i)) {
		t.Errorf("Unwritten(piece %d) = true after writing it", i)
	}
	if sp.Unwritten(0, total) {
		t.Errorf("Unwritten(all content) = true after writing piece %d", i)
	}

	// Content that is all zeros reads right before anything is written,
	// but does not count until written. (After that, which neighbouring
	// pieces count too depends on the backend's granularity: a file
	// backend cannot tell a hole from written zeros.)
	zeros := &metainfo.Info{Name: "zeros", Length: 3 * pieceLength, PieceLength: pieceLength}
	sum := sha1.Sum(make([]byte, pieceLength))
	for range 3 {
		zeros.Pieces = append(zeros.Pieces, sum[:]...)
	}
	zs := openStorage(t, open, &Torrent{Info: zeros})
	have, err := storage.Verify(context.Background(), zs, zeros, 0, nil)
	if err != nil || slices.Contains(have, true) {
		t.Errorf("Verify of unwritten zero content = %v, %v; want all false", have, err)
	}
	write(t, zs, make([]byte, pieceLength), pieceLength)
	if ok, err := storage.VerifyPiece(zs, zeros, 1, nil); !ok || err != nil {
		t.Errorf("VerifyPiece of written zeros = %v, %v; want true", ok, err)
	}
}

func testClose(t *testing.T, open OpenFunc, tor *Torrent) {
	s := open(t, tor.Info)
	write(t, s, tor.Content, 0)
	if err := s.Sync(); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}
	p := make([]byte, 1)
	if _, err := s.ReadAt(p, 0); err == nil {
		t.Error("ReadAt after Close: no error")
	}
	if _, err := s.WriteAt(p, 0); err == nil {
		t.Error("WriteAt after Close: no error")
	}
	if err := s.Sync(); err == nil {
		t.Error("Sync after Close: no error")
	}
}
