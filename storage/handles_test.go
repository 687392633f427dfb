package storage

import (
	"bytes"
	"testing"

	"github.com/swarmlab/swarmlab/metainfo"
)

// A handle in use is never closed by eviction, however far over the cap
// other files push the count; once released, the cap is restored.
func TestEvictionSparesBusyHandles(t *testing.T) {
	info := &metainfo.Info{
		Name:        "t",
		PieceLength: 10,
		Pieces:      make([]byte, 3*metainfo.HashSize),
		Files: []metainfo.File{
			{Path: []string{"a"}, Length: 10},
			{Path: []string{"b"}, Length: 10},
			{Path: []string{"c"}, Length: 10},
		},
	}
	s, err := OpenFiles(t.TempDir(), info, FileOptions{MaxOpenFiles: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	busy, err := s.acquire(0, true)
	if err != nil {
		t.Fatal(err)
	}
	for idx := 1; idx < 3; idx++ {
		h, err := s.acquire(idx, true)
		if err != nil {
			t.Fatal(err)
		}
		s.release(h, false, 0)
	}
	if _, err := busy.f.WriteAt([]byte("busy"), 0); err != nil {
		t.Fatalf("busy handle was closed by eviction: %v", err)
	}
	s.release(busy, true, 4)
	if n := OpenHandles(s); n != 1 {
		t.Errorf("%d handles open after releasing all, cap 1", n)
	}
	got := make([]byte, 4)
	if _, err := s.ReadAt(got, 0); err != nil || !bytes.Equal(got, []byte("busy")) {
		t.Errorf("ReadAt = %q, %v; want \"busy\"", got, err)
	}
}
