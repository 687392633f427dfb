package engine_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/choker"
	"github.com/swarmlab/swarmlab/engine"
	"github.com/swarmlab/swarmlab/picker"
	"github.com/swarmlab/swarmlab/wire"
)

// TestActionsHandOverWithoutAliasing takes actions into an empty slice
// (which trades arrays with the engine's buffer) and into one that holds
// some already (which appends), and checks that neither loses what it
// held or sees it overwritten by the actions that follow.
func TestActionsHandOverWithoutAliasing(t *testing.T) {
	e := newEngine(t, false)
	addPeer(e, true)

	// Have all makes us interested; the unchoke after it, requests.
	e.Receive(conn, &wire.Message{Type: wire.HaveAll}, time.Second)
	first := e.Actions(make([]engine.Action, 0, 8)) // empty: trades arrays
	if find(first, engine.Send, wire.Interested) == nil {
		t.Fatalf("have all: got %v, want an interested message", first)
	}
	kept := append([]engine.Action(nil), first...)

	e.Receive(conn, &wire.Message{Type: wire.Unchoke}, time.Second)
	marker := engine.Action{Kind: engine.Completed}
	second := e.Actions([]engine.Action{marker}) // not empty: appends
	if len(second) < 2 || second[0].Kind != engine.Completed || find(second[1:], engine.Send, wire.Request) == nil {
		t.Fatalf("unchoke: got %v, want the marker and then requests", second)
	}
	for i := range kept {
		if first[i].Kind != kept[i].Kind || first[i].Msg.Type != kept[i].Msg.Type {
			t.Fatalf("the first actions changed after the next were taken: %v, was %v", first, kept)
		}
	}
}

// TestTakeActionsSendEach: a verified piece's HAVEs come from
// TakeActions as SendEach actions and from Actions as one Send a
// connection, in the same order. A message to one of the peers in
// between (NOT_INTERESTED to the peer whose only piece we now have)
// splits the HAVEs into two SendEach actions around it, and a seed,
// which needs no HAVE, is in neither.
func TestTakeActionsSendEach(t *testing.T) {
	have0 := wire.Message{Type: wire.Have, Index: 0}
	notInterested := wire.Message{Type: wire.NotInterested}
	// Peers in the order they join: 2 lacks everything, 1 has piece 0
	// only, 3 lacks everything, 4 is a seed.
	wantSends := []engine.Action{
		{Kind: engine.Send, Conn: 2, Msg: have0},
		{Kind: engine.Send, Conn: 1, Msg: notInterested},
		{Kind: engine.Send, Conn: 1, Msg: have0},
		{Kind: engine.Send, Conn: 3, Msg: have0},
	}
	wantBatch := []engine.Action{
		{Kind: engine.SendEach, Msg: have0, Conns: []engine.ConnID{2}},
		{Kind: engine.Send, Conn: 1, Msg: notInterested},
		{Kind: engine.SendEach, Msg: have0, Conns: []engine.ConnID{1, 3}},
	}
	same := func(got, want []engine.Action) bool {
		if len(got) != len(want) {
			return false
		}
		for i := range got {
			g, w := got[i], want[i]
			if g.Kind != w.Kind || g.Conn != w.Conn || g.Msg.Type != w.Msg.Type || g.Msg.Index != w.Msg.Index || !slices.Equal(g.Conns, w.Conns) {
				return false
			}
		}
		return true
	}
	for _, whole := range []bool{false, true} {
		e := pieceZeroFromPeer1(t)
		e.PieceVerified(0, true, time.Second)
		var got, want []engine.Action
		if whole {
			var batch engine.ActionBatch
			e.TakeActions(&batch)
			got, want = batch.Acts, wantBatch
		} else {
			got, want = e.Actions(nil), wantSends
		}
		if !same(got, want) {
			t.Errorf("whole=%v: got %v, want %v", whole, got, want)
		}
	}
}

// pieceZeroFromPeer1 returns an engine that has received piece 0 from
// peer 1 and asked for its verification. Peers 2, 1, 3 and 4 joined in
// that order; 1 has piece 0 only, 4 every piece, 2 and 3 none.
func pieceZeroFromPeer1(t *testing.T) *engine.Torrent {
	t.Helper()
	e := newEngine(t, false)
	fast := engine.PeerInfo{Reserved: wire.Reserved{}.WithFast(true)}
	for _, p := range []struct {
		c     engine.ConnID
		first wire.Message
	}{
		{2, wire.Message{Type: wire.HaveNone}},
		{1, wire.Message{Type: wire.Bitfield, Bitfield: []byte{0x80}}},
		{3, wire.Message{Type: wire.HaveNone}},
		{4, wire.Message{Type: wire.HaveAll}},
	} {
		e.AddPeer(p.c, fast, 0)
		e.Receive(p.c, &p.first, 0)
	}
	e.Actions(nil)
	e.Receive(1, &wire.Message{Type: wire.Unchoke}, time.Second)
	block := make([]byte, engine.BlockSize)
	for _, a := range e.Actions(nil) {
		if a.Kind == engine.Send && a.Msg.Type == wire.Request {
			e.Receive(1, &wire.Message{Type: wire.Piece, Index: a.Msg.Index, Begin: a.Msg.Begin, Block: block}, time.Second)
		}
	}
	if find(e.Actions(nil), engine.Verify, 0) == nil {
		t.Fatal("piece 0 not sent for verification")
	}
	return e
}

// TestPending: an engine has actions pending from an input until they
// are taken, and never for another torrent's actions in a shared buffer.
func TestPending(t *testing.T) {
	var shared engine.ActionBuffer
	engines := make([]*engine.Torrent, 2)
	for i := range engines {
		e, err := engine.New(engine.Config{Layout: smallLayout, Picker: picker.Rarest{}, Choker: choker.NewTitForTat(),
			Rand: rand.New(rand.NewPCG(1, 1)), Actions: &shared})
		if err != nil {
			t.Fatal(err)
		}
		engines[i] = e
	}
	a, b := engines[0], engines[1]
	if a.Pending() || b.Pending() {
		t.Fatal("new engines have actions pending")
	}
	a.AddPeer(conn, engine.PeerInfo{}, 0)
	a.Receive(conn, &wire.Message{Type: wire.Have, Index: 1}, time.Second) // makes a interested
	if !a.Pending() || b.Pending() {
		t.Fatalf("after a's input: pending a=%v b=%v, want true false", a.Pending(), b.Pending())
	}
	if acts := a.Actions(nil); find(acts, engine.Send, wire.Interested) == nil {
		t.Fatalf("a's actions %v lack its interest", acts)
	}
	if a.Pending() {
		t.Fatal("a still pending after its actions were taken")
	}
	var batch engine.ActionBatch
	b.AddPeer(conn, engine.PeerInfo{}, 0)
	b.Receive(conn, &wire.Message{Type: wire.Have, Index: 1}, time.Second)
	b.TakeActions(&batch)
	if b.Pending() || len(batch.Acts) == 0 {
		t.Fatalf("after TakeActions: pending %v, %d actions taken", b.Pending(), len(batch.Acts))
	}
}
