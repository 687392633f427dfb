package sim

import (
	"testing"

	"github.com/swarmlab/swarmlab/engine"
)

// TestTrainRingKeepsOrderAcrossGrowth: items keep their positions, and so
// their order, when the ring wraps and when it grows while wrapped.
func TestTrainRingKeepsOrderAcrossGrowth(t *testing.T) {
	var r trainRing
	next, want := engine.ConnID(1), engine.ConnID(1)
	take := func(n int) {
		for range n {
			if got := r.at(r.head).id; got != want {
				t.Fatalf("at head %d: item %d, want %d", r.head, got, want)
			}
			r.head++
			want++
		}
	}
	// Fill to the first size, drain most of it, then fill past the end so
	// that the live items wrap, and again past the size, which grows the
	// ring with its items wrapped.
	for range 1024 {
		r.push(trainItem{id: next})
		next++
	}
	take(1000)
	for range 1500 {
		r.push(trainItem{id: next})
		next++
	}
	if len(r.items) != 2048 {
		t.Fatalf("ring of %d, want 2048 after holding 1524", len(r.items))
	}
	take(int(r.tail - r.head))
	if want != next {
		t.Fatalf("took up to %d, pushed up to %d", want, next)
	}
}

// TestTrainRingShrinks: a ring that grew for a burst gives the memory
// back once the burst has been delivered, and keeps its items in order
// through the shrinking.
func TestTrainRingShrinks(t *testing.T) {
	var r trainRing
	next, want := engine.ConnID(1), engine.ConnID(1)
	for range 100_000 {
		r.push(trainItem{id: next})
		next++
	}
	grown := len(r.items)
	// Deliver all but 300, shrinking after each train of 50 as
	// deliverTrain does, and push a few more meanwhile.
	for r.tail-r.head > 300 {
		for range 50 {
			if got := r.at(r.head).id; got != want {
				t.Fatalf("at head %d: item %d, want %d", r.head, got, want)
			}
			*r.at(r.head) = trainItem{}
			r.head++
			want++
		}
		r.push(trainItem{id: next})
		next++
		r.shrink()
	}
	if len(r.items) != minTrainRing {
		t.Fatalf("ring of %d after growing to %d and draining to %d items, want %d", len(r.items), grown, r.tail-r.head, minTrainRing)
	}
	for r.head < r.tail {
		if got := r.at(r.head).id; got != want {
			t.Fatalf("at head %d: item %d, want %d", r.head, got, want)
		}
		r.head++
		want++
	}
	if want != next {
		t.Fatalf("took up to %d, pushed up to %d", want, next)
	}
}
