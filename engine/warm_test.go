package engine_test

import (
	"math/rand/v2"
	"testing"

	"github.com/swarmlab/swarmlab/choker"
	"github.com/swarmlab/swarmlab/engine"
	"github.com/swarmlab/swarmlab/picker"
	"github.com/swarmlab/swarmlab/wire"
)

// TestWarmReadsAndChangesNothing: Warm's result follows the state it
// reads (the peer's bit for a HAVE's piece), and a torrent warmed before
// every message acts exactly as one that is not.
func TestWarmReadsAndChangesNothing(t *testing.T) {
	newTorrent := func() *engine.Torrent { return newWarmTorrent(t) }
	script := []wire.Message{
		{Type: wire.Bitfield, Bitfield: []byte{0x80}},
		{Type: wire.Have, Index: 1},
		{Type: wire.Unchoke},
		{Type: wire.Have, Index: 2},
		{Type: wire.Have, Index: 99}, // out of range: dropped
	}
	plain, warmed := newTorrent(), newTorrent()
	for i := range script {
		m := &script[i]
		if i == 2 {
			// The peer has piece 1 now and not piece 2.
			have1, have2 := warmed.Warm(1, &wire.Message{Type: wire.Have, Index: 1}), warmed.Warm(1, &wire.Message{Type: wire.Have, Index: 2})
			if have1 == have2 {
				t.Errorf("Warm gave %d for a piece the peer has and for one it lacks", have1)
			}
		}
		warmed.Warm(1, m)
		warmed.Warm(7, m) // no such connection
		plain.Receive(1, m, 0)
		warmed.Receive(1, m, 0)
		if a, b := plain.Actions(nil), warmed.Actions(nil); !sameActions(a, b) {
			t.Fatalf("after %v: actions %v, warmed %v", m.Type, a, b)
		}
	}
	if got := warmed.Warm(7, &script[1]); got != 0 {
		t.Errorf("Warm of an unknown connection = %d, want 0", got)
	}
}

// newWarmTorrent is a torrent of smallLayout with nothing yet and one
// connection, id 1, that offered the fast extension.
func newWarmTorrent(t *testing.T) *engine.Torrent {
	t.Helper()
	e, err := engine.New(engine.Config{Layout: smallLayout, Picker: picker.Rarest{}, Choker: choker.NewTitForTat(),
		Rand: rand.New(rand.NewPCG(1, 1)), Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	e.AddPeer(1, engine.PeerInfo{Reserved: wire.Reserved{}.WithFast(true)}, 0)
	return e
}

func sameActions(a, b []engine.Action) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Kind != b[i].Kind || a[i].Conn != b[i].Conn || a[i].Msg.Type != b[i].Msg.Type ||
			a[i].Msg.Index != b[i].Msg.Index || a[i].Msg.Begin != b[i].Msg.Begin || a[i].Piece != b[i].Piece {
			return false
		}
	}
	return true
}
