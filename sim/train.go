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
//
// A train's messages are kept apart from its items, once for a run of
// items that carry the same one: a HAVE fan-out is one message and a
// small item per neighbour, where each item held the whole message and
// was 40 bytes rather than 24.
type trainRing struct {
	items ring[trainItem]
	msgs  ring[packed]
	// open: a train is being filled, items [start, items.tail), by
	// owner.
	open  bool
	start uint64
	owner *peer
}

// trainItem is one message of a train, addressed by the receiving peer
// and its engine's ref for the connection rather than by the connection:
// delivering hundreds of millions of HAVEs, each pointer followed is a
// cache miss. A connection closed meanwhile needs no check here: the
// receiver's engine ignores messages through the ref of a connection it
// removed.
type trainItem struct {
	to  *peer
	ref engine.PeerRef
	// id is the receiver's connection id, which the simulator numbers
	// per peer from 1: 32 bits are plenty. Only messages sent before the
	// receiver's engine had the connection, which carry no ref, need it.
	id uint32
	// msg is the low 32 bits of the message's position in msgs (see
	// trainRing.msg).
	msg uint32
}

// msg returns the message at the position whose low 32 bits are lo: the
// ring, far shorter than 2^32, indexes by low bits alone.
func (r *trainRing) msg(lo uint32) *packed { return r.msgs.at(uint64(lo)) }

// ring is a FIFO addressed by position: head and tail count from the
// start of the run, not indexes, items[pos&(len-1)] is at pos, and
// [head, tail) is held. Positions stay as they are when it grows or
// shrinks.
type ring[T any] struct {
	items      []T // a power of two long
	head, tail uint64
}

func (r *ring[T]) at(pos uint64) *T {
	return &r.items[pos&uint64(len(r.items)-1)]
}

// minTrainRing is a ring's smallest size.
const minTrainRing = 1024

// push appends x at the tail, doubling the ring when it is full.
func (r *ring[T]) push(x T) {
	r.reserve(1)
	*r.at(r.tail) = x
	r.tail++
}

// reserve makes room for n more items, doubling the ring as often as it
// takes, so that n pushes can store at the tail without checking.
func (r *ring[T]) reserve(n int) {
	for r.tail-r.head+uint64(n) > uint64(len(r.items)) {
		r.resize(max(2*len(r.items), minTrainRing))
	}
}

// shrink halves the ring while it is less than a quarter full. A world's
// start fills it most, when every connection opens with a handshake, a
// bitfield and an extension handshake at once: 137,404 items in flight
// at 2,000 leechers. The ring kept the size that burst gave it, 10 MB of
// that world's 110 MB live heap at its peak.
func (r *ring[T]) shrink() {
	for len(r.items) > minTrainRing && 4*(r.tail-r.head) < uint64(len(r.items)) {
		r.resize(len(r.items) / 2)
	}
}

// resize moves the items held to a ring of size items, a power of two no
// smaller than their number.
func (r *ring[T]) resize(size int) {
	items := make([]T, size)
	for pos := r.head; pos < r.tail; pos++ {
		items[pos&uint64(size-1)] = *r.at(pos)
	}
	r.items = items
}

// packed is a message as the simulator holds it in trains, uplink queues
// and flights: most are HAVEs, requests, pieces and the like, which fit in
// a type and three numbers. A piece keeps only its block's length, since
// the simulator's blocks carry no data. The rare message with more (a
// bitfield, an extension message, a keep-alive) is kept whole.
type packed struct {
	typ wire.Type
	// upload, in an uplink queue or a flight: the message is an engine
	// Upload, whose UploadDone is due when it leaves. It sits in typ's
	// padding, which keeps a queued message at 24 bytes and a flight at
	// 32 rather than 32 and 48.
	upload               bool
	index, begin, length uint32
	whole                *wire.Message
}

// wireLength is the message's size on the wire.
func (pk *packed) wireLength() int {
	switch {
	case pk.whole != nil:
		return pk.whole.WireLength()
	case pk.typ == wire.Piece:
		return 4 + 1 + 8 + int(pk.length)
	}
	m := wire.Message{Type: pk.typ}
	return m.WireLength()
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
		s.enqueue(c, pack(m))
		return
	}
	s.joinTrain(p)
	s.trains.add(c.to, c.toRef, c.toID, pack(m))
}

