package engine_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/bitfield"
	"github.com/swarmlab/swarmlab/choker"
	"github.com/swarmlab/swarmlab/engine"
	"github.com/swarmlab/swarmlab/picker"
	"github.com/swarmlab/swarmlab/wire"
)

// onePiece is one piece of one block: the smallest gossip transfer.
var onePiece = engine.Layout{PieceLength: engine.BlockSize, TotalLength: engine.BlockSize}

// gossiper is an engine in gossip mode with a round every second, and
// helpers to drive it by hand.
type gossiper struct {
	t   *testing.T
	e   *engine.Torrent
	now time.Duration
}

func newGossiper(t *testing.T, mode engine.GossipMode, layout engine.Layout, seed bool) *gossiper {
	t.Helper()
	var have *bitfield.Bitfield
	if seed {
		have = bitfield.Full(layout.NumPieces())
	}
	e, err := engine.New(engine.Config{
		Layout: layout, Have: have, Picker: picker.Rarest{}, Choker: choker.NewTitForTat(),
		Rand: rand.New(rand.NewPCG(1, 1)), Fast: true, Extensions: true,
		Gossip: &engine.GossipConfig{Mode: mode, Fanout: 1, Interval: time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &gossiper{t: t, e: e}
}

// gossipID is the id our test peers ask the engine to send gossip under;
// the engine's own id for incoming gossip is 7 (its handshake says so).
const gossipID = 9

// connect adds a gossiping peer that has the given pieces (none, or all).
func (g *gossiper) connect(c engine.ConnID, seed bool) {
	g.e.AddPeer(c, engine.PeerInfo{Reserved: wire.Reserved{}.WithFast(true).WithExtensions(true)}, g.now)
	hs := fmt.Sprintf("d1:md15:swarmlab_gossipi%dee1:v4:teste", gossipID)
	have := wire.Message{Type: wire.HaveNone}
	if seed {
		have.Type = wire.HaveAll
	}
	g.recv(c, have, wire.Message{Type: wire.Extended, ExtendedID: 0, Payload: []byte(hs)})
}

// recv gives the engine messages from c and returns its actions.
func (g *gossiper) recv(c engine.ConnID, msgs ...wire.Message) []engine.Action {
	var out []engine.Action
	for i := range msgs {
		g.e.Receive(c, &msgs[i], g.now)
		out = g.e.Actions(out)
	}
	return out
}

// round advances the clock by a round and returns what the engine did.
func (g *gossiper) round() []engine.Action {
	g.now += time.Second
	g.e.Tick(g.now)
	return g.e.Actions(nil)
}

// gossipMsg builds the extension message of the given kind (0 push, 1
// pull, 2 none) about piece 0.
func gossipMsg(kind int) wire.Message {
	return wire.Message{Type: wire.Extended, ExtendedID: 7, Payload: []byte(fmt.Sprintf("d1:pi0e1:ti%dee", kind))}
}

// sentGossip returns the gossip kinds the actions send to c, in order.
func sentGossip(acts []engine.Action, c engine.ConnID) []string {
	var kinds []string
	for _, a := range acts {
		if a.Kind == engine.Send && a.Conn == c && a.Msg.Type == wire.Extended && a.Msg.ExtendedID == gossipID {
			kinds = append(kinds, string(a.Msg.Payload))
		}
	}
	return kinds
}

func block(piece uint32) wire.Message {
	return wire.Message{Type: wire.Piece, Index: piece, Block: make([]byte, engine.BlockSize)}
}

// TestGossipPushWhilePulling: a push-pull peer that has a pull out for a
// piece still takes a push of it, because the pull may fail. Refusing it
// made push-pull spread like pull alone.
func TestGossipPushWhilePulling(t *testing.T) {
	g := newGossiper(t, engine.PushPull, onePiece, false)
	const puller, pusher = 1, 2
	g.connect(puller, false)
	if got := sentGossip(g.round(), puller); len(got) != 1 || got[0] != "d1:pi0e1:ti1ee" {
		t.Fatalf("first round sent %q, want one pull of piece 0", got)
	}
	g.connect(pusher, true)
	acts := g.recv(pusher, gossipMsg(0), block(0))
	if find(acts, engine.Write, 0) == nil || find(acts, engine.Verify, 0) == nil {
		t.Fatalf("the pushed block was not taken: %v", acts)
	}
	if st := g.e.Stats(); st.Useless != 0 || st.Wasted != 0 {
		t.Fatalf("a push of a piece being pulled counted as useless: %+v", st)
	}
	g.e.PieceVerified(0, true, g.now)
	g.e.Actions(nil)
	// The pull target answers that it lacks the piece: nothing more to do.
	if acts := g.recv(puller, gossipMsg(2)); find(acts, engine.Close, 0) != nil {
		t.Fatalf("the failed pull's answer closed the connection: %v", acts)
	}
	if !g.e.Seeding() {
		t.Fatal("the piece pushed during a pull did not complete")
	}
}

// TestGossipSecondCopyIsWasted: when both the pull and a push deliver the
// piece, the second copy is wasted, not unrequested (which would count
// towards dropping the peer), and no cancel goes out: a gossip transfer
// is a whole piece that a cancel does not withdraw.
func TestGossipSecondCopyIsWasted(t *testing.T) {
	g := newGossiper(t, engine.PushPull, onePiece, false)
	const puller, pusher = 1, 2
	g.connect(puller, true)
	g.round() // pulls piece 0 from the only partner
	g.connect(pusher, true)
	acts := g.recv(pusher, gossipMsg(0), block(0))
	if find(acts, engine.Send, wire.Cancel) != nil {
		t.Fatalf("a cancel went out in gossip mode: %v", acts)
	}
	g.recv(puller, block(0)) // while the pushed copy is being verified
	if st := g.e.Stats(); st.Wasted != engine.BlockSize || st.Useless != 0 {
		t.Fatalf("second copy: %+v; want one block wasted, no useless push", st)
	}
}

// TestGossipSecondPushIsUseless: a push of a piece another push is
// already bringing is refused and its blocks thrown away.
func TestGossipSecondPushIsUseless(t *testing.T) {
	g := newGossiper(t, engine.Push, onePiece, false)
	g.connect(1, true)
	g.connect(2, true)
	g.recv(1, gossipMsg(0))
	acts := g.recv(2, gossipMsg(0), block(0))
	if find(acts, engine.Write, 0) != nil {
		t.Fatalf("a redundant push's block was written: %v", acts)
	}
	if st := g.e.Stats(); st.Useless != 1 || st.Wasted != engine.BlockSize {
		t.Fatalf("second push: %+v; want one useless push, its block wasted", st)
	}
}

// TestGossipOnePushInFlight: a pusher does not push again to a peer whose
// last push has not left the link, however small the piece. The guard
// once looked only at the blocks not yet handed to the driver, which a
// piece within the upload window never has.
func TestGossipOnePushInFlight(t *testing.T) {
	g := newGossiper(t, engine.Push, engine.Layout{PieceLength: engine.BlockSize, TotalLength: 4 * engine.BlockSize}, true)
	const c = 1
	g.connect(c, false)
	uploads := func(acts []engine.Action) int {
		n := 0
		for _, a := range acts {
			if a.Kind == engine.Upload && a.Conn == c {
				n++
			}
		}
		return n
	}
	if n := uploads(g.round()); n != 1 {
		t.Fatalf("first round: %d uploads, want one push of one block", n)
	}
	if n := uploads(g.round()); n != 0 {
		t.Fatalf("second round, first push still on the link: %d uploads, want none", n)
	}
	g.e.UploadDone(c, engine.BlockSize, g.now)
	g.e.Actions(nil)
	if n := uploads(g.round()); n != 1 {
		t.Fatalf("round after the push left: %d uploads, want the next push", n)
	}
}

// TestGossipFromAPeerThatDidNotOfferIt: BEP 10 lets a peer send us
// messages under the id we offered without offering its own, so a pull
// can come from a peer we have no id to answer under. A pull for a piece
// we lack then crashed the engine, answering "none" to a peer with no
// gossip state (found by FuzzEngine). It is not answered now, and a peer
// that withdraws the extension (id 0, BEP 10) gets no more gossip.
func TestGossipFromAPeerThatDidNotOfferIt(t *testing.T) {
	for _, tc := range []struct {
		name      string
		offered   bool   // it offers gossip first
		handshake string // its (next) extended handshake, if any
	}{
		{"no handshake", false, ""},
		{"handshake without gossip", false, "d1:v4:teste"},
		{"gossip withdrawn", true, "d1:md15:swarmlab_gossipi0ee1:v4:teste"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGossiper(t, engine.PushPull, onePiece, false)
			const c = 5
			if tc.offered {
				g.connect(c, true)
			} else {
				g.e.AddPeer(c, engine.PeerInfo{Reserved: wire.Reserved{}.WithFast(true).WithExtensions(true)}, g.now)
				g.recv(c, wire.Message{Type: wire.HaveAll})
			}
			if tc.handshake != "" {
				g.recv(c, wire.Message{Type: wire.Extended, Payload: []byte(tc.handshake)})
			}
			acts := g.recv(c, gossipMsg(1)) // a pull of piece 0, which we lack
			acts = append(acts, g.round()...)
			for _, a := range acts {
				if a.Kind == engine.Send && a.Msg.Type == wire.Extended && a.Msg.ExtendedID != 0 {
					t.Errorf("sent it gossip under id %d: %s", a.Msg.ExtendedID, a.Msg.Payload)
				}
				if a.Kind == engine.Close {
					t.Errorf("dropped it: %s", a.Reason)
				}
			}
		})
	}
}
