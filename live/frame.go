package live

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/swarmlab/swarmlab/wire"
)

// frameReader reads peer messages as wire.Reader does, with one
// difference: a piece message's block is read straight into a buffer the
// caller supplies (from the block pool), where wire.Reader would read it
// into its own buffer, to be copied out again. That copy was a second
// pass over every downloaded byte.
type frameReader struct {
	br  *bufio.Reader
	lim wire.Limits
	max int
	buf []byte
}

func newFrameReader(br *bufio.Reader, lim wire.Limits) *frameReader {
	if lim.MaxBlock <= 0 {
		lim.MaxBlock = wire.DefaultMaxBlock
	}
	return &frameReader{br: br, lim: lim, max: lim.MaxFrame()}
}

// pieceHeader is a piece message's id, index and begin.
const pieceHeader = 1 + 4 + 4

// next reads the next message. block is called with a piece message's
// block length and returns the buffer to read the block into, or false
// to stop (the error is then errTorrentClosed); the message's Block is
// that buffer, which then belongs to the caller even when next fails.
// Other messages' slices point into the reader's buffer and are valid
// only until the next call, as with wire.Reader.
func (r *frameReader) next(block func(n int) ([]byte, bool)) (m wire.Message, err error) {
	hdr, err := r.br.Peek(4)
	if err != nil {
		if len(hdr) > 0 && err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return wire.Message{}, err
	}
	n := int(binary.BigEndian.Uint32(hdr))
	if n == 0 {
		r.br.Discard(4)
		return wire.Message{KeepAlive: true}, nil
	}
	if n > r.max {
		return wire.Message{}, &wire.ProtocolError{Msg: fmt.Sprintf("frame of %d bytes exceeds the limit of %d", n, r.max)}
	}
	// A piece message whose block is within the limit is read here;
	// anything else, malformed pieces included, goes through
	// wire.ParseMessage. Peeking never reaches past this frame, which
	// may be all the peer has sent.
	if n >= pieceHeader && n-pieceHeader <= r.lim.MaxBlock {
		if hdr, err = r.br.Peek(4 + pieceHeader); err != nil {
			return wire.Message{}, fmt.Errorf("wire: reading %d-byte frame: %w", n, unexpectedEOF(err))
		}
	}
	if len(hdr) == 4+pieceHeader && wire.Type(hdr[4]) == wire.Piece {
		m = wire.Message{Type: wire.Piece, Index: binary.BigEndian.Uint32(hdr[5:]), Begin: binary.BigEndian.Uint32(hdr[9:])}
		r.br.Discard(4 + pieceHeader)
		b, ok := block(n - pieceHeader)
		if !ok {
			return wire.Message{}, errTorrentClosed
		}
		m.Block = b
		if _, err := io.ReadFull(r.br, b); err != nil {
			return m, fmt.Errorf("wire: reading %d-byte frame: %w", n, unexpectedEOF(err))
		}
		return m, nil
	}
	r.br.Discard(4)
	if cap(r.buf) < n {
		r.buf = make([]byte, n)
	}
	r.buf = r.buf[:n]
	if _, err := io.ReadFull(r.br, r.buf); err != nil {
		return wire.Message{}, fmt.Errorf("wire: reading %d-byte frame: %w", n, unexpectedEOF(err))
	}
	return wire.ParseMessage(r.buf, r.lim)
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
