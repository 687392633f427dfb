package engine

import (
	"math/rand/v2"
	"testing"
)

// checkTable compares the table with the model and checks its invariants:
// every entry is reachable from its home without crossing an empty slot,
// and the load is at most a half.
func checkTable(t *testing.T, pt *partialTable, model map[uint32]*partial) {
	t.Helper()
	if pt.n != len(model) {
		t.Fatalf("len %d, want %d", pt.n, len(model))
	}
	for piece, pp := range model {
		if got := pt.get(piece); got != pp {
			t.Fatalf("get(%d) = %p, want %p", piece, got, pp)
		}
	}
	if len(model) == 0 && pt.slots != nil {
		t.Fatalf("empty table keeps %d slots", len(pt.slots))
	}
	if 2*pt.n > len(pt.slots) {
		t.Fatalf("%d entries in %d slots", pt.n, len(pt.slots))
	}
	mask := len(pt.slots) - 1
	for i, pp := range pt.slots {
		if pp == nil {
			continue
		}
		for j := pt.home(pp.piece); j != i; j = (j + 1) & mask {
			if pt.slots[j] == nil {
				t.Fatalf("piece %d in slot %d is cut off from its home by an empty slot %d", pp.piece, i, j)
			}
		}
	}
}

func TestPartialTableMatchesMap(t *testing.T) {
	for _, tc := range []struct {
		name   string
		pieces int // keys are drawn from [0, pieces)
		ops    int
	}{
		{"few keys, many collisions", 24, 4000},
		{"a large torrent", 1 << 20, 4000},
		{"a world's small pieces", 1000, 20000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(tc.pieces), 7))
			var pt partialTable
			model := map[uint32]*partial{}
			for op := range tc.ops {
				piece := uint32(rng.IntN(tc.pieces))
				// Grow more than shrink in the first half, then drain.
				grow := rng.IntN(100) < 60
				if op > tc.ops/2 {
					grow = rng.IntN(100) < 35
				}
				if pp := model[piece]; pp == nil && grow {
					pp = &partial{piece: piece}
					pt.put(pp)
					model[piece] = pp
				} else if !grow {
					pt.delete(piece) // absent pieces too
					delete(model, piece)
				}
				if pt.get(piece) != model[piece] {
					t.Fatalf("op %d: get(%d) = %p, want %p", op, piece, pt.get(piece), model[piece])
				}
				if op%97 == 0 {
					checkTable(t, &pt, model)
				}
			}
			for piece := range model {
				pt.delete(piece)
				delete(model, piece)
			}
			checkTable(t, &pt, model)
		})
	}
}

func TestPartialTableWrapsAround(t *testing.T) {
	// Pieces that hash to the last slots, so that their probe runs wrap
	// to the start; deleting from the middle of such a run must keep the
	// rest reachable.
	var pt partialTable
	pt.resize(minPartialSlots)
	last := len(pt.slots) - 1
	var keys []uint32
	for piece := uint32(0); len(keys) < 3; piece++ {
		if pt.home(piece) == last {
			keys = append(keys, piece)
		}
	}
	model := map[uint32]*partial{}
	for _, k := range keys {
		pp := &partial{piece: k}
		pt.put(pp)
		model[k] = pp
	}
	if len(pt.slots) != minPartialSlots {
		t.Fatalf("table grew to %d slots", len(pt.slots))
	}
	for _, k := range keys {
		pt.delete(k)
		delete(model, k)
		checkTable(t, &pt, model)
	}
}
