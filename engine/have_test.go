package engine_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/swarmlab/swarmlab/choker"
	"github.com/swarmlab/swarmlab/engine"
	"github.com/swarmlab/swarmlab/picker"
	"github.com/swarmlab/swarmlab/wire"
)

// TestSkipRedundantHave: a verified piece is announced to every peer that
// is not a seed, or, with SkipRedundantHave, only to those that lack it.
func TestSkipRedundantHave(t *testing.T) {
	tests := []struct {
		skip bool
		want []engine.ConnID
	}{
		{false, []engine.ConnID{1, 2}},
		{true, []engine.ConnID{2}},
	}
	for _, tt := range tests {
		e, err := engine.New(engine.Config{
			Layout: smallLayout, Picker: picker.Rarest{}, Choker: choker.NewTitForTat(),
			Rand: rand.New(rand.NewPCG(1, 1)), Fast: true, SkipRedundantHave: tt.skip,
		})
		if err != nil {
			t.Fatal(err)
		}
		fast := wire.Reserved{}.WithFast(true)
		// Peer 1 has piece 0 only, peer 2 nothing, peer 3 everything.
		for c, first := range map[engine.ConnID]wire.Message{
			1: {Type: wire.Bitfield, Bitfield: []byte{0x80}},
			2: {Type: wire.HaveNone},
			3: {Type: wire.HaveAll},
		} {
			e.AddPeer(c, engine.PeerInfo{Reserved: fast}, 0)
			e.Receive(c, &first, 0)
		}
		e.Actions(nil)
		// Only peer 1 unchokes us, so piece 0 comes from it.
		e.Receive(1, &wire.Message{Type: wire.Unchoke}, 0)
		var asked []engine.Action
		for _, a := range e.Actions(nil) {
			if a.Kind == engine.Send && a.Msg.Type == wire.Request {
				asked = append(asked, a)
			}
		}
		if len(asked) != 2 || asked[0].Msg.Index != 0 {
			t.Fatalf("skip=%v: requests %v, want piece 0's two blocks", tt.skip, asked)
		}
		block := make([]byte, engine.BlockSize)
		for _, a := range asked {
			e.Receive(1, &wire.Message{Type: wire.Piece, Index: 0, Begin: a.Msg.Begin, Block: block}, 0)
		}
		if find(e.Actions(nil), engine.Verify, 0) == nil {
			t.Fatalf("skip=%v: piece 0 complete but not sent for verification", tt.skip)
		}
		e.PieceVerified(0, true, 0)
		var told []engine.ConnID
		for _, a := range e.Actions(nil) {
			if a.Kind == engine.Send && a.Msg.Type == wire.Have && a.Msg.Index == 0 {
				told = append(told, a.Conn)
			}
		}
		slices.Sort(told)
		if !slices.Equal(told, tt.want) {
			t.Errorf("skip=%v: HAVE 0 went to %v, want %v", tt.skip, told, tt.want)
		}
	}
}
