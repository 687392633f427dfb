package sim

import (
	"testing"

	"github.com/swarmlab/swarmlab/engine"
	"github.com/swarmlab/swarmlab/wire"
)

// TestRingKeepsOrderAcrossGrowth: items keep their positions, and so
// their order, when the ring wraps and when it grows while wrapped.
func TestRingKeepsOrderAcrossGrowth(t *testing.T) {
	var r ring[uint64]
	next, want := uint64(1), uint64(1)
	take := func(n int) {
		for range n {
			if got := *r.at(r.head); got != want {
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
		r.push(next)
		next++
	}
	take(1000)
	for range 1500 {
		r.push(next)
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

// TestRingShrinks: a ring that grew for a burst gives the memory
// back once the burst has been delivered, and keeps its items in order
// through the shrinking.
func TestRingShrinks(t *testing.T) {
	var r ring[uint64]
	next, want := uint64(1), uint64(1)
	for range 100_000 {
		r.push(next)
		next++
	}
	grown := len(r.items)
	// Deliver all but 300, shrinking after each train of 50 as
	// deliverTrain does, and push a few more meanwhile.
	for r.tail-r.head > 300 {
		for range 50 {
			if got := *r.at(r.head); got != want {
				t.Fatalf("at head %d: item %d, want %d", r.head, got, want)
			}
			*r.at(r.head) = 0
			r.head++
			want++
		}
		r.push(next)
		next++
		r.shrink()
	}
	if len(r.items) != minTrainRing {
		t.Fatalf("ring of %d after growing to %d and draining to %d items, want %d", len(r.items), grown, r.tail-r.head, minTrainRing)
	}
	for r.head < r.tail {
		if got := *r.at(r.head); got != want {
			t.Fatalf("at head %d: item %d, want %d", r.head, got, want)
		}
		r.head++
		want++
	}
	if want != next {
		t.Fatalf("took up to %d, pushed up to %d", want, next)
	}
}

// TestTrainSharesRepeatedMessages: a train keeps a message once for a run
// of items that carry it, never shares one with an earlier train (which
// frees it on arrival), and every item reads back its own message while
// the rings grow and positions pass 2^32 (items keep only their low 32
// bits).
func TestTrainSharesRepeatedMessages(t *testing.T) {
	var r trainRing
	const start = 1<<32 - 3
	r.items.head, r.items.tail, r.msgs.head, r.msgs.tail = start, start, start, start
	a, b := &peer{id: 1}, &peer{id: 2}
	have5 := packed{typ: wire.Have, index: 5}
	req := packed{typ: wire.Request, index: 5, length: 16 << 10}
	type sent struct {
		to *peer
		id uint32
		pk packed
	}
	var want []sent
	open := func() { r.open, r.start = true, r.items.tail }
	add := func(to *peer, id uint32, pk packed) {
		r.add(to, engine.PeerRef{}, id, pk)
		want = append(want, sent{to, id, pk})
	}
	check := func(from uint64) {
		t.Helper()
		for pos := from; pos < r.items.tail; pos++ {
			it := r.items.at(pos)
			got := sent{it.to, it.id, *r.msg(it.msg)}
			if w := want[pos-start]; got != w {
				t.Fatalf("item at %d: %+v, want %+v", pos, got, w)
			}
		}
	}

	open()
	add(a, 1, have5)
	add(b, 2, have5)
	add(a, 1, req)
	add(b, 2, have5)
	r.open = false
	if n := r.msgs.tail - r.msgs.head; n != 3 {
		t.Fatalf("first train holds %d messages, want 3 (have, request, have)", n)
	}
	firstEnd := r.items.tail

	open()
	add(a, 1, have5) // equal to the first train's last message: its own copy
	for i := range 3000 {
		add(b, 2, packed{typ: wire.Have, index: uint32(i / 2)})
	}
	r.open = false
	check(start)
	r.release(firstEnd)
	if r.items.head != firstEnd || r.msgs.head != start+3 {
		t.Fatalf("after the first train: items from %d, messages from %d; want %d and %d", r.items.head, r.msgs.head, firstEnd, start+3)
	}
	check(firstEnd)
	if n := r.msgs.tail - r.msgs.head; n != 1+1500 {
		t.Fatalf("second train holds %d messages, want 1501", n)
	}
}

// TestSendEachMatchesSend: a HAVE sent to several connections with
// sendEach leaves the trains as send on each connection in turn does:
// the same items, the same shared message, the other peer's open train
// sent off first, and unknown or closed connections skipped.
func TestSendEachMatchesSend(t *testing.T) {
	world := func() (*Sim, *peer, *peer) {
		s := &Sim{}
		p, q := &peer{id: 1}, &peer{id: 2}
		to := []*peer{{id: 3}, {id: 4}, {id: 5}}
		// Connection 2 was closed (its slot emptied); 9 never existed.
		p.byID = []*conn{{to: to[0], toID: 7, open: true}, nil, {to: to[2], toID: 8, open: true}}
		return s, p, q
	}
	ids := []engine.ConnID{1, 2, 3, 9, 1}
	have := wire.Message{Type: wire.Have, Index: 6}
	type item struct {
		to  *peer
		id  uint32
		msg packed
	}
	contents := func(s *Sim) (items []item, msgs uint64, trains int) {
		r := &s.trains
		for pos := r.items.head; pos < r.items.tail; pos++ {
			it := r.items.at(pos)
			items = append(items, item{it.to, it.id, *r.msg(it.msg)})
		}
		return items, r.msgs.tail - r.msgs.head, s.q.len()
	}
	// The train before: none, q's, or p's own ending in the same HAVE,
	// which the new items share.
	for _, before := range []string{"none", "other", "own"} {
		one, p1, q1 := world()
		each, p2, q2 := world()
		switch before {
		case "other":
			for _, w := range []struct {
				s *Sim
				q *peer
			}{{one, q1}, {each, q2}} {
				w.s.send(w.q, &conn{to: &peer{id: 6}, toID: 1, open: true}, &wire.Message{Type: wire.Interested})
			}
		case "own":
			one.send(p1, p1.byID[0], &have)
			each.send(p2, p2.byID[0], &have)
		}
		for _, id := range ids {
			if c := one.connByID(p1, id); c != nil {
				one.send(p1, c, &have)
			}
		}
		each.sendEach(p2, ids, &have)
		one.dispatch()
		each.dispatch()
		gotItems, gotMsgs, gotTrains := contents(each)
		wantItems, wantMsgs, wantTrains := contents(one)
		// Both share joinTrain: hold it to what it must do, too.
		if want := map[string]int{"none": 1, "other": 2, "own": 1}[before]; wantTrains != want {
			t.Fatalf("train before %s: send left %d trains, want %d (another peer's train leaves before p's)", before, wantTrains, want)
		}
		if len(gotItems) != len(wantItems) || gotMsgs != wantMsgs || gotTrains != wantTrains {
			t.Fatalf("train before %s: sendEach left %d items, %d messages, %d trains; send %d, %d, %d",
				before, len(gotItems), gotMsgs, gotTrains, len(wantItems), wantMsgs, wantTrains)
		}
		for i := range gotItems {
			g, w := gotItems[i], wantItems[i]
			// Peers differ between the two worlds: compare their ids.
			if g.to.id != w.to.id || g.id != w.id || g.msg != w.msg {
				t.Fatalf("train before %s: item %d is to peer %d on %d (%+v), want peer %d on %d (%+v)",
					before, i, g.to.id, g.id, g.msg, w.to.id, w.id, w.msg)
			}
		}
	}
}

// TestSendEachOfALargeMessage: a message too large for a train goes to
// each connection's uplink queue, as send puts it there, and skips the
// connections that are gone. The engine gives only HAVEs as SendEach,
// but the action's meaning does not depend on that.
func TestSendEachOfALargeMessage(t *testing.T) {
	s := &Sim{}
	p := &peer{id: 1}
	p.byID = []*conn{{owner: p, to: &peer{id: 2}, toID: 7, open: true}, nil, {owner: p, to: &peer{id: 3}, toID: 8, open: true}}
	bf := wire.Message{Type: wire.Bitfield, Bitfield: make([]byte, 100)}
	if bf.WireLength() < controlSize {
		t.Fatalf("a %d-byte bitfield message is a control message", bf.WireLength())
	}
	s.sendEach(p, []engine.ConnID{1, 2, 3, 9}, &bf)
	if r := &s.trains; r.open || r.items.tail != r.items.head {
		t.Fatal("a large message joined a train")
	}
	// The uplink, idle, took the first connection's at once (an event
	// for when it leaves); the second's waits in its queue.
	if a, b, leaving := len(p.byID[0].queue), len(p.byID[2].queue), s.q.len(); a != 0 || b != 1 || leaving != 1 {
		t.Errorf("queued %d and %d, %d leaving; want 0 and 1, 1 leaving", a, b, leaving)
	}
}

// TestPackedWireLength: a packed message's size is its wire message's,
// for the packed forms and a whole one.
func TestPackedWireLength(t *testing.T) {
	for _, m := range []wire.Message{
		{Type: wire.Piece, Index: 3, Begin: 16 << 10, Block: make([]byte, 1000)},
		{Type: wire.Request, Index: 3, Begin: 16 << 10, Length: 16 << 10},
		{Type: wire.Have, Index: 7},
		{Type: wire.Interested},
		{Type: wire.Bitfield, Bitfield: []byte{0xff, 0x80}},
		{KeepAlive: true},
	} {
		pk := pack(&m)
		if got, want := pk.wireLength(), m.WireLength(); got != want {
			t.Errorf("%v: packed length %d, wire length %d", m.Type, got, want)
		}
	}
}
