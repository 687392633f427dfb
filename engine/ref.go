package engine

// PeerRef is a handle on one connection's state. ReceiveRef and WarmRef
// take it in place of the connection's id and skip the lookup by id,
// which in a large simulated world is two cache misses in a chain (the
// torrent's table, then its slot) before the connection's own: the
// simulator delivers hundreds of millions of HAVEs, each to a different
// torrent.
//
// A ref is valid only with the Torrent that made it. Once the connection
// is removed it stays safe to use, and what comes through it is ignored,
// as for an unknown id. The zero PeerRef is such a ref.
type PeerRef struct{ p *peer }

// Ref returns connection c's ref, the zero PeerRef if there is no such
// connection.
func (t *Torrent) Ref(c ConnID) PeerRef { return PeerRef{t.byConn.get(c)} }
