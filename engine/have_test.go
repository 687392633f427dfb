package engine_test

import (
	"maps"
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

// TestUploadOnlyEndsSeedToSeed: with SkipRedundantHave a neighbour does
// not hear of the pieces we got that it had, so our HAVEs cannot tell it
// we are complete. On completion we say so in a second extended
// handshake with BEP 21's upload_only, to the peers not known to be
// complete; a complete peer that hears it drops us, and one that we heard
// it from is dropped when we complete.
func TestUploadOnlyEndsSeedToSeed(t *testing.T) {
	ext := wire.Reserved{}.WithFast(true).WithExtensions(true)
	uploadOnly := func() wire.Message {
		m, err := wire.ExtendedHandshakeMessage(&wire.ExtendedHandshake{UploadOnly: 1})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	// completeFrom makes a leecher, connects peers 1 (has everything but
	// says so only by upload_only: its bitfield lacks piece 3), 2 (has
	// nothing) and 3 (has everything but piece 3, and does not say), and
	// has it download every piece from peer 4, a seed; it returns the
	// actions of its completion.
	completeFrom := func(skip bool) []engine.Action {
		e, err := engine.New(engine.Config{
			Layout: smallLayout, Picker: picker.Rarest{}, Choker: choker.NewTitForTat(),
			Rand: rand.New(rand.NewPCG(1, 1)), Fast: true, Extensions: true, SkipRedundantHave: skip,
		})
		if err != nil {
			t.Fatal(err)
		}
		uo := uploadOnly()
		for i, first := range [][]wire.Message{
			{{Type: wire.Bitfield, Bitfield: []byte{0xe0}}, uo},
			{{Type: wire.HaveNone}},
			{{Type: wire.Bitfield, Bitfield: []byte{0xe0}}},
			{{Type: wire.HaveAll}, {Type: wire.Unchoke}},
		} {
			c := engine.ConnID(i + 1)
			e.AddPeer(c, engine.PeerInfo{Reserved: ext}, 0)
			for i := range first {
				e.Receive(c, &first[i], 0)
			}
		}
		block := make([]byte, engine.BlockSize)
		var last []engine.Action
		for range 20 {
			acts := e.Actions(nil)
			if len(last) > 0 && len(acts) == 0 {
				break
			}
			last = acts
			for _, a := range acts {
				switch {
				case a.Kind == engine.Send && a.Msg.Type == wire.Request && a.Conn == 4:
					e.Receive(4, &wire.Message{Type: wire.Piece, Index: a.Msg.Index, Begin: a.Msg.Begin, Block: block}, 0)
				case a.Kind == engine.Verify:
					e.PieceVerified(int(a.Piece), true, 0)
				}
			}
			if find(last, engine.Completed, 0) != nil {
				return last
			}
		}
		t.Fatalf("skip=%v: never completed", skip)
		return nil
	}
	for _, skip := range []bool{false, true} {
		acts := completeFrom(skip)
		closed := map[engine.ConnID]bool{}
		told := map[engine.ConnID]bool{}
		for _, a := range acts {
			switch {
			case a.Kind == engine.Close:
				closed[a.Conn] = true
			case a.Kind == engine.Send && a.Msg.Type == wire.Extended && a.Msg.ExtendedID == wire.ExtendedHandshakeID:
				h, err := wire.ParseExtendedHandshake(a.Msg.Payload)
				if err != nil {
					t.Fatal(err)
				}
				if h.UploadOnly == 1 {
					told[a.Conn] = true
				}
			}
		}
		// Peer 4 is a seed and peer 1 said it is upload only: both
		// dropped either way.
		if !closed[1] || !closed[4] || closed[2] || closed[3] {
			t.Errorf("skip=%v: closed %v, want 1 and 4", skip, closed)
		}
		want := map[engine.ConnID]bool{}
		if skip {
			want = map[engine.ConnID]bool{2: true, 3: true}
		}
		if !maps.Equal(told, want) {
			t.Errorf("skip=%v: upload_only sent to %v, want %v", skip, told, want)
		}
	}

	// A seed told upload_only drops the peer.
	e := newEngine(t, true)
	e.AddPeer(conn, engine.PeerInfo{Reserved: ext}, 0)
	e.Actions(nil)
	if c := find(recv(e, uploadOnly()), engine.Close, 0); c == nil {
		t.Fatal("a seed kept a peer that said it is upload only")
	}
	// A leecher does not.
	e = newEngine(t, false)
	e.AddPeer(conn, engine.PeerInfo{Reserved: ext}, 0)
	e.Actions(nil)
	if c := find(recv(e, uploadOnly()), engine.Close, 0); c != nil {
		t.Fatalf("a leecher dropped an upload-only peer: %v", *c)
	}
}

// TestFirstBitfieldAllocatesNothing: a neighbour's first bitfield, or
// have none, is taken into the empty set AddPeer made for it. A new set
// for every connection (and for have none, a wire form made only to be
// read back) was garbage for every connection a simulated world opens.
func TestFirstBitfieldAllocatesNothing(t *testing.T) {
	for _, first := range []wire.Message{
		{Type: wire.HaveNone},
		{Type: wire.Bitfield, Bitfield: make([]byte, (smallLayout.NumPieces()+7)/8)},
	} {
		e, err := engine.New(engine.Config{
			Layout: smallLayout, Picker: picker.Rarest{}, Choker: choker.NewTitForTat(),
			Rand: rand.New(rand.NewPCG(1, 1)), Fast: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		const peers = 101
		fast := engine.PeerInfo{Reserved: wire.Reserved{}.WithFast(true)}
		for c := range engine.ConnID(peers) {
			e.AddPeer(c+1, fast, 0)
		}
		e.Actions(nil)
		next := engine.ConnID(0)
		// One warm-up call and then one a peer, each a peer's first.
		allocs := testing.AllocsPerRun(peers-1, func() {
			next++
			e.Receive(next, &first, 0)
		})
		if allocs != 0 {
			t.Errorf("%v: %v allocations a peer's first, want none", first.Type, allocs)
		}
		if next != peers {
			t.Fatalf("%d calls, want %d", next, peers)
		}
	}
}
