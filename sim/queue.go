package sim

import "time"

// evKind is what an event does.
type evKind uint8

const (
	evJoin     evKind = iota + 1 // a peer slot starts (peer = slot)
	evTick                       // a peer's engine tick
	evAnnounce                   // a peer's regular announce
	evUpDone                     // a message left a peer's uplink (fl)
	evArrive                     // a message reached the receiver's downlink (fl)
	evDownDone                   // the receiver's downlink finished a message (fl)
	evUpWake                     // a rate-capped connection may send again
	evLeave                      // a peer leaves (peer)
	evSample                     // record byte counters
	evTrain                      // a train of control messages arrives (first, and peer messages)
)

// event is one scheduled happening. It is a plain struct, not an
// interface, so the heap holds no pointers but the flight's.
type event struct {
	at   time.Duration
	seq  uint64
	kind evKind
	peer int32 // a train's length for evTrain
	fl   *flight
	// first is a train's position in the ring (sim.trains).
	first uint64
}

// queue is a min-heap of events by (at, seq). The sequence number makes
// the order total, so equal-time events run in the order they were
// scheduled: the source of the simulator's determinism.
//
// It is 4-ary, and sifts a hole rather than swapping: a large world keeps
// hundreds of thousands of events pending, and a pop walks half as many
// levels as in a binary heap, each level's four children on two or three
// cache lines, moving each event once. BenchmarkQueueHold (a pop and a
// push) with 1,024 / 16,384 / 262,144 events: 132 / 175 / 292 ns binary
// with swaps, 106 / 126 / 270 ns so. The whole simulator, where the
// queue was 7% of the time at 10,000 leechers, moved less than its
// run-to-run noise.
type queue struct {
	h   []event
	seq uint64
}

// arity is the heap's branching factor.
const arity = 4

func before(a, b *event) bool {
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}

func (q *queue) push(e event) {
	q.seq++
	e.seq = q.seq
	q.h = append(q.h, event{})
	i := len(q.h) - 1
	for i > 0 {
		parent := (i - 1) / arity
		if !before(&e, &q.h[parent]) {
			break
		}
		q.h[i] = q.h[parent]
		i = parent
	}
	q.h[i] = e
}

func (q *queue) pop() event {
	top := q.h[0]
	last := len(q.h) - 1
	e := q.h[last]
	q.h[last] = event{}
	q.h = q.h[:last]
	if last == 0 {
		return top
	}
	// Sift the hole at the root down to where the last event belongs.
	i := 0
	for {
		first := arity*i + 1
		if first >= last {
			break
		}
		m := first
		for c := first + 1; c < min(first+arity, last); c++ {
			if before(&q.h[c], &q.h[m]) {
				m = c
			}
		}
		if !before(&q.h[m], &e) {
			break
		}
		q.h[i] = q.h[m]
		i = m
	}
	q.h[i] = e
	return top
}

func (q *queue) len() int { return len(q.h) }
