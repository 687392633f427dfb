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
	for _, tc := range []struct {
		name    string
		maxOpen int
	}{{"default", 0}, {"one-handle", 1}} {
		t.Run(tc.name, func(t *testing.T) {
			storagetest.Run(t, func(t *testing.T, info *metainfo.Info) storage.Storage {
				s, err := storage.OpenFiles(t.TempDir(), info, storage.FileOptions{MaxOpenFiles: tc.maxOpen})
				if err != nil {
					t.Fatal(err)
				}
				return s
			})
		})
	}
}
