package storage_test

import (
	"context"
	"testing"

	"github.com/swarmlab/swarmlab/storage"
	"github.com/swarmlab/swarmlab/storage/storagetest"
)

// BenchmarkVerify measures checking a complete 256 MiB download of 256 KiB
// pieces from disk, on all cores and on one. The file is in the page
// cache after being written, so this is hashing plus pread, not the disk.
func BenchmarkVerify(b *testing.B) {
	const size, pl = 256 << 20, 256 << 10
	tor := storagetest.SingleFile("bench.bin", size, pl, 1)
	s, err := storage.OpenFiles(b.TempDir(), tor.Info, storage.FileOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.WriteAt(tor.Content, 0); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name    string
		workers int
	}{{"all-cores", 0}, {"one-core", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				have, err := storage.Verify(context.Background(), s, tor.Info, bc.workers, nil)
				if err != nil || !have[len(have)-1] {
					b.Fatal("verify failed", err)
				}
			}
		})
	}
}

// BenchmarkWriteAt measures sequential 16 KiB writes, the request block
// size, into a 64 MiB torrent of 256 KiB pieces.
func BenchmarkWriteAt(b *testing.B) {
	const size, pl, block = 64 << 20, 256 << 10, 16 << 10
	tor := storagetest.SingleFile("bench.bin", size, pl, 1)
	open := map[string]func(b *testing.B) storage.Storage{
		"files": func(b *testing.B) storage.Storage {
			s, err := storage.OpenFiles(b.TempDir(), tor.Info, storage.FileOptions{})
			if err != nil {
				b.Fatal(err)
			}
			return s
		},
		"memory": func(b *testing.B) storage.Storage {
			s, err := storage.NewMemory(tor.Info)
			if err != nil {
				b.Fatal(err)
			}
			return s
		},
	}
	for _, name := range []string{"files", "memory"} {
		b.Run(name, func(b *testing.B) {
			s := open[name](b)
			defer s.Close()
			b.SetBytes(block)
			off := int64(0)
			for b.Loop() {
				if _, err := s.WriteAt(tor.Content[off:off+block], off); err != nil {
					b.Fatal(err)
				}
				off = (off + block) % size
			}
		})
	}
}
