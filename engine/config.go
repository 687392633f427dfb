package engine

import (
	"math/rand/v2"
	"time"

	"github.com/swarmlab/swarmlab/bitfield"
	"github.com/swarmlab/swarmlab/choker"
	"github.com/swarmlab/swarmlab/picker"
)

// BlockSize is the size of the blocks we request: 16 KiB, what every
// mainstream client uses and accepts (BEP 3).
const BlockSize = 16 << 10

// Layout is the shape of the content: all the engine needs to know of it.
type Layout struct {
	PieceLength int64
	TotalLength int64
}

// NumPieces is ceil(TotalLength / PieceLength).
func (l Layout) NumPieces() int {
	if l.PieceLength <= 0 {
		return 0
	}
	return int((l.TotalLength + l.PieceLength - 1) / l.PieceLength)
}

// PieceSize is the length of piece p (the last may be short).
func (l Layout) PieceSize(p int) int64 {
	if p == l.NumPieces()-1 {
		return l.TotalLength - int64(p)*l.PieceLength
	}
	return l.PieceLength
}

// blocks is the number of blocks in piece p.
func (l Layout) blocks(p int) int {
	return int((l.PieceSize(p) + BlockSize - 1) / BlockSize)
}

// Config sets up a Torrent.
type Config struct {
	Layout Layout
	// Have holds the pieces already verified, for a resumed download or a
	// seed; nil means none.
	Have *bitfield.Bitfield
	// Picker chooses pieces to start and Choker whom to upload to; both
	// are required (see the picker and choker packages for defaults).
	Picker picker.Picker
	Choker choker.Choker
	// Rand is the only source of randomness; seed it for reproducible runs.
	Rand *rand.Rand

	// ClientName and ListenPort go into our BEP 10 extension handshake.
	ClientName string
	ListenPort int
	// Fast and Extensions say whether we offer the BEP 6 fast extension and
	// the BEP 10 extension protocol; a feature is used with a peer only if
	// both sides offer it.
	Fast, Extensions bool

	// MinQueue and MaxQueue bound how many requests we keep outstanding at
	// one peer. Between them the depth follows the peer's rate, so that a
	// fast link stays full: rate × QueueTime / BlockSize.
	MinQueue, MaxQueue int
	QueueTime          time.Duration
	// MaxIncoming caps the requests a peer may queue at us (our reqq).
	MaxIncoming int
	// UploadWindow is how many blocks per peer may be handed to the
	// driver at once; the rest wait here, where a choke or cancel can
	// still withdraw them.
	UploadWindow int
	// SnubTimeout: a peer that leaves our requests unanswered this long is
	// snubbed; its requests go back to the pool.
	SnubTimeout time.Duration
	// BanAfter is how many failed pieces a peer may contribute to before it
	// is banned (at most 255). A peer that alone sent a piece that fails
	// is banned at once.
	BanAfter int
	// MaxUnrequested is how many blocks we did not ask for a peer may send
	// before it is dropped (a few are normal after a cancel or choke).
	MaxUnrequested int
	// MinRechokeGap is the shortest time between a rechoke that choked
	// or unchoked someone and the next one; a rechoke runs early when a
	// slot frees or a peer becomes interested.
	MinRechokeGap time.Duration
	// UploadCapacity is our upload budget in bytes/s, for chokers that
	// divide it (BitTyrant, PropShare); 0 when unknown.
	UploadCapacity float64
	// Gossip, when set, replaces piece picking and choking with gossip
	// dissemination between peers that offer it (see GossipConfig).
	Gossip *GossipConfig
	// SuperSeed makes a seed hide its pieces and reveal them to each peer
	// a few at a time, least-revealed first (BEP 16), so that in a
	// seed-bottlenecked swarm the seed sends each piece about once. It
	// slows a peer that downloads from us alone, so it is off by default.
	SuperSeed bool
	// SkipRedundantHave sends a HAVE only to peers that lack the piece
	// (libtorrent's send_redundant_have off). It halves the HAVEs of a
	// swarm, since of two neighbours only the first to get a piece
	// announces it, but a peer then no longer sees everything its
	// neighbours get: strategies that estimate rates from HAVEs, like
	// BitTyrant's, need it off, the default. Nor do HAVEs then show a
	// neighbour that we have completed, so on completion we say so with
	// BEP 21's upload_only (in a second extended handshake).
	SkipRedundantHave bool
	// Actions, when set, is where the engine gathers its actions between
	// inputs, shared with other torrents: a simulated world of thousands
	// of engines then holds one buffer, not one each sized for its
	// largest burst (a HAVE to every neighbour, a rechoke). Torrents that
	// share it must be driven from one goroutine, and each one's actions
	// must be taken with Actions before another is given an input.
	Actions *ActionBuffer
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MinQueue, 8)
	def(&c.MaxQueue, 1000)
	def(&c.MaxIncoming, 2000)
	def(&c.UploadWindow, 64)
	def(&c.BanAfter, 3)
	def(&c.MaxUnrequested, 64)
	// The peer struct counts against these in 16 bits, and failed
	// pieces in 8.
	for _, v := range []*int{&c.MinQueue, &c.MaxQueue, &c.UploadWindow, &c.MaxUnrequested} {
		*v = min(*v, maxPeerCount)
	}
	c.BanAfter = min(c.BanAfter, maxBanAfter)
	if c.QueueTime <= 0 {
		c.QueueTime = 3 * time.Second
	}
	if c.SnubTimeout <= 0 {
		c.SnubTimeout = 60 * time.Second
	}
	if c.MinRechokeGap <= 0 {
		c.MinRechokeGap = time.Second
	}
	if c.Gossip != nil {
		g := *c.Gossip
		if g.Fanout <= 0 {
			g.Fanout = 3
		}
		if g.Interval <= 0 {
			g.Interval = time.Second
		}
		if g.Mode == 0 {
			g.Mode = PushPull
		}
		c.Gossip = &g
	}
	if c.ClientName == "" {
		c.ClientName = "swarmlab"
	}
	return c
}
