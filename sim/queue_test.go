package sim

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestQueueOrdersByTimeThenSequence(t *testing.T) {
	var q queue
	rng := rand.New(rand.NewPCG(1, 1))
	type key struct {
		at  time.Duration
		seq uint64
	}
	for range 1000 {
		q.push(event{at: time.Duration(rng.IntN(50))})
	}
	prev := key{-1, 0}
	for q.len() > 0 {
		e := q.pop()
		k := key{e.at, e.seq}
		if k.at < prev.at || k.at == prev.at && k.seq <= prev.seq {
			t.Fatalf("popped %v after %v", k, prev)
		}
		prev = k
	}
}
