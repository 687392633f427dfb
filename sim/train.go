package sim

import "github.com/swarmlab/swarmlab/wire"

// A train is the control messages one peer's engine sent in one instant.
// Every link has the same latency, so they all arrive together: one event
// carries them instead of one event each. HAVE fan-out is most of a large
// world's messages (a verified piece is announced to every neighbour), so
// this saves most of the event queue's work.
//
// Delivering a train in the order it was filled keeps each connection's
// messages in the order the engine sent them, as TCP would.
type train struct {
	items []trainItem
}

// trainItem is one message of a train. Most are HAVEs, requests and
// the like, which fit in a few numbers; the rare control message with a
// payload (a small bitfield, an extension message) is kept whole.
type trainItem struct {
	from                 *conn // the sending end
	typ                  wire.Type
	index, begin, length uint32
	whole                *wire.Message
}

func newTrainItem(from *conn, m *wire.Message) trainItem {
	it := trainItem{from: from, typ: m.Type, index: m.Index, begin: m.Begin, length: m.Length}
	if m.KeepAlive || m.Bitfield != nil || m.Block != nil || m.Payload != nil || m.Port != 0 || m.ExtendedID != 0 {
		whole := *m
		it.whole = &whole
	}
	return it
}

func (it *trainItem) message() wire.Message {
	if it.whole != nil {
		return *it.whole
	}
	return wire.Message{Type: it.typ, Index: it.index, Begin: it.begin, Length: it.length}
}

// send sends m on c: a control message joins the train tr (one is
// started if tr is nil), anything larger queues for the uplink. It
// returns the train.
func (s *Sim) send(tr *train, c *conn, m *wire.Message) *train {
	size := m.WireLength()
	if size >= controlSize {
		s.enqueue(c, item{msg: *m, size: size})
		return tr
	}
	if tr == nil {
		tr = s.newTrain()
	}
	tr.items = append(tr.items, newTrainItem(c, m))
	return tr
}

func (s *Sim) newTrain() *train {
	if n := len(s.trains); n > 0 {
		t := s.trains[n-1]
		s.trains = s.trains[:n-1]
		return t
	}
	return &train{}
}

// dispatch schedules a train, if there is one, and returns nil, for the
// caller's variable.
func (s *Sim) dispatch(t *train) *train {
	if t != nil {
		s.q.push(event{at: s.now + s.cfg.Latency, kind: evTrain, tr: t})
	}
	return nil
}

// deliverTrain hands each message of a train to its receiver.
func (s *Sim) deliverTrain(t *train) {
	for i := range t.items {
		m := t.items[i].message()
		s.receive(t.items[i].from.remote, &m)
	}
	clear(t.items)
	t.items = t.items[:0]
	s.trains = append(s.trains, t)
}
