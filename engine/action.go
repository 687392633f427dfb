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
	// SendEach: write Msg to each of Conns, in their order. Only
	// Torrent.TakeActions gives it; Actions gives one Send per
	// connection instead.
	SendEach
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
	case SendEach:
		return "send each"
	}
	return fmt.Sprintf("ActionKind(%d)", uint8(k))
}

// ActionBuffer holds actions not yet taken with Torrent.Actions; see
// Config.Actions. It also lends a rechoke its working space, which every
// rechoke fills afresh, so torrents that share the buffer share that
// too. The zero value is ready to use.
type ActionBuffer struct {
	acts []Action
	// conns holds the connections of the SendEach actions in acts, each
	// action's a run of it.
	conns []ConnID
	owner *Torrent // whose actions acts holds, while it holds any
	// haveRun: the last action is a SendEach of a HAVE of havePiece,
	// which the next HAVE of that piece joins. It could be read off the
	// last action, but then sendHave no longer inlines: 1.6% more
	// instructions in a simulated world (callgrind, 100 leechers).
	// add and seal clear it; startHave sets it.
	haveRun   bool
	havePiece uint32

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
	b.haveRun = false
}

// sendHave asks for a HAVE of piece to c: it joins the last action if
// that is a SendEach of the same HAVE, and starts one otherwise. A
// verified piece is announced to every neighbour that lacks it, most of a
// large simulated world's messages; as one action for all of them it is
// written once, and a driver that takes it whole (TakeActions) handles
// the message once, rather than an Action (184 bytes then) a neighbour.
// Joining only the last action keeps every action's order: a message
// sent in between starts a new SendEach after it.
func (b *ActionBuffer) sendHave(t *Torrent, c ConnID, piece uint32) {
	if !b.haveRun || b.havePiece != piece || b.owner != t {
		b.startHave(t, piece) // kept apart so that sendHave inlines
	}
	b.conns = append(b.conns, c)
}

// startHave starts a SendEach of a HAVE of piece.
func (b *ActionBuffer) startHave(t *Torrent, piece uint32) {
	b.add(t, Action{Kind: SendEach, Msg: wire.Message{Type: wire.Have, Index: piece}, first: int32(len(b.conns))})
	b.haveRun, b.havePiece = true, piece
}

// seal gives each SendEach its Conns: its run of conns ends where the
// next one's begins. Setting them as connections join was a pointer
// store, with its write barrier check, for every HAVE.
func (b *ActionBuffer) seal() {
	end := len(b.conns)
	for i := len(b.acts) - 1; i >= 0 && end > 0; i-- {
		if a := &b.acts[i]; a.Kind == SendEach {
			a.Conns = b.conns[a.first:end:end]
			end = int(a.first)
		}
	}
	b.haveRun = false
}

// take appends t's actions to dst and empties the buffer, a SendEach as
// one Send a connection.
//
// An empty dst trades places with the buffer instead, when no SendEach
// needs spelling out: the caller gets the buffer's array and the buffer
// keeps dst's for the next actions, so an action is written once rather
// than written, copied and cleared. dst's elements past its length are
// overwritten before they are read, but stay reachable until then: a
// caller that wants message buffers let go clears dst first.
func (b *ActionBuffer) take(t *Torrent, dst []Action) []Action {
	if len(b.acts) == 0 || b.owner != t {
		return dst
	}
	b.owner = nil
	b.seal()
	if len(dst) == 0 && len(b.conns) == 0 {
		acts := b.acts
		b.acts = dst
		return acts
	}
	if len(b.conns) == 0 {
		dst = append(dst, b.acts...) // no SendEach to spell out
	} else {
		dst = b.spellOut(dst)
	}
	clear(b.acts) // drop references to message buffers
	b.acts = b.acts[:0]
	b.conns = b.conns[:0]
	return dst
}

// spellOut appends the actions to dst with each SendEach as one Send a
// connection, in order.
func (b *ActionBuffer) spellOut(dst []Action) []Action {
	for i := range b.acts {
		a := &b.acts[i]
		if a.Kind != SendEach {
			dst = append(dst, *a)
			continue
		}
		for _, c := range a.Conns {
			dst = append(dst, Action{Kind: Send, Conn: c, Msg: a.Msg})
		}
	}
	return dst
}

// ActionBatch holds actions taken whole with Torrent.TakeActions. Acts
// is valid until the batch is given to TakeActions again; the Conns of
// its SendEach actions are stored in the batch too.
type ActionBatch struct {
	Acts  []Action
	conns []ConnID
}

// takeBatch replaces batch's contents with t's actions, SendEach
// actions as they are, and empties the buffer. The batch and the buffer
// trade arrays: an action is written once, where copying it out was most
// of the cost of the HAVEs a simulated world sends.
func (b *ActionBuffer) takeBatch(t *Torrent, batch *ActionBatch) {
	clear(batch.Acts) // drop references to message buffers
	acts, conns := batch.Acts[:0], batch.conns[:0]
	if len(b.acts) == 0 || b.owner != t {
		batch.Acts, batch.conns = acts, conns
		return
	}
	b.owner = nil
	b.seal()
	batch.Acts, batch.conns = b.acts, b.conns
	b.acts, b.conns = acts, conns
}

// Action is one thing the engine asks the driver to do. Its fields are
// ordered to leave little padding: a simulated world writes hundreds of
// millions of them.
type Action struct {
	Kind   ActionKind
	Ban    bool
	Conn   ConnID
	Msg    wire.Message
	Piece  uint32
	Begin  uint32
	Length uint32
	// first is where a SendEach's connections begin in its buffer's
	// conns, until they are taken (ActionBuffer.seal).
	first  int32
	Data   []byte
	Reason string
	Rate   float64
	// Conns: a SendEach's connections.
	Conns []ConnID
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
	case SendEach:
		return fmt.Sprintf("send %v to each of %v (piece %d)", a.Msg.Type, a.Conns, a.Msg.Index)
	}
	return a.Kind.String()
}
