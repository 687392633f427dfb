package engine_test

import (
	"testing"

	"github.com/swarmlab/swarmlab/engine"
	"github.com/swarmlab/swarmlab/wire"
)

// TestRefActsAsTheID: messages through a connection's ref do what they do
// through its id, Warm through the ref reads the same state, and once
// the connection is removed, or with the zero ref, they do nothing.
func TestRefActsAsTheID(t *testing.T) {
	script := []wire.Message{
		{Type: wire.Bitfield, Bitfield: []byte{0x00}},
		{Type: wire.Unchoke},
		{Type: wire.Have, Index: 1},
		{Type: wire.Interested},
		{Type: wire.Have, Index: 2},
		{Type: wire.Have, Index: 99}, // out of range: dropped
	}
	byID, byRef := newWarmTorrent(t), newWarmTorrent(t)
	ref := byRef.Ref(1)
	if ref == (engine.PeerRef{}) {
		t.Fatal("Ref of a connection is the zero ref")
	}
	for i := range script {
		m := &script[i]
		if a, b := byID.Warm(1, m), byRef.WarmRef(ref, m); a != b {
			t.Errorf("before %v: Warm %d, WarmRef %d", m.Type, a, b)
		}
		byID.Receive(1, m, 0)
		byRef.ReceiveRef(ref, m, 0)
		if a, b := byID.Actions(nil), byRef.Actions(nil); !sameActions(a, b) {
			t.Fatalf("after %v: actions %v by id, %v by ref", m.Type, a, b)
		}
	}

	// A fresh connection that has shown no pieces: a HAVE of one we lack
	// would make us interested, and so send something.
	fresh := newWarmTorrent(t)
	ref = fresh.Ref(1)
	fresh.Receive(1, &wire.Message{Type: wire.Bitfield, Bitfield: []byte{0x00}}, 0)
	fresh.RemovePeer(1, 0)
	fresh.Actions(nil)
	have := &wire.Message{Type: wire.Have, Index: 3}
	fresh.ReceiveRef(ref, have, 0)
	fresh.ReceiveRef(engine.PeerRef{}, have, 0)
	if acts := fresh.Actions(nil); len(acts) != 0 {
		t.Errorf("through a removed connection's ref and the zero ref: actions %v, want none", acts)
	}
	if got := fresh.Ref(1); got != (engine.PeerRef{}) {
		t.Errorf("Ref of a removed connection is not the zero ref")
	}
}
