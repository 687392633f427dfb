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
//
// Every train takes the same time to arrive, so trains arrive in the
// order they leave, and all of them live in one ring: a train is a run of
// it, filled at the tail and delivered from the head. Trains of their own
// kept the capacity of their largest load while they waited for reuse:
// 110 MB of a 10,000-leecher world's 862, where the messages in flight
// at any moment need a few.
type trainRing struct {
	items []trainItem // a power of two long
	// head and tail are positions counted from the start of the run, not
	// indexes: items[pos&(len-1)] is at pos, and [head, tail) is in
	// flight, the open train included.
	head, tail uint64
	// open is the train being filled, [start, tail), by owner.
	open  bool
	start uint64
	owner *peer
}

func (r *trainRing) at(pos uint64) *trainItem {
	return &r.items[pos&uint64(len(r.items)-1)]
}

// minTrainRing is the ring's smallest size.
const minTrainRing = 1024

// push appends it at the tail, doubling the ring when it is full.
func (r *trainRing) push(it trainItem) {
	if r.tail-r.head == uint64(len(r.items)) {
		r.resize(max(2*len(r.items), minTrainRing))
	}
	*r.at(r.tail) = it
	r.tail++
}

// shrink halves the ring while it is less than a quarter full. A world's
// start fills it most, when every connection opens with a handshake, a
// bitfield and an extension handshake at once: 137,404 items in flight
// at 2,000 leechers. The ring kept the size that burst gave it, 10 MB of
// that world's 110 MB live heap at its peak.
func (r *trainRing) shrink() {
	for len(r.items) > minTrainRing && 4*(r.tail-r.head) < uint64(len(r.items)) {
		r.resize(len(r.items) / 2)
	}
}

// resize moves the items in flight to a ring of size items, a power of
// two no smaller than their number. Positions stay as they were.
func (r *trainRing) resize(size int) {
	items := make([]trainItem, size)
	for pos := r.head; pos < r.tail; pos++ {
		items[pos&uint64(size-1)] = *r.at(pos)
	}
	r.items = items
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

// send sends m on c, from p: a control message joins p's open train (one
// is opened if there is none), anything larger queues for the uplink.
func (s *Sim) send(p *peer, c *conn, m *wire.Message) {
	size := m.WireLength()
	if size >= controlSize {
		s.enqueue(c, item{msg: pack(m), size: int32(size)})
		return
	}
	r := &s.trains
	if r.open && r.owner != p {
		// Another peer's apply, called from within p's (a completion's
		// announce connects, and applies both ends): p's train leaves
		// now, ahead of whatever p sends later, so each connection's
		// order holds.
		s.dispatch()
	}
	if !r.open {
		r.open, r.start, r.owner = true, r.tail, p
	}
	r.push(trainItem{to: c.to, id: c.toID, msg: pack(m)})
}

// dispatch schedules the open train, if there is one.
func (s *Sim) dispatch() {
	r := &s.trains
	if !r.open {
		return
	}
	r.open, r.owner = false, nil
	s.q.push(event{at: s.now + s.cfg.Latency, kind: evTrain, first: r.start, peer: int32(r.tail - r.start)})
}

// deliverTrain hands each message of the n-message train at first to its
// receiver.
func (s *Sim) deliverTrain(first uint64, n int) {
	r := &s.trains
	if first != r.head {
		panic("sim: trains arriving out of order")
	}
	end := first + uint64(n)
	// A train is mostly one HAVE for each of a peer's neighbours: a first
	// pass warms each receiver's state (engine.Torrent.Warm), so that its
	// cache misses overlap rather than come one at a time.
	var warm uint64
	for pos := first; pos < end; pos++ {
		it := r.at(pos)
		if it.msg.whole == nil && !it.to.gone {
			m := wire.Message{Type: it.msg.typ, Index: it.msg.index}
			warm += it.to.eng.Warm(it.id, &m)
		}
	}
	s.warmth += warm
	for pos := first; pos < end; pos++ {
		// receive may send, and so grow the ring: look the item up
		// afresh each time.
		it := r.at(pos)
		to, id, m := it.to, it.id, s.unpack(&it.msg)
		*it = trainItem{}
		s.receive(to, id, &m)
	}
	r.head = end
	r.shrink()
}
