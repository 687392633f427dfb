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

func (s *Sim) newTrain() *train {
	if n := len(s.trains); n > 0 {
		t := s.trains[n-1]
		s.trains = s.trains[:n-1]
		return t
	}
	return &train{}
}

// dispatch schedules a filled train and returns nil, for the caller's
// variable.
func (s *Sim) dispatch(t *train) *train {
	if t != nil && len(t.items) > 0 {
		s.q.push(event{at: s.now + s.cfg.Latency, kind: evTrain, tr: t})
	}
	return nil
}

// deliverTrain hands each message of a train to its receiver.
func (s *Sim) deliverTrain(t *train) {
	for i := range t.items {
		it := &t.items[i]
		to := it.from.remote
		if p := to.owner; to.open && p.eng != nil {
			s.stats.messages++
			m := it.message()
			p.eng.Receive(to.id, &m, s.now)
			s.apply(p)
		}
	}
	clear(t.items)
	t.items = t.items[:0]
	s.trains = append(s.trains, t)
}
