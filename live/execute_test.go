package live

import (
	"bytes"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/choker"
	"github.com/swarmlab/swarmlab/engine"
	"github.com/swarmlab/swarmlab/picker"
	"github.com/swarmlab/swarmlab/wire"
)

// TestExecuteCarriesOutWhatACloseSetsOff: closing a connection hands its
// requested blocks back, and the engine at once asks another peer for
// them. Those requests come while execute carries out the Close, and
// must go out then, not wait for the next message or tick.
//
// The torrent runs no loop here: the test calls handle itself, as the
// loop would, on connections with nothing behind them.
func TestExecuteCarriesOutWhatACloseSetsOff(t *testing.T) {
	const pieces = 32 // more than one peer's queue, so no end game
	eng, err := engine.New(engine.Config{
		Layout: engine.Layout{PieceLength: engine.BlockSize, TotalLength: pieces * engine.BlockSize},
		Picker: picker.Rarest{}, Choker: choker.NewTitForTat(),
		Rand: rand.New(rand.NewPCG(1, 2)), Fast: true, Extensions: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	tor := &Torrent{c: &Client{}, eng: eng, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		start: time.Now(), conns: map[engine.ConnID]*conn{}, history: map[netip.AddrPort]*PeerRecord{}}
	a, b := idleConn(t, tor, 1), idleConn(t, tor, 2)
	for _, c := range []*conn{a, b} {
		tor.handle(event{kind: evAdded, conn: c})
		if tor.conns[c.id] != c {
			t.Fatalf("connection %d was not added", c.id)
		}
	}
	receive := func(c *conn, m wire.Message) { tor.handle(event{kind: evMessage, conn: c, msg: m}) }

	// a has everything and unchokes us: we ask it for a queue of pieces.
	receive(a, wire.Message{Type: wire.HaveAll})
	receive(a, wire.Message{Type: wire.Unchoke})
	asked := requests(t, a)
	if len(asked) == 0 || len(asked) >= pieces {
		t.Fatalf("asked a for %d pieces, want some but not all %d", len(asked), pieces)
	}
	// b has only one of those and unchokes us: nothing to ask it yet.
	want := asked[0]
	bits := make([]byte, pieces/8)
	bits[want/8] = 0x80 >> (want % 8)
	receive(b, wire.Message{Type: wire.Bitfield, Bitfield: bits})
	receive(b, wire.Message{Type: wire.Unchoke})
	if got := requests(t, b); len(got) != 0 {
		t.Fatalf("asked b for %v while a has them all under way", got)
	}

	// a breaks the protocol: the engine closes it, and its piece is free.
	receive(a, wire.Message{Type: wire.Have, Index: pieces})
	if tor.conns[a.id] != nil {
		t.Fatal("a is still connected after a HAVE past the last piece")
	}
	if got := requests(t, b); len(got) != 1 || got[0] != want {
		t.Fatalf("after a closed, b was asked for %v, want [%d]", got, want)
	}
}

// idleConn is a connection end with nothing reading or writing it: what
// the torrent sends it stays in its queue, for requests to read.
func idleConn(t *testing.T, tor *Torrent, id engine.ConnID) *conn {
	ours, theirs := net.Pipe()
	t.Cleanup(func() { ours.Close(); theirs.Close() })
	c := &conn{id: id, t: tor, nc: ours, res: wire.Reserved{}.WithFast(true).WithExtensions(true),
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	c.peerID[0] = byte(id) // two ends with one peer id would be one peer dialed twice
	return c
}

// requests takes what the torrent has queued on c and returns the pieces
// of the requests among it.
func requests(t *testing.T, c *conn) []uint32 {
	t.Helper()
	c.mu.Lock()
	queue := c.queue
	c.queue = nil
	c.mu.Unlock()
	var frames bytes.Buffer
	for _, it := range queue {
		frames.Write(it.frame)
	}
	r := wire.NewReader(&frames, wire.Limits{})
	var pieces []uint32
	for {
		m, err := r.ReadMessage()
		if err == io.EOF {
			return pieces
		}
		if err != nil {
			t.Fatal(err)
		}
		if m.Type == wire.Request {
			pieces = append(pieces, m.Index)
		}
	}
}
