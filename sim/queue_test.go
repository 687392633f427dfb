package sim

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// key is an event's place in the queue's order.
type key struct {
	at  time.Duration
	seq uint64
}

func keyOf(e event) key { return key{e.at, e.seq} }

// before is the order the queue must keep, written out apart from its own.
func (k key) before(o key) bool { return k.at < o.at || k.at == o.at && k.seq < o.seq }

func TestQueueOrdersByTimeThenSequence(t *testing.T) {
	var q queue
	rng := rand.New(rand.NewPCG(1, 1))
	for range 1000 {
		q.push(event{at: time.Duration(rng.IntN(50))})
	}
	prev := key{-1, 0}
	for q.len() > 0 {
		k := keyOf(q.pop())
		if !prev.before(k) {
			t.Fatalf("popped %v after %v", k, prev)
		}
		prev = k
	}
}

// The simulator pushes while it pops; every pop must return the earliest
// of what is queued at that moment, ties in push order. Events of the
// kinds with lanes come mostly at their lane's fixed delay, as in the
// simulator, and sometimes at another, which must go to the heap without
// upsetting the order.
func TestQueueInterleavedMatchesSortedOrder(t *testing.T) {
	kinds := []evKind{evUpDone, evTrain, evArrive, evTick, evAnnounce}
	fixed := map[evKind]time.Duration{evTrain: 2 * time.Millisecond, evArrive: 2 * time.Millisecond,
		evTick: 3 * time.Millisecond, evAnnounce: 5 * time.Millisecond}
	var q queue
	rng := rand.New(rand.NewPCG(3, 4))
	var pending []key // what the queue should hold, unordered
	var seq uint64
	now := time.Duration(0)
	lanePushes := 0
	for step := range 20000 {
		if rng.IntN(3) > 0 || len(pending) == 0 {
			// Never earlier than the last pop, as in the simulator;
			// often the same time, to exercise the ties.
			kind := kinds[rng.IntN(len(kinds))]
			at := now + time.Duration(rng.IntN(4))*time.Millisecond
			if d, ok := fixed[kind]; ok && rng.IntN(10) > 0 {
				at = now + d
			}
			heap := len(q.h)
			seq++
			q.push(event{at: at, kind: kind})
			if len(q.h) == heap {
				lanePushes++
			}
			pending = append(pending, key{at, seq})
			continue
		}
		best := 0
		for i, k := range pending {
			if k.before(pending[best]) {
				best = i
			}
		}
		want := pending[best]
		pending = append(pending[:best], pending[best+1:]...)
		e := q.pop()
		if got := keyOf(e); got != want {
			t.Fatalf("step %d: popped %v, want %v", step, got, want)
		}
		now = e.at
		if q.len() != len(pending) {
			t.Fatalf("step %d: queue holds %d, want %d", step, q.len(), len(pending))
		}
	}
	// Both paths must have been taken for the test to mean anything.
	if lanePushes == 0 || lanePushes == int(seq) {
		t.Fatalf("%d of %d pushes went to lanes; want some, not all", lanePushes, seq)
	}
}

// BenchmarkQueueHold is the classic hold model: a queue of n events, each
// step popping the earliest and scheduling one a random while later, as
// the simulator's loop does.
func BenchmarkQueueHold(b *testing.B) {
	for _, n := range []int{1 << 10, 1 << 14, 1 << 18} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			var q queue
			rng := rand.New(rand.NewPCG(1, 2))
			for range n {
				q.push(event{at: time.Duration(rng.IntN(1 << 20))})
			}
			b.ResetTimer()
			for range b.N {
				e := q.pop()
				q.push(event{at: e.at + time.Duration(rng.IntN(1<<20))})
			}
		})
	}
}
