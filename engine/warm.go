package engine

import "github.com/swarmlab/swarmlab/wire"

// Warm reads, and changes nothing, the state that Receive of m on c will
// read first: the connection's state, and for a HAVE the peer's bit, our
// own and the piece's count. Its result means nothing; a caller adds it
// up somewhere so that the reads are not optimised away.
//
// It is for a driver that holds a batch of messages for many torrents at
// once: the simulator delivers a HAVE to each of a peer's neighbours in
// one go. Receive's first reads are cache misses in a large world, one
// after another through pointers; a first pass of Warm over the batch
// makes reads that do not depend on each other, which the processor
// overlaps, and Receive then finds them in the cache.
func (t *Torrent) Warm(c ConnID, m *wire.Message) uint64 {
	return t.warm(t.byConn.get(c), m)
}

// WarmRef is Warm through a connection's ref (see PeerRef).
func (t *Torrent) WarmRef(r PeerRef, m *wire.Message) uint64 { return t.warm(r.p, m) }

func (t *Torrent) warm(p *peer, m *wire.Message) uint64 {
	if p == nil {
		return 0
	}
	if m.Type != wire.Have || int(m.Index) >= t.numPieces {
		return uint64(p.id)
	}
	i := int(m.Index)
	sum := uint64(t.avail.Count(i))
	if p.has.Has(i) {
		sum++
	}
	if t.have.Has(i) {
		sum += 2
	}
	return sum
}
