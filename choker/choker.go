package choker

import (
	"math/rand/v2"
	"time"
)

// Conn identifies a connection across rounds; the engine assigns it.
type Conn uint64

// Peer is one connected peer as a choker sees it.
type Peer struct {
	Conn Conn
	// Interested: the peer wants data we have.
	Interested bool
	// Choked: we choke it now.
	Choked bool
	// DownRate is the rate it sent us data at over the last rounds, bytes/s.
	DownRate float64
	// UpRate is the rate we sent it data at over the last rounds, bytes/s.
	UpRate float64
	// Snubbed: it left our requests unanswered for a long time.
	Snubbed bool
	// ConnectedAt is when the connection was made.
	ConnectedAt time.Duration
	// Pieces is how many pieces the peer has; HavesPerSecond how fast that
	// number has grown, an estimate of its download rate from the swarm
	// (BitTyrant uses it to estimate a peer's capacity).
	Pieces         int
	HavesPerSecond float64
}

// View is the snapshot a Choker decides on.
type View struct {
	Now time.Duration
	// Seeding: we have every piece, so nobody can reciprocate.
	Seeding bool
	Peers   []Peer
	// Rand is the torrent's seeded random source.
	Rand *rand.Rand
	// UploadCapacity is our upload budget in bytes/s, 0 when unknown.
	UploadCapacity float64
	// PieceLength converts HAVE rates into byte rates.
	PieceLength int64
}

// Unchoke is one peer a choker unchokes: Index into View.Peers, and the
// most we should upload to it, in bytes/s. Rate 0 means no cap of its own
// (the transport splits the upload as it goes); strategies that decide how
// much each peer gets — BitTyrant's u_p, PropShare's proportional shares —
// set it, and the driver enforces it per connection.
type Unchoke struct {
	Index int
	Rate  float64
}

// Choker decides which peers to unchoke.
type Choker interface {
	// Rechoke appends to dst the peers to unchoke and returns it.
	Rechoke(v *View, dst []Unchoke) []Unchoke
	// Interval is how often Rechoke should run.
	Interval() time.Duration
}
