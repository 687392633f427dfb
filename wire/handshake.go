package wire

import (
	"errors"
	"fmt"
	"io"
)

// Protocol is the protocol string a BEP 3 handshake starts with (after its
// length byte, 19).
const Protocol = "BitTorrent protocol"

// HandshakeLength is the size of a complete handshake on the wire.
const HandshakeLength = 1 + len(Protocol) + 8 + 20 + 20

// Reserved holds the handshake's eight reserved bytes, where peers announce
// optional protocol support (BEP 4 lists the allocations).
type Reserved [8]byte

// Bits in Reserved that swarmlab reads or sets, as byte index and mask
// (BEP 4).
const (
	extensionByte, extensionMask = 5, 0x10 // BEP 10 extension protocol
	fastByte, fastMask           = 7, 0x04 // BEP 6 fast extension
	dhtByte, dhtMask             = 7, 0x01 // BEP 5 DHT
)

// Extensions reports whether the BEP 10 extension protocol bit is set.
func (r Reserved) Extensions() bool { return r[extensionByte]&extensionMask != 0 }

// Fast reports whether the BEP 6 fast extension bit is set.
func (r Reserved) Fast() bool { return r[fastByte]&fastMask != 0 }

// DHT reports whether the BEP 5 DHT bit is set.
func (r Reserved) DHT() bool { return r[dhtByte]&dhtMask != 0 }

// WithExtensions returns r with the BEP 10 bit set to on.
func (r Reserved) WithExtensions(on bool) Reserved { return r.with(extensionByte, extensionMask, on) }

// WithFast returns r with the BEP 6 bit set to on.
func (r Reserved) WithFast(on bool) Reserved { return r.with(fastByte, fastMask, on) }

// WithDHT returns r with the BEP 5 bit set to on.
func (r Reserved) WithDHT(on bool) Reserved { return r.with(dhtByte, dhtMask, on) }

func (r Reserved) with(i int, mask byte, on bool) Reserved {
	if on {
		r[i] |= mask
	} else {
		r[i] &^= mask
	}
	return r
}

// Handshake is the first thing each side of a connection sends.
type Handshake struct {
	Reserved Reserved
	InfoHash [20]byte
	PeerID   [20]byte
}

// ErrNotBitTorrent reports a connection whose first bytes are not a BEP 3
// handshake (another protocol, or an encrypted BitTorrent stream).
var ErrNotBitTorrent = errors.New("wire: not a BitTorrent handshake")

// AppendHandshake appends h's wire form to buf.
func AppendHandshake(buf []byte, h Handshake) []byte {
	buf = append(buf, byte(len(Protocol)))
	buf = append(buf, Protocol...)
	buf = append(buf, h.Reserved[:]...)
	buf = append(buf, h.InfoHash[:]...)
	return append(buf, h.PeerID[:]...)
}

// ReadHandshakeStart reads the protocol string, reserved bytes and info
// hash, but not the peer id. A receiving side reads this much first so that
// it can pick the torrent (and refuse an unknown info hash) before it
// answers; BEP 3 lets the initiator wait for the answer before sending its
// peer id, although most send everything at once.
func ReadHandshakeStart(r io.Reader) (Reserved, [20]byte, error) {
	var b [1 + len(Protocol) + 8 + 20]byte
	if _, err := io.ReadFull(r, b[:1]); err != nil {
		return Reserved{}, [20]byte{}, err
	}
	if int(b[0]) != len(Protocol) {
		return Reserved{}, [20]byte{}, ErrNotBitTorrent
	}
	if _, err := io.ReadFull(r, b[1:]); err != nil {
		return Reserved{}, [20]byte{}, fmt.Errorf("wire: reading handshake: %w", unexpected(err))
	}
	if string(b[1:1+len(Protocol)]) != Protocol {
		return Reserved{}, [20]byte{}, ErrNotBitTorrent
	}
	var res Reserved
	var ih [20]byte
	copy(res[:], b[1+len(Protocol):])
	copy(ih[:], b[1+len(Protocol)+8:])
	return res, ih, nil
}

// ReadPeerID reads the peer id that ends a handshake.
func ReadPeerID(r io.Reader) ([20]byte, error) {
	var id [20]byte
	if _, err := io.ReadFull(r, id[:]); err != nil {
		return id, fmt.Errorf("wire: reading peer id: %w", unexpected(err))
	}
	return id, nil
}

// ReadHandshake reads a whole handshake.
func ReadHandshake(r io.Reader) (Handshake, error) {
	res, ih, err := ReadHandshakeStart(r)
	if err != nil {
		return Handshake{}, err
	}
	id, err := ReadPeerID(r)
	return Handshake{Reserved: res, InfoHash: ih, PeerID: id}, err
}

// unexpected turns a clean EOF in the middle of a structure into
// io.ErrUnexpectedEOF, which is what it means there.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
