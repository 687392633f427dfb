package engine

import (
	"fmt"

	"github.com/swarmlab/swarmlab/choker"
	"github.com/swarmlab/swarmlab/wire"
)

// ConnID identifies one peer connection. The driver chooses it and must
// not reuse it while the engine knows the connection.
type ConnID uint64

// ActionKind says what an Action asks the driver to do.
type ActionKind uint8

const (
	// Send: write Msg to Conn.
	Send ActionKind = iota + 1
	// Upload: read Length bytes at (Piece, Begin) from storage and send
	// them to Conn as a piece message, then report UploadDone.
	Upload
	// Write: store Data at (Piece, Begin). Data aliases the message given
	// to Receive; the driver must copy it or finish with it before the
	// message's buffer is reused.
	Write
	// Verify: hash Piece and report PieceVerified.
	Verify
	// Close: close Conn, then report RemovePeer. Ban: refuse the peer's
	// address from now on. Reason says why, for the log.
	Close
	// Completed: the last piece was verified (announce "completed").
	Completed
	// Shape: cap the upload to Conn at Rate bytes/s (0: no cap of its
	// own), as the choker decided.
	Shape
)

func (k ActionKind) String() string {
	switch k {
	case Send:
		return "send"
	case Upload:
		return "upload"
	case Write:
		return "write"
	case Verify:
		return "verify"
	case Close:
		return "close"
	case Completed:
		return "completed"
	case Shape:
		return "shape"
	}
	return fmt.Sprintf("ActionKind(%d)", uint8(k))
}

// ActionBuffer holds actions not yet taken with Torrent.Actions; see
// Config.Actions. It also lends a rechoke its working space, which every
// rechoke fills afresh, so torrents that share the buffer share that
// too. The zero value is ready to use.
type ActionBuffer struct {
	acts  []Action
	owner *Torrent // whose actions acts holds, while it holds any

	rechoke rechokeScratch
}

// rechokeScratch is the working space of one rechoke: the choker's view
// and answer, and the answer by peer. Kept by every engine, it was 3.7
// KiB per simulated peer in a heap profile of bigswarm at 10,000
// leechers.
type rechokeScratch struct {
	view     choker.View
	unchokes []choker.Unchoke
	unchoke  []bool
	rates    []float64
}

// add appends a to t's actions, refusing to mix two torrents' actions:
// the driver would carry them out on the wrong connections.
func (b *ActionBuffer) add(t *Torrent, a Action) {
	if len(b.acts) == 0 {
		b.owner = t
	} else if b.owner != t {
		panic("engine: a shared ActionBuffer holds another torrent's actions; take them with Actions first")
	}
	b.acts = append(b.acts, a)
}

// take appends t's actions to dst and empties the buffer.
//
// An empty dst trades places with the buffer instead: the caller gets the
// buffer's array and the buffer keeps dst's for the next actions, so an
// action is written once rather than written, copied and cleared. A HAVE
// to each neighbour for every piece makes these copies a large share of
// a simulated world's memory traffic. dst's elements past its length
// are overwritten before they are read, but stay reachable until then:
// a caller that wants message buffers let go clears dst first.
func (b *ActionBuffer) take(t *Torrent, dst []Action) []Action {
	if len(b.acts) == 0 || b.owner != t {
		return dst
	}
	b.owner = nil
	if len(dst) == 0 {
		acts := b.acts
		b.acts = dst
		return acts
	}
	dst = append(dst, b.acts...)
	clear(b.acts) // drop references to message buffers
	b.acts = b.acts[:0]
	return dst
}

// Action is one thing the engine asks the driver to do.
type Action struct {
	Kind   ActionKind
	Conn   ConnID
	Msg    wire.Message
	Piece  uint32
	Begin  uint32
	Length uint32
	Data   []byte
	Ban    bool
	Reason string
	Rate   float64
}

func (a Action) String() string {
	switch a.Kind {
	case Send:
		return fmt.Sprintf("send %v to %d (piece %d begin %d len %d)", a.Msg.Type, a.Conn, a.Msg.Index, a.Msg.Begin, a.Msg.Length)
	case Upload:
		return fmt.Sprintf("upload %d/%d+%d to %d", a.Piece, a.Begin, a.Length, a.Conn)
	case Write:
		return fmt.Sprintf("write %d/%d+%d", a.Piece, a.Begin, len(a.Data))
	case Verify:
		return fmt.Sprintf("verify %d", a.Piece)
	case Close:
		return fmt.Sprintf("close %d ban=%v: %s", a.Conn, a.Ban, a.Reason)
	case Shape:
		return fmt.Sprintf("shape %d to %.0f B/s", a.Conn, a.Rate)
	}
	return a.Kind.String()
}
