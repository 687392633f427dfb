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

// queue orders events by (at, seq). The sequence number makes the order
// total, so equal-time events run in the order they were scheduled: the
// source of the simulator's determinism.
//
// Most events are scheduled a fixed delay after the moment that schedules
// them: trains and arrivals cross the latency, ticks come a tick later,
// announces an interval later. Since the clock never goes back, each such
// kind is scheduled in time order, and a plain FIFO, a lane, keeps it
// sorted: pushing and popping there is O(1), where the heap took a walk of
// its levels. An event that would break its lane's order (a gossip peer's
// shorter tick, say) goes to the heap instead, and a pop takes the
// earliest of the heap's top and the lanes' heads, so the order is the
// same as with the heap alone, event for event.
type queue struct {
	h     []event
	lanes [numLanes]lane
	seq   uint64
}

// Lanes, by the kinds they carry (laneOf).
const (
	laneLatency  = iota // evTrain, evArrive: now + Config.Latency
	laneTick            // evTick: now + the tick
	laneAnnounce        // evAnnounce: now + the announce interval
	numLanes
	noLane = -1
)

func laneOf(k evKind) int {
	switch k {
	case evTrain, evArrive:
		return laneLatency
	case evTick:
		return laneTick
	case evAnnounce:
		return laneAnnounce
	}
	return noLane
}

// lane is a FIFO of events in (at, seq) order: a ring, a power of two
// long, holding [head, head+n).
type lane struct {
	buf     []event
	head, n int
}

func (l *lane) front() *event { return &l.buf[l.head] }

func (l *lane) back() *event { return &l.buf[(l.head+l.n-1)&(len(l.buf)-1)] }

func (l *lane) pushBack(e event) {
	if l.n == len(l.buf) {
		buf := make([]event, max(64, 2*len(l.buf)))
		for i := range l.n {
			buf[i] = l.buf[(l.head+i)&(len(l.buf)-1)]
		}
		l.buf, l.head = buf, 0
	}
	l.buf[(l.head+l.n)&(len(l.buf)-1)] = e
	l.n++
}

func (l *lane) popFront() event {
	e := *l.front()
	*l.front() = event{}
	l.head = (l.head + 1) & (len(l.buf) - 1)
	l.n--
	return e
}

// arity is the heap's branching factor.
//
// The heap is 4-ary, and sifts a hole rather than swapping: a pop walks
// half as many levels as in a binary heap, each level's four children on
// two or three cache lines, moving each event once. BenchmarkQueueHold (a
// pop and a push, heap only) with 1,024 / 16,384 / 262,144 events: 132 /
// 175 / 292 ns binary with swaps, 106 / 126 / 270 ns so.
const arity = 4

func before(a, b *event) bool {
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}

func (q *queue) push(e event) {
	q.seq++
	e.seq = q.seq
	if i := laneOf(e.kind); i != noLane {
		if l := &q.lanes[i]; l.n == 0 || !before(&e, l.back()) {
			l.pushBack(e)
			return
		}
	}
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

// pop removes and returns the earliest event; the queue must not be
// empty.
func (q *queue) pop() event {
	var first *event
	from := noLane
	if len(q.h) > 0 {
		first = &q.h[0]
	}
	for i := range q.lanes {
		if l := &q.lanes[i]; l.n > 0 && (first == nil || before(l.front(), first)) {
			first, from = l.front(), i
		}
	}
	if from != noLane {
		return q.lanes[from].popFront()
	}
	return q.popHeap()
}

func (q *queue) popHeap() event {
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

func (q *queue) len() int {
	n := len(q.h)
	for i := range q.lanes {
		n += q.lanes[i].n
	}
	return n
}
