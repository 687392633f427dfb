package engine_test

import (
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/engine"
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
