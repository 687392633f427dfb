package sim

import (
	"github.com/swarmlab/swarmlab/engine"
	"github.com/swarmlab/swarmlab/wire"
)

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

// trainItem is one message of a train, addressed by the receiving peer
// and its id for the connection rather than by the connection: delivering
// hundreds of millions of HAVEs, each pointer followed is a cache miss.
// A connection closed meanwhile needs no check here, since its id is not
// reused and the receiver's engine ignores messages on ids it does not
// know.
type trainItem struct {
	to  *peer
	id  engine.ConnID
	msg packed
}

// packed is a message as the simulator holds it in trains, uplink queues
// and flights: most are HAVEs, requests, pieces and the like, which fit in
// a type and three numbers. A piece keeps only its block's length, since
// the simulator's blocks carry no data. The rare message with more (a
// bitfield, an extension message, a keep-alive) is kept whole.
type packed struct {
	typ                  wire.Type
	index, begin, length uint32
	whole                *wire.Message
}

func pack(m *wire.Message) packed {
	pk := packed{typ: m.Type, index: m.Index, begin: m.Begin, length: m.Length}
	if m.Type == wire.Piece && !m.KeepAlive {
		pk.length = uint32(len(m.Block))
		return pk
	}
	if m.KeepAlive || m.Bitfield != nil || m.Block != nil || m.Payload != nil || m.Port != 0 || m.ExtendedID != 0 {
		whole := *m
		pk.whole = &whole
	}
	return pk
}

// unpack rebuilds a packed message; a piece's block is a slice of zeros.
func (s *Sim) unpack(pk *packed) wire.Message {
	switch {
	case pk.whole != nil:
		return *pk.whole
	case pk.typ == wire.Piece:
		return wire.Message{Type: wire.Piece, Index: pk.index, Begin: pk.begin, Block: s.zero[:pk.length]}
	}
	return wire.Message{Type: pk.typ, Index: pk.index, Begin: pk.begin, Length: pk.length}
}

// send sends m on c: a control message joins the train tr (one is
// started if tr is nil), anything larger queues for the uplink. It
// returns the train.
func (s *Sim) send(tr *train, c *conn, m *wire.Message) *train {
	size := m.WireLength()
	if size >= controlSize {
		s.enqueue(c, item{msg: pack(m), size: int32(size)})
		return tr
	}
	if tr == nil {
		tr = s.newTrain()
	}
	tr.items = append(tr.items, trainItem{to: c.to, id: c.toID, msg: pack(m)})
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
	// A train is mostly one HAVE for each of a peer's neighbours: a first
	// pass warms each receiver's state (engine.Torrent.Warm), so that its
	// cache misses overlap rather than come one at a time.
	var warm uint64
	for i := range t.items {
		it := &t.items[i]
		if it.msg.whole == nil && !it.to.gone {
			m := wire.Message{Type: it.msg.typ, Index: it.msg.index}
			warm += it.to.eng.Warm(it.id, &m)
		}
	}
	s.warmth += warm
	for i := range t.items {
		it := &t.items[i]
		m := s.unpack(&it.msg)
		s.receive(it.to, it.id, &m)
	}
	clear(t.items)
	t.items = t.items[:0]
	s.trains = append(s.trains, t)
}
