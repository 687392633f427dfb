package storage_test

import (
	"testing"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/storage"
	"github.com/swarmlab/swarmlab/storage/storagetest"
)

func TestMemoryConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, info *metainfo.Info) storage.Storage {
		m, err := storage.NewMemory(info)
		if err != nil {
			t.Fatal(err)
		}
		return m
	})
}

func TestFilesConformance(t *testing.T) {
	// With the default cap every file stays open; with a cap of one,
	// nearly every operation evicts the handle another one is using.
	// Preallocated files must behave like sparse ones, reading zeros
	// where nothing was written.
	for _, tc := range []struct {
		name string
		opts storage.FileOptions
	}{
		{"default", storage.FileOptions{}},
		{"one-handle", storage.FileOptions{MaxOpenFiles: 1}},
		{"preallocated", storage.FileOptions{Preallocate: true, DirectWrites: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storagetest.Run(t, func(t *testing.T, info *metainfo.Info) storage.Storage {
				s, err := storage.OpenFiles(t.TempDir(), info, tc.opts)
				if err != nil {
					t.Fatal(err)
				}
				return s
			})
		})
	}
}
