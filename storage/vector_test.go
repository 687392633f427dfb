package storage_test

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/storage"
	"github.com/swarmlab/swarmlab/storage/storagetest"
)

func TestFilesDirectConformance(t *testing.T) {
	// The suite's writes are mostly unaligned, so this checks that
	// turning direct writes on changes nothing they can see.
	storagetest.Run(t, func(t *testing.T, info *metainfo.Info) storage.Storage {
		s, err := storage.OpenFiles(t.TempDir(), info, storage.FileOptions{DirectWrites: true})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestAlignedBuffer(t *testing.T) {
	for _, n := range []int{storage.DirectAlignment, 16 << 10, 256 << 10} {
		b := storage.AlignedBuffer(n)
		if len(b) != n || !storage.Aligned(b) {
			t.Errorf("AlignedBuffer(%d): len %d, aligned %v", n, len(b), storage.Aligned(b))
		}
		if storage.Aligned(b[1:]) || storage.Aligned(b[:n-1]) {
			t.Errorf("Aligned accepts a buffer off the boundary")
		}
	}
}

// blocks splits content[off:off+n] into aligned buffers of size bytes
// (the last may be shorter, and then unaligned).
func blocks(content []byte, off, n int64, size int) [][]byte {
	var out [][]byte
	for p := off; p < off+n; p += int64(size) {
		end := min(p+int64(size), off+n)
		b := storage.AlignedBuffer(int(end - p))
		copy(b, content[p:end])
		out = append(out, b)
	}
	return out
}

func TestFilesWriteAtv(t *testing.T) {
	const block = 16 << 10
	// Files of awkward lengths, so that runs cross file boundaries at
	// unaligned offsets, and a pad file, whose bytes are dropped.
	tor := storagetest.MultiFile("v", 64<<10, 7,
		metainfo.File{Path: []string{"a"}, Length: 100<<10 + 3},
		metainfo.File{Path: []string{"b"}, Length: 60 << 10},
		storagetest.PadFile(8<<10-3),
		metainfo.File{Path: []string{"c"}, Length: 300<<10 + 11},
	)
	for _, direct := range []bool{false, true} {
		t.Run(map[bool]string{false: "buffered", true: "direct"}[direct], func(t *testing.T) {
			dir := t.TempDir()
			s := openFiles(t, dir, tor.Info, storage.FileOptions{DirectWrites: direct})
			total := tor.Info.TotalLength()
			// Runs of four blocks, the odd ones first so that the order
			// is not the content's; the last run is short and unaligned.
			run := int64(4 * block)
			var offs []int64
			for _, first := range []int64{1, 0} {
				for off := first * run; off < total; off += 2 * run {
					offs = append(offs, off)
				}
			}
			for _, off := range offs {
				n := min(run, total-off)
				bufs := blocks(tor.Content, off, n, block)
				if got, err := s.WriteAtv(bufs, off); err != nil || int64(got) != n {
					t.Fatalf("WriteAtv(%d bytes at %d) = %d, %v", n, off, got, err)
				}
			}
			got := make([]byte, total)
			if _, err := s.ReadAt(got, 0); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tor.Content) {
				t.Fatal("content read back differs from what was written")
			}
			if err := s.Sync(); err != nil {
				t.Fatal(err)
			}
			if n := storage.DirectHandles(s); !direct && n != 0 {
				t.Errorf("%d files opened for direct writes without DirectWrites", n)
			} else if direct && runtime.GOOS == "linux" && n == 0 {
				t.Log("no direct writes: the file system refused O_DIRECT")
			} else {
				t.Logf("%d files took direct writes", n)
			}
			s.Close()

			// What a restart finds on disk.
			s2 := openFiles(t, dir, tor.Info, storage.FileOptions{})
			have, err := storage.Verify(t.Context(), s2, tor.Info, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, ok := range have {
				if !ok {
					t.Errorf("piece %d does not verify after reopening", i)
				}
			}
		})
	}
}

func TestFilesWriteAtvOutOfRange(t *testing.T) {
	tor := storagetest.SingleFile("r", 32<<10, 16<<10, 3)
	s := openFiles(t, t.TempDir(), tor.Info, storage.FileOptions{DirectWrites: true})
	bufs := [][]byte{storage.AlignedBuffer(16 << 10), storage.AlignedBuffer(16 << 10)}
	if _, err := s.WriteAtv(bufs, 16<<10); err == nil {
		t.Fatal("a write past the end succeeded")
	}
	if n, err := s.WriteAtv(nil, 0); n != 0 || err != nil {
		t.Fatalf("empty write: %d, %v", n, err)
	}
}
