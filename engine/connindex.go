package engine

// connIndex finds a connection's state by its id. Every message goes
// through it, so it matters: a driver that numbers its connections densely
// from 1 (the simulator does, per peer) gets a slice lookup, one memory
// access; other ids go to a map.
type connIndex struct {
	dense  []*peer
	sparse map[ConnID]*peer
}

// maxDenseConnID bounds the slice: ids above it use the map, so a driver
// that never reuses ids cannot grow the slice without end.
const maxDenseConnID = 4096

func (x *connIndex) get(c ConnID) *peer {
	if c > 0 && int(c) <= len(x.dense) {
		return x.dense[c-1]
	}
	return x.sparse[c]
}

func (x *connIndex) put(c ConnID, p *peer) {
	if c > 0 && c <= maxDenseConnID {
		if n := int(c) - len(x.dense); n > 0 {
			x.dense = append(x.dense, make([]*peer, n)...)
		}
		x.dense[c-1] = p
		return
	}
	if x.sparse == nil {
		x.sparse = map[ConnID]*peer{}
	}
	x.sparse[c] = p
}

func (x *connIndex) remove(c ConnID) {
	if c > 0 && int(c) <= len(x.dense) {
		x.dense[c-1] = nil
		return
	}
	delete(x.sparse, c)
}
