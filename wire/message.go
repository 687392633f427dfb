package wire

import (
	"encoding/binary"
	"fmt"
)

// Type is a peer wire message's id byte.
type Type uint8

// Message ids: BEP 3 (0–9), BEP 6 fast extension (13–17), BEP 10 (20).
const (
	Choke         Type = 0
	Unchoke       Type = 1
	Interested    Type = 2
	NotInterested Type = 3
	Have          Type = 4
	Bitfield      Type = 5
	Request       Type = 6
	Piece         Type = 7
	Cancel        Type = 8
	Port          Type = 9
	Suggest       Type = 13
	HaveAll       Type = 14
	HaveNone      Type = 15
	Reject        Type = 16
	AllowedFast   Type = 17
	Extended      Type = 20
)

var typeNames = [...]string{
	Choke: "choke", Unchoke: "unchoke", Interested: "interested", NotInterested: "not interested",
	Have: "have", Bitfield: "bitfield", Request: "request", Piece: "piece", Cancel: "cancel", Port: "port",
	Suggest: "suggest", HaveAll: "have all", HaveNone: "have none", Reject: "reject request",
	AllowedFast: "allowed fast", Extended: "extended",
}

func (t Type) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return fmt.Sprintf("unknown(%d)", uint8(t))
}

// Message is one decoded peer wire message. Which fields mean something
// depends on Type; the rest are zero.
type Message struct {
	// KeepAlive marks the empty frame peers send to keep a connection
	// open; Type is meaningless then.
	KeepAlive bool
	Type      Type
	// Index is the piece index of have, request, piece, cancel, suggest,
	// reject and allowed fast.
	Index uint32
	// Begin is the byte offset within the piece of request, piece, cancel
	// and reject.
	Begin uint32
	// Length is the block length of request, cancel and reject.
	Length uint32
	// Bitfield is a bitfield message's payload: bit i (most significant
	// bit first) set means the peer has piece i.
	Bitfield []byte
	// Block is a piece message's data.
	Block []byte
	// Port is a port message's DHT port.
	Port uint16
	// ExtendedID and Payload are an extended message's id (0 is the BEP 10
	// handshake) and bencoded payload.
	ExtendedID uint8
	Payload    []byte
}

// Fixed payload sizes (id byte included) of the messages that have one.
const (
	lenNoPayload = 1
	lenIndex     = 1 + 4
	lenBlockRef  = 1 + 12
	lenPort      = 1 + 2
)

// WireLength is the number of bytes m takes on the wire, length prefix
// included. The simulator charges links by it.
func (m *Message) WireLength() int {
	return 4 + m.payloadLength()
}

func (m *Message) payloadLength() int {
	if m.KeepAlive {
		return 0
	}
	switch m.Type {
	case Have, Suggest, AllowedFast:
		return lenIndex
	case Request, Cancel, Reject:
		return lenBlockRef
	case Piece:
		return 1 + 8 + len(m.Block)
	case Bitfield:
		return 1 + len(m.Bitfield)
	case Port:
		return lenPort
	case Extended:
		return 2 + len(m.Payload)
	}
	return lenNoPayload
}

// AppendMessage appends m's wire form, length prefix included, to buf.
func AppendMessage(buf []byte, m *Message) []byte {
	n := m.payloadLength()
	buf = binary.BigEndian.AppendUint32(buf, uint32(n))
	if m.KeepAlive {
		return buf
	}
	buf = append(buf, byte(m.Type))
	switch m.Type {
	case Have, Suggest, AllowedFast:
		buf = binary.BigEndian.AppendUint32(buf, m.Index)
	case Request, Cancel, Reject:
		buf = binary.BigEndian.AppendUint32(buf, m.Index)
		buf = binary.BigEndian.AppendUint32(buf, m.Begin)
		buf = binary.BigEndian.AppendUint32(buf, m.Length)
	case Piece:
		buf = binary.BigEndian.AppendUint32(buf, m.Index)
		buf = binary.BigEndian.AppendUint32(buf, m.Begin)
		buf = append(buf, m.Block...)
	case Bitfield:
		buf = append(buf, m.Bitfield...)
	case Port:
		buf = binary.BigEndian.AppendUint16(buf, m.Port)
	case Extended:
		buf = append(buf, m.ExtendedID)
		buf = append(buf, m.Payload...)
	}
	return buf
}

// AppendPieceHeader appends the length prefix and header of a piece message
// carrying blockLen bytes, without the block itself, so that a sender can
// write the block straight from storage (for example with net.Buffers)
// instead of copying it into a message buffer.
func AppendPieceHeader(buf []byte, index, begin uint32, blockLen int) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(1+8+blockLen))
	buf = append(buf, byte(Piece))
	buf = binary.BigEndian.AppendUint32(buf, index)
	return binary.BigEndian.AppendUint32(buf, begin)
}
