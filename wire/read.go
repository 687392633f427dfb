package wire

import (
	"encoding/binary"
	"fmt"
	"io"
)

// BlockSize is the block size every mainstream client requests and the
// largest most accept (BEP 3: "All current implementations use 2^14").
const BlockSize = 16 << 10

// Defaults for Limits' zero fields.
const (
	DefaultMaxBlock    = 128 << 10 // generous: some clients ask for larger blocks than BlockSize
	DefaultMaxExtended = 1 << 20   // BEP 9 metadata pieces are 16 KiB; PEX and handshakes far less
)

// Limits decide which frames a Reader accepts.
type Limits struct {
	// NumPieces, when positive, is the torrent's piece count: a bitfield
	// must then be exactly ceil(NumPieces/8) bytes with the spare bits
	// clear (BEP 3). Zero skips the check, for before the count is known.
	NumPieces int
	// MaxBlock is the largest block a piece message may carry.
	MaxBlock int
	// MaxExtended is the largest extended-message payload.
	MaxExtended int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBlock <= 0 {
		l.MaxBlock = DefaultMaxBlock
	}
	if l.MaxExtended <= 0 {
		l.MaxExtended = DefaultMaxExtended
	}
	return l
}

// MaxFrame is the largest length prefix the limits allow: anything longer
// is refused before a byte of it is read.
func (l Limits) MaxFrame() int {
	l = l.withDefaults()
	n := max(1+8+l.MaxBlock, 2+l.MaxExtended)
	if l.NumPieces > 0 {
		n = max(n, 1+bitfieldLen(l.NumPieces))
	} else {
		// Unknown piece count: allow a bitfield for up to 2^20 pieces.
		n = max(n, 1+bitfieldLen(1<<20))
	}
	return n
}

func bitfieldLen(pieces int) int { return (pieces + 7) / 8 }

// ProtocolError reports a frame that breaks the protocol. The connection
// it came from should be closed.
type ProtocolError struct {
	Type Type // the message type, when known
	Msg  string
}

func (e *ProtocolError) Error() string {
	return "wire: protocol error: " + e.Msg
}

func protoErr(t Type, format string, args ...any) error {
	return &ProtocolError{Type: t, Msg: fmt.Sprintf(format, args...)}
}

// Reader reads length-prefixed messages from a connection.
type Reader struct {
	r   io.Reader
	lim Limits
	max int
	buf []byte
}

// NewReader returns a Reader over r (which should be buffered).
func NewReader(r io.Reader, lim Limits) *Reader {
	lim = lim.withDefaults()
	return &Reader{r: r, lim: lim, max: lim.MaxFrame()}
}

// SetNumPieces sets the piece count once it is known (after a magnet
// link's metadata arrives), enabling the bitfield size check.
func (r *Reader) SetNumPieces(n int) {
	r.lim.NumPieces = n
	r.max = r.lim.MaxFrame()
}

// ReadMessage reads the next message. The slices in the result (Bitfield,
// Block, Payload) point into the Reader's buffer and are valid only until
// the next call; copy what must outlive it.
func (r *Reader) ReadMessage() (Message, error) {
	var prefix [4]byte
	if _, err := io.ReadFull(r.r, prefix[:]); err != nil {
		return Message{}, err
	}
	n := binary.BigEndian.Uint32(prefix[:])
	if n == 0 {
		return Message{KeepAlive: true}, nil
	}
	if uint64(n) > uint64(r.max) {
		return Message{}, protoErr(0, "frame of %d bytes exceeds the limit of %d", n, r.max)
	}
	if cap(r.buf) < int(n) {
		r.buf = make([]byte, n, max(int(n), 1+8+BlockSize))
	}
	r.buf = r.buf[:n]
	if _, err := io.ReadFull(r.r, r.buf); err != nil {
		return Message{}, fmt.Errorf("wire: reading %d-byte frame: %w", n, unexpected(err))
	}
	return ParseMessage(r.buf, r.lim)
}

// ParseMessage decodes one message from its payload (the frame without
// the length prefix; empty means keep-alive). The result's slices alias
// payload.
func ParseMessage(payload []byte, lim Limits) (Message, error) {
	lim = lim.withDefaults()
	if len(payload) == 0 {
		return Message{KeepAlive: true}, nil
	}
	m := Message{Type: Type(payload[0])}
	body := payload[1:]
	want := func(n int) error {
		if len(payload) != n {
			return protoErr(m.Type, "%s message of %d bytes, want %d", m.Type, len(payload), n)
		}
		return nil
	}
	switch m.Type {
	case Choke, Unchoke, Interested, NotInterested, HaveAll, HaveNone:
		if err := want(lenNoPayload); err != nil {
			return Message{}, err
		}
	case Have, Suggest, AllowedFast:
		if err := want(lenIndex); err != nil {
			return Message{}, err
		}
		m.Index = binary.BigEndian.Uint32(body)
	case Request, Cancel, Reject:
		if err := want(lenBlockRef); err != nil {
			return Message{}, err
		}
		m.Index = binary.BigEndian.Uint32(body)
		m.Begin = binary.BigEndian.Uint32(body[4:])
		m.Length = binary.BigEndian.Uint32(body[8:])
	case Piece:
		if len(body) < 8 {
			return Message{}, protoErr(m.Type, "piece message of %d bytes is shorter than its header", len(payload))
		}
		if len(body)-8 > lim.MaxBlock {
			return Message{}, protoErr(m.Type, "block of %d bytes exceeds the limit of %d", len(body)-8, lim.MaxBlock)
		}
		m.Index = binary.BigEndian.Uint32(body)
		m.Begin = binary.BigEndian.Uint32(body[4:])
		m.Block = body[8:]
	case Bitfield:
		if err := checkBitfield(body, lim.NumPieces); err != nil {
			return Message{}, err
		}
		m.Bitfield = body
	case Port:
		if err := want(lenPort); err != nil {
			return Message{}, err
		}
		m.Port = binary.BigEndian.Uint16(body)
	case Extended:
		if len(body) < 1 {
			return Message{}, protoErr(m.Type, "extended message without an id")
		}
		if len(body)-1 > lim.MaxExtended {
			return Message{}, protoErr(m.Type, "extended payload of %d bytes exceeds the limit of %d", len(body)-1, lim.MaxExtended)
		}
		m.ExtendedID = body[0]
		m.Payload = body[1:]
	default:
		// BEP 3 says to ignore unknown messages; the caller decides. The
		// payload is kept so that it can be logged.
		m.Payload = body
	}
	return m, nil
}

// checkBitfield enforces BEP 3's rule: exactly ceil(n/8) bytes, spare bits
// at the end cleared.
func checkBitfield(b []byte, numPieces int) error {
	if numPieces <= 0 {
		return nil
	}
	if want := bitfieldLen(numPieces); len(b) != want {
		return protoErr(Bitfield, "bitfield of %d bytes for %d pieces, want %d", len(b), numPieces, want)
	}
	if spare := len(b)*8 - numPieces; spare > 0 && b[len(b)-1]&(1<<spare-1) != 0 {
		return protoErr(Bitfield, "bitfield has spare bits set")
	}
	return nil
}
