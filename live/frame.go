package live

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/swarmlab/swarmlab/wire"
)

// frameReader reads peer messages as wire.Reader does, with one
// difference: a piece message's block is read straight from the socket
// into a buffer the caller supplies (from the block pool). Through a
// buffered reader every downloaded byte was copied twice in user space:
// into the reader's buffer, then out to the block; that second copy was
// an eighth of the downloader's CPU.
//
// Straight means: once the bytes of a block already buffered are copied
// out, the rest of the block is read with one readv that also takes the
// next frame's header (length, id, index, begin: 13 bytes) into the
// buffer. After a piece, the reader guesses that another piece follows
// and reads no further than that header, so in a steady stream of pieces
// every block arrives where it belongs and nothing is copied. Other
// messages are read from the buffer in large reads, as a buffered reader
// would.
type frameReader struct {
	src io.Reader
	// vec is src's vectored read, nil when src is not a socket (a test's
	// pipe); the rest of a block is then read on its own.
	vec       vectorReader
	lim       wire.Limits
	max       int
	buf       []byte // input read ahead: buf[r:w]
	r, w      int
	big       []byte // a frame longer than buf, reused
	lastPiece bool   // the last message was a piece: expect another
	// copied counts block bytes copied out of buf rather than read
	// straight into their block, for the tests that hold it near zero.
	copied int64
}

// vectorReader reads into a and then b in one call, as readv(2) does; it
// returns how many bytes it read in all.
type vectorReader interface {
	readv(a, b []byte) (int, error)
}

// frameBuffer is the read-ahead size: that of the bufio.Reader it
// replaced, a few blocks.
const frameBuffer = 64 << 10

// pieceHeader is a piece message's id, index and begin.
const pieceHeader = 1 + 4 + 4

// pieceFrameHeader is a piece frame up to its block: the length prefix
// and the piece header.
const pieceFrameHeader = 4 + pieceHeader

func newFrameReader(src io.Reader, lim wire.Limits) *frameReader {
	return newFrameReaderSize(src, lim, frameBuffer)
}

// newFrameReaderSize is newFrameReader with a read-ahead of size bytes
// (at least pieceFrameHeader), small in tests so that frames outgrow it.
func newFrameReaderSize(src io.Reader, lim wire.Limits, size int) *frameReader {
	if lim.MaxBlock <= 0 {
		lim.MaxBlock = wire.DefaultMaxBlock
	}
	return &frameReader{src: src, vec: newVectorReader(src), lim: lim, max: lim.MaxFrame(), buf: make([]byte, max(size, pieceFrameHeader))}
}

// next reads the next message. block is called with a piece message's
// block length and returns the buffer to read the block into, or false
// to stop (the error is then errTorrentClosed); the message's Block is
// that buffer, which then belongs to the caller even when next fails.
// Other messages' slices point into the reader's buffer and are valid
// only until the next call, as with wire.Reader.
func (r *frameReader) next(block func(n int) ([]byte, bool)) (m wire.Message, err error) {
	if err := r.fill(4, r.headerReach(4)); err != nil {
		if r.w > r.r && err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return wire.Message{}, err
	}
	n := int(binary.BigEndian.Uint32(r.buf[r.r:]))
	if n == 0 {
		r.r += 4
		return wire.Message{KeepAlive: true}, nil
	}
	if n > r.max {
		return wire.Message{}, &wire.ProtocolError{Msg: fmt.Sprintf("frame of %d bytes exceeds the limit of %d", n, r.max)}
	}
	// A piece message whose block is within the limit is read here;
	// anything else, malformed pieces included, goes through
	// wire.ParseMessage. The header is never read past this frame,
	// which may be all the peer has sent.
	if n >= pieceHeader && n-pieceHeader <= r.lim.MaxBlock {
		if err := r.fill(pieceFrameHeader, r.headerReach(pieceFrameHeader)); err != nil {
			return wire.Message{}, fmt.Errorf("wire: reading %d-byte frame: %w", n, unexpectedEOF(err))
		}
		if hdr := r.buf[r.r:]; wire.Type(hdr[4]) == wire.Piece {
			m = wire.Message{Type: wire.Piece, Index: binary.BigEndian.Uint32(hdr[5:]), Begin: binary.BigEndian.Uint32(hdr[9:])}
			r.r += pieceFrameHeader
			b, ok := block(n - pieceHeader)
			if !ok {
				return wire.Message{}, errTorrentClosed
			}
			m.Block = b
			r.lastPiece = true
			if err := r.readBlock(b); err != nil {
				return m, fmt.Errorf("wire: reading %d-byte frame: %w", n, unexpectedEOF(err))
			}
			return m, nil
		}
	}
	r.lastPiece = false
	r.r += 4
	var frame []byte
	if n <= len(r.buf) {
		if err := r.fill(n, len(r.buf)); err != nil {
			return wire.Message{}, fmt.Errorf("wire: reading %d-byte frame: %w", n, unexpectedEOF(err))
		}
		frame = r.buf[r.r : r.r+n]
		r.r += n
	} else {
		if cap(r.big) < n {
			r.big = make([]byte, n)
		}
		frame = r.big[:n]
		k := copy(frame, r.buf[r.r:r.w])
		r.r += k
		if _, err := io.ReadFull(r.src, frame[k:]); err != nil {
			return wire.Message{}, fmt.Errorf("wire: reading %d-byte frame: %w", n, unexpectedEOF(err))
		}
	}
	return wire.ParseMessage(frame, r.lim)
}

// headerReach is how far ahead a fill for a frame header of need bytes
// may read: after a piece, only to the end of the next piece's header,
// so that the block behind it is left in the socket for readBlock; after
// anything else, as far as the buffer goes.
func (r *frameReader) headerReach(need int) int {
	if r.lastPiece {
		return max(need, pieceFrameHeader)
	}
	return len(r.buf)
}

// fill reads until at least need bytes are buffered, reading at most
// reach bytes ahead of r.r (reach >= need).
func (r *frameReader) fill(need, reach int) error {
	if r.w-r.r >= need {
		return nil
	}
	if r.r+reach > len(r.buf) {
		r.w = copy(r.buf, r.buf[r.r:r.w])
		r.r = 0
	}
	for r.w-r.r < need {
		k, err := r.src.Read(r.buf[r.w : r.r+reach])
		r.w += k
		if r.w-r.r >= need {
			return nil
		}
		if err := stalled(k, err); err != nil {
			return err
		}
	}
	return nil
}

// stalled is why a read that fell short cannot go on: its error, or
// io.ErrNoProgress for a reader that returned nothing and no error.
func stalled(k int, err error) error {
	if err == nil && k == 0 {
		return io.ErrNoProgress
	}
	return err
}

// readBlock fills b: first from what is buffered, then from the source,
// with the next frame's header read into the buffer in the same call
// when the source reads vectored.
func (r *frameReader) readBlock(b []byte) error {
	k := copy(b, r.buf[r.r:r.w])
	r.r += k
	r.copied += int64(k)
	b = b[k:]
	if len(b) == 0 {
		return nil
	}
	// Nothing is buffered now.
	r.r, r.w = 0, 0
	for len(b) > 0 {
		var k int
		var err error
		if r.vec != nil {
			k, err = r.vec.readv(b, r.buf[:pieceFrameHeader])
		} else {
			k, err = r.src.Read(b)
		}
		if k > len(b) {
			r.w = k - len(b)
			k = len(b)
		}
		b = b[k:]
		if len(b) == 0 {
			return nil
		}
		if err := stalled(k, err); err != nil {
			return err
		}
	}
	return nil
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