// joinTrain makes p's train the open one, opening it if need be.
func (s *Sim) joinTrain(p *peer) {
	r := &s.trains
	if r.open && r.owner != p {
		// Another peer's apply, called from within p's (a completion's
		// announce connects, and applies both ends): p's train leaves
		// now, ahead of whatever p sends later, so each connection's
		// order holds.
		s.dispatch()
	}
	if !r.open {
		r.open, r.start, r.owner = true, r.items.tail, p
	}
}

// sendEach sends m from p on each of the connections with the given
// ids, as send does on each in turn: a HAVE to every neighbour that
// lacks a piece, which the engine gives as one action. The message is
// packed and checked once, and each connection adds one item.
func (s *Sim) sendEach(p *peer, ids []engine.ConnID, m *wire.Message) {
	if m.WireLength() >= controlSize {
		for _, id := range ids {
			if c := s.connByID(p, id); c != nil {
				s.send(p, c, m)
			}
		}
		return
	}
	pk := pack(m)
	r := &s.trains
	r.items.reserve(len(ids))
	var msg uint32
	started := false
	for _, id := range ids {
		c := s.connByID(p, id)
		if c == nil {
			continue
		}
		if !started {
			// As send and add would for the first item; the rest share
			// its message, and nothing else joins the train meanwhile.
			started = true
			s.joinTrain(p)
			msg = r.msgFor(pk)
		}
		*r.items.at(r.items.tail) = trainItem{to: c.to, ref: c.toRef, id: c.toID, msg: msg}
		r.items.tail++
	}
}

// add appends a message for to's connection (ref, or id if ref is zero)
// to the open train. The train's last message, if it has one, is shared
// when equal.
func (r *trainRing) add(to *peer, ref engine.PeerRef, id uint32, pk packed) {
	r.items.push(trainItem{to: to, ref: ref, id: id, msg: r.msgFor(pk)})
}

// msgFor returns where pk is among the open train's messages: the
// train's last message if that is equal, a new one otherwise.
func (r *trainRing) msgFor(pk packed) uint32 {
	if r.items.tail == r.start || *r.msgs.at(r.msgs.tail - 1) != pk {
		r.msgs.push(pk)
	}
	return uint32(r.msgs.tail - 1)
}

// release frees the train at the head, which ends before position end,
// with its messages.
func (r *trainRing) release(end uint64) {
	// The train's messages end with its last item's.
	msgEnd := r.msgs.head + uint64(r.items.at(end-1).msg-uint32(r.msgs.head)) + 1
	for pos := r.items.head; pos < end; pos++ {
		*r.items.at(pos) = trainItem{}
	}
	for pos := r.msgs.head; pos < msgEnd; pos++ {
		*r.msgs.at(pos) = packed{}
	}
	r.items.head, r.msgs.head = end, msgEnd
	r.items.shrink()
	r.msgs.shrink()
}

// dispatch schedules the open train, if there is one.
func (s *Sim) dispatch() {
	r := &s.trains
	if !r.open {
		return
	}
	r.open, r.owner = false, nil
	s.q.push(event{at: s.now + s.cfg.Latency, kind: evTrain, first: r.start, peer: int32(r.items.tail - r.start)})
}

// deliverTrain hands each message of the n-message train at first to its
// receiver.
func (s *Sim) deliverTrain(first uint64, n int) {
	r := &s.trains
	if first != r.items.head {
		panic("sim: trains arriving out of order")
	}
	end := first + uint64(n)
	// A train is mostly one HAVE for each of a peer's neighbours: a first
	// pass warms each receiver's state (engine.Torrent.Warm), so that its
	// cache misses overlap rather than come one at a time.
	var warm uint64
	for pos := first; pos < end; pos++ {
		it := r.items.at(pos)
		if pk := r.msg(it.msg); pk.whole == nil && !it.to.gone {
			m := wire.Message{Type: pk.typ, Index: pk.index}
			if it.ref != (engine.PeerRef{}) {
				warm += it.to.eng.WarmRef(it.ref, &m)
			}
		}
	}
	s.warmth += warm
	for pos := first; pos < end; pos++ {
		// receive may send, and so grow the rings: look the item up
		// afresh each time.
		it := r.items.at(pos)
		m := s.unpack(r.msg(it.msg))
		s.receive(it.to, it.ref, it.id, &m)
	}
	r.release(end)
}
