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

// queue is a binary min-heap of events by (at, seq). The sequence number
// makes the order total, so equal-time events run in the order they were
// scheduled: the source of the simulator's determinism.
type queue struct {
	h   []event
	seq uint64
}

func (q *queue) push(e event) {
	q.seq++
	e.seq = q.seq
	q.h = append(q.h, e)
	i := len(q.h) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !q.less(i, parent) {
			break
		}
		q.h[i], q.h[parent] = q.h[parent], q.h[i]
		i = parent
	}
}

func (q *queue) less(i, j int) bool {
	a, b := &q.h[i], &q.h[j]
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}

func (q *queue) pop() event {
	top := q.h[0]
	last := len(q.h) - 1
	q.h[0] = q.h[last]
	q.h[last] = event{}
	q.h = q.h[:last]
	i := 0
	for {
		l, r := 2*i+1, 2*i+2
		m := i
		if l < len(q.h) && q.less(l, m) {
			m = l
		}
		if r < len(q.h) && q.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		q.h[i], q.h[m] = q.h[m], q.h[i]
		i = m
	}
	return top
}

func (q *queue) len() int { return len(q.h) }
