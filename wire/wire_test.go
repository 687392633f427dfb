package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestHandshakeRoundTrip(t *testing.T) {
	h := Handshake{Reserved: Reserved{}.WithExtensions(true).WithFast(true)}
	copy(h.InfoHash[:], "0123456789abcdefghij")
	copy(h.PeerID[:], "-SL0001-xxxxxxxxxxxx")
	b := AppendHandshake(nil, h)
	if len(b) != HandshakeLength || b[0] != 19 || string(b[1:20]) != Protocol {
		t.Fatalf("bad encoding %q", b)
	}
	// The reserved bytes as BEP 4 allocates them.
	if b[20+5] != 0x10 || b[20+7] != 0x04 {
		t.Fatalf("reserved bytes % x", b[20:28])
	}
	got, err := ReadHandshake(bytes.NewReader(b))
	if err != nil || got != h {
		t.Fatalf("got %+v, %v", got, err)
	}
	if !got.Reserved.Extensions() || !got.Reserved.Fast() || got.Reserved.DHT() {
		t.Fatalf("bits: ext=%v fast=%v dht=%v", got.Reserved.Extensions(), got.Reserved.Fast(), got.Reserved.DHT())
	}
}

func TestHandshakeRejects(t *testing.T) {
	good := AppendHandshake(nil, Handshake{})
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"http", []byte("GET / HTTP/1.1\r\n\r\n" + strings.Repeat("x", 60)), ErrNotBitTorrent},
		{"wrong protocol", append([]byte{19}, []byte("BitTorrent protocoX"+strings.Repeat("\x00", 48))...), ErrNotBitTorrent},
		{"empty", nil, io.EOF},
		{"truncated", good[:30], io.ErrUnexpectedEOF},
		{"no peer id", good[:HandshakeLength-20], io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		if _, err := ReadHandshake(bytes.NewReader(tt.in)); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestMessageRoundTrip(t *testing.T) {
	msgs := []Message{
		{KeepAlive: true},
		{Type: Choke}, {Type: Unchoke}, {Type: Interested}, {Type: NotInterested},
		{Type: Have, Index: 7},
		{Type: Bitfield, Bitfield: []byte{0xff, 0x80}},
		{Type: Request, Index: 1, Begin: 16384, Length: 16384},
		{Type: Piece, Index: 2, Begin: 0, Block: []byte("data")},
		{Type: Cancel, Index: 1, Begin: 16384, Length: 16384},
		{Type: Port, Port: 6881},
		{Type: Suggest, Index: 3}, {Type: HaveAll}, {Type: HaveNone},
		{Type: Reject, Index: 1, Begin: 0, Length: 16384},
		{Type: AllowedFast, Index: 4},
		{Type: Extended, ExtendedID: 3, Payload: []byte("de")},
	}
	var stream []byte
	for i := range msgs {
		before := len(stream)
		stream = AppendMessage(stream, &msgs[i])
		if got := len(stream) - before; got != msgs[i].WireLength() {
			t.Errorf("%v: wrote %d bytes, WireLength says %d", msgs[i].Type, got, msgs[i].WireLength())
		}
	}
	r := NewReader(bufio.NewReader(bytes.NewReader(stream)), Limits{NumPieces: 9})
	for _, want := range msgs {
		got, err := r.ReadMessage()
		if err != nil {
			t.Fatalf("reading %v: %v", want.Type, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	}
	if _, err := r.ReadMessage(); err != io.EOF {
		t.Fatalf("after last message: %v", err)
	}
}

func TestPieceHeaderMatchesMessage(t *testing.T) {
	block := []byte("0123456789")
	full := AppendMessage(nil, &Message{Type: Piece, Index: 5, Begin: 32768, Block: block})
	hdr := AppendPieceHeader(nil, 5, 32768, len(block))
	if !bytes.Equal(append(hdr, block...), full) {
		t.Fatalf("header+block %q != message %q", append(hdr, block...), full)
	}
}

func TestReaderRejects(t *testing.T) {
	frame := func(payload ...byte) []byte {
		return append([]byte{0, 0, byte(len(payload) >> 8), byte(len(payload))}, payload...)
	}
	tests := []struct {
		name string
		in   []byte
		lim  Limits
		msg  string
	}{
		{"oversized prefix", []byte{0x7f, 0xff, 0xff, 0xff}, Limits{}, "exceeds the limit"},
		{"just over a block", frame(append([]byte{byte(Piece)}, make([]byte, 8+16385)...)...), Limits{MaxBlock: 16384, MaxExtended: 100, NumPieces: 8}, "exceeds the limit"},
		{"short have", frame(byte(Have), 0, 0, 1), Limits{}, "want 5"},
		{"long choke", frame(byte(Choke), 0), Limits{}, "want 1"},
		{"short request", frame(byte(Request), 0, 0, 0, 1, 0, 0, 0, 0), Limits{}, "want 13"},
		{"piece without header", frame(byte(Piece), 0, 0, 0), Limits{}, "shorter than its header"},
		{"bitfield too short", frame(byte(Bitfield), 0xff), Limits{NumPieces: 9}, "want 2"},
		{"bitfield too long", frame(byte(Bitfield), 0xff, 0x80, 0), Limits{NumPieces: 9}, "want 2"},
		{"bitfield spare bits", frame(byte(Bitfield), 0xff, 0xc0), Limits{NumPieces: 9}, "spare bits"},
		{"extended without id", frame(byte(Extended)), Limits{}, "without an id"},
		{"extended too big", frame(append([]byte{byte(Extended), 1}, make([]byte, 101)...)...), Limits{MaxExtended: 100}, "exceeds the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(bytes.NewReader(tt.in), tt.lim).ReadMessage()
			var pe *ProtocolError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want a ProtocolError mentioning %q", err, tt.msg)
			}
		})
	}
}

func TestReaderTruncated(t *testing.T) {
	b := AppendMessage(nil, &Message{Type: Have, Index: 1})
	_, err := NewReader(bytes.NewReader(b[:6]), Limits{}).ReadMessage()
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v", err)
	}
}

func TestUnknownMessageKept(t *testing.T) {
	m, err := ParseMessage([]byte{99, 1, 2}, Limits{})
	if err != nil || m.Type != 99 || !bytes.Equal(m.Payload, []byte{1, 2}) {
		t.Fatalf("m=%+v err=%v", m, err)
	}
}

func TestExtendedHandshake(t *testing.T) {
	h := &ExtendedHandshake{M: map[string]int64{"ut_metadata": 3, "ut_pex": 0}, Version: "swarmlab/0.1", Port: 6881, Reqq: 500, MetadataSize: 31235}
	m, err := ExtendedHandshakeMessage(h)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseExtendedHandshake(m.Payload)
	if err != nil || !reflect.DeepEqual(got, h) {
		t.Fatalf("got %+v, %v", got, err)
	}
	for _, bad := range []string{
		"d1:md11:ut_metadatai256eee",
		"d1:md11:ut_metadatai-1eee",
		"d1:pi70000ee",
		"d4:reqqi-5ee",
		"d13:metadata_sizei999999999999ee",
		"i1e",
	} {
		if _, err := ParseExtendedHandshake([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
