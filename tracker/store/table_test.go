package store

import (
	"math/rand/v2"
	"testing"

	"github.com/swarmlab/swarmlab/metainfo"
)

// TestSwarmTableRandomOps puts, removes and sweeps random info hashes,
// from a few to a few thousand at a time so that the table grows and
// shrinks, and checks it against a map after every step.
func TestSwarmTableRandomOps(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 5))
	var st swarmTable
	model := map[metainfo.Hash]*swarm{}
	// Hashes from a small space, so that puts and removes meet; the
	// space grows and shrinks in phases.
	hashOf := func(i int) metainfo.Hash { return metainfo.Hash{byte(i), byte(i >> 8), 7} }
	for step := 0; step < 60000; step++ {
		space := []int{8, 3000, 40}[step/10000%3]
		h := hashOf(rng.IntN(space))
		switch op := rng.IntN(100); {
		case op < 55:
			if model[h] == nil {
				sw := &swarm{}
				st.put(&h, sw)
				model[h] = sw
			}
		case op < 99:
			st.remove(&h)
			delete(model, h)
		default:
			// Sweep away about half, visiting every swarm at least once.
			// A swarm visited twice is decided twice; the last decision
			// holds.
			dropped := map[*swarm]bool{}
			st.each(func(sw *swarm) bool {
				drop := rng.IntN(2) == 0
				dropped[sw] = drop
				return drop
			})
			for k, sw := range model {
				drop, seen := dropped[sw]
				if !seen {
					t.Fatalf("step %d: sweep missed %x", step, k[:3])
				}
				if drop {
					delete(model, k)
				}
			}
		}
		if got := st.get(&h); got != model[h] {
			t.Fatalf("step %d: get %x = %p, want %p", step, h[:3], got, model[h])
		}
		if step%97 == 0 || step%10000 < 3 {
			st.check(t)
			if st.len() != len(model) {
				t.Fatalf("step %d: %d swarms, want %d", step, st.len(), len(model))
			}
			for k, sw := range model {
				if st.get(&k) != sw {
					t.Fatalf("step %d: %x lost", step, k[:3])
				}
			}
		}
	}
}
