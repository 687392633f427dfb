package wire

import (
	"fmt"

	"github.com/swarmlab/swarmlab/bencode"
)

// ExtendedHandshakeID is the extended message id of the BEP 10 handshake;
// every other id is assigned by the receiving side in its handshake's "m".
const ExtendedHandshakeID = 0

// ExtendedHandshake is the BEP 10 handshake dictionary, with the keys
// swarmlab uses from BEP 9 (metadata_size) and BEP 21 (upload_only).
// Unknown keys are ignored when decoding.
type ExtendedHandshake struct {
	// M maps extension names (such as "ut_metadata") to the message ids
	// the sender wants to receive them under; 0 disables an extension.
	M map[string]int64 `bencode:"m"`
	// Version is the client's name and version, e.g. "swarmlab/0.1".
	Version string `bencode:"v,omitempty"`
	// Port is the sender's listen port.
	Port int64 `bencode:"p,omitempty"`
	// YourIP is the receiver's address as the sender sees it (4 or 16
	// bytes).
	YourIP []byte `bencode:"yourip,omitempty"`
	IPv4   []byte `bencode:"ipv4,omitempty"`
	IPv6   []byte `bencode:"ipv6,omitempty"`
	// Reqq is how many outstanding requests the sender accepts.
	Reqq int64 `bencode:"reqq,omitempty"`
	// MetadataSize is the info dictionary's size in bytes (BEP 9).
	MetadataSize int64 `bencode:"metadata_size,omitempty"`
	// UploadOnly is BEP 21's flag: the sender is a seed or partial seed
	// and will not download.
	UploadOnly int64 `bencode:"upload_only,omitempty"`
}

// Sanity bounds on what a peer may claim in its extended handshake.
const (
	maxReqq         = 1 << 16
	maxMetadataSize = 64 << 20
)

// ParseExtendedHandshake decodes and checks a handshake payload.
func ParseExtendedHandshake(payload []byte) (*ExtendedHandshake, error) {
	var h ExtendedHandshake
	if err := bencode.Unmarshal(payload, &h); err != nil {
		return nil, fmt.Errorf("wire: extended handshake: %w", err)
	}
	for name, id := range h.M {
		if id < 0 || id > 255 {
			return nil, protoErr(Extended, "extended handshake maps %q to id %d, outside 0-255", name, id)
		}
	}
	if h.Port < 0 || h.Port > 65535 {
		return nil, protoErr(Extended, "extended handshake port %d out of range", h.Port)
	}
	if h.Reqq < 0 || h.Reqq > maxReqq {
		return nil, protoErr(Extended, "extended handshake reqq %d out of range", h.Reqq)
	}
	if h.MetadataSize < 0 || h.MetadataSize > maxMetadataSize {
		return nil, protoErr(Extended, "extended handshake metadata_size %d out of range", h.MetadataSize)
	}
	return &h, nil
}

// ExtendedHandshakeMessage returns h as an extended message ready for
// AppendMessage.
func ExtendedHandshakeMessage(h *ExtendedHandshake) (Message, error) {
	payload, err := bencode.Marshal(h)
	if err != nil {
		return Message{}, err
	}
	return Message{Type: Extended, ExtendedID: ExtendedHandshakeID, Payload: payload}, nil
}
