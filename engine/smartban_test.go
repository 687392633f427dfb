package engine_test

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/choker"
	"github.com/swarmlab/swarmlab/engine"
	"github.com/swarmlab/swarmlab/picker"
	"github.com/swarmlab/swarmlab/wire"
)

// TestSmartBanConvictsTheBadBlocksSender: a piece of two blocks, one from
// a liar and one from an honest peer, fails; the driver hands over the
// failed bytes; the piece then comes again from the honest peer alone and
// verifies. Comparing the two attempts block by block convicts the liar
// after this single failure, long before the count of failures would
// (BanAfter 3), and spares the honest peer. Without the failed bytes
// there is nothing to compare and nobody is banned yet.
func TestSmartBanConvictsTheBadBlocksSender(t *testing.T) {
	for _, giveData := range []bool{true, false} {
		banned := smartBanRun(t, giveData)
		switch {
		case giveData && !bytes.Equal(banned, []byte{liar}):
			t.Errorf("with the failed data: banned %v, want only the liar (%d)", banned, liar)
		case !giveData && len(banned) != 0:
			t.Errorf("without the failed data: banned %v after one failure, want nobody", banned)
		}
	}
}

const liar, honest = 1, 2

// smartBanRun plays the scenario and returns the connections banned.
func smartBanRun(t *testing.T, giveData bool) (banned []byte) {
	t.Helper()
	layout := engine.Layout{PieceLength: 2 * engine.BlockSize, TotalLength: 2 * engine.BlockSize}
	e, err := engine.New(engine.Config{
		Layout: layout, Picker: picker.Rarest{}, Choker: choker.NewTitForTat(),
		Rand: rand.New(rand.NewPCG(1, 1)), Fast: true, Extensions: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Second
	var acts []engine.Action
	give := func(c engine.ConnID, msgs ...wire.Message) {
		for i := range msgs {
			e.Receive(c, &msgs[i], now)
			acts = e.Actions(acts)
		}
	}
	requests := func(c engine.ConnID) []wire.Message {
		var out []wire.Message
		for _, a := range acts {
			if a.Kind == engine.Send && a.Conn == c && a.Msg.Type == wire.Request {
				out = append(out, a.Msg)
			}
		}
		acts = acts[:0]
		return out
	}
	good := make([]byte, engine.BlockSize)
	bad := bytes.Repeat([]byte{0xff}, engine.BlockSize)
	for _, c := range []engine.ConnID{liar, honest} {
		e.AddPeer(c, engine.PeerInfo{Reserved: wire.Reserved{}.WithFast(true).WithExtensions(true)}, now)
		e.Actions(nil)
		give(c, wire.Message{Type: wire.HaveAll})
	}
	acts = acts[:0]

	// The liar is unchoked first and asked for both blocks: it sends a
	// bad block 0 and rejects block 1, which then goes to the honest peer.
	give(liar, wire.Message{Type: wire.Unchoke})
	if reqs := requests(liar); len(reqs) != 2 {
		t.Fatalf("asked the liar for %v, want both blocks", reqs)
	}
	give(liar, wire.Message{Type: wire.Piece, Index: 0, Begin: 0, Block: bad},
		wire.Message{Type: wire.Reject, Index: 0, Begin: engine.BlockSize, Length: engine.BlockSize},
		wire.Message{Type: wire.Choke})
	acts = acts[:0]
	give(honest, wire.Message{Type: wire.Unchoke})
	if reqs := requests(honest); len(reqs) != 1 || reqs[0].Begin != engine.BlockSize {
		t.Fatalf("asked the honest peer for %v, want block 1", reqs)
	}
	give(honest, wire.Message{Type: wire.Piece, Index: 0, Begin: engine.BlockSize, Block: good})
	if giveData {
		e.FailedPiece(0, append(append([]byte(nil), bad...), good...))
	}
	e.PieceVerified(0, false, now)
	acts = e.Actions(acts[:0])

	// On parole, the piece comes from the honest peer alone, and is good.
	reqs := requests(honest)
	if len(reqs) != 2 {
		t.Fatalf("after the failure, asked the honest peer for %v, want both blocks", reqs)
	}
	for _, r := range reqs {
		give(honest, wire.Message{Type: wire.Piece, Index: 0, Begin: r.Begin, Block: good})
	}
	e.PieceVerified(0, true, now)
	for _, a := range e.Actions(acts[:0]) {
		if a.Kind == engine.Close && a.Ban {
			banned = append(banned, byte(a.Conn))
		}
	}
	return banned
}
