package store_test

import (
	"testing"

	"github.com/swarmlab/swarmlab/tracker/store"
	"github.com/swarmlab/swarmlab/tracker/store/storetest"
)

func TestMemoryConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, opts store.Options) store.Store {
		s := store.NewMemory(opts)
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
