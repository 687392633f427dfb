package wire

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzParseMessage checks that any frame either fails with an error or
// decodes to a message that re-encodes to the same bytes.
func FuzzParseMessage(f *testing.F) {
	for _, m := range []Message{
		{Type: Have, Index: 7}, {Type: Bitfield, Bitfield: []byte{0xff, 0x80}},
		{Type: Request, Index: 1, Begin: 16384, Length: 16384},
		{Type: Piece, Index: 2, Block: []byte("data")}, {Type: Port, Port: 6881},
		{Type: HaveAll}, {Type: Extended, ExtendedID: 0, Payload: []byte("d1:md11:ut_metadatai3eee")},
	} {
		f.Add(AppendMessage(nil, &m)[4:], 9)
	}
	f.Add([]byte{}, 0)
	f.Fuzz(func(t *testing.T, payload []byte, numPieces int) {
		lim := Limits{NumPieces: numPieces % 100000, MaxBlock: 1 << 14, MaxExtended: 1 << 12}
		m, err := ParseMessage(payload, lim)
		if err != nil {
			return
		}
		if m.Type == Extended && m.ExtendedID == ExtendedHandshakeID {
			_, _ = ParseExtendedHandshake(m.Payload)
		}
		if int(m.Type) < len(typeNames) && typeNames[m.Type] != "" || m.KeepAlive {
			out := AppendMessage(nil, &m)
			if !bytes.Equal(out[4:], payload) {
				t.Fatalf("re-encoded %q, input %q", out[4:], payload)
			}
			again, err := ParseMessage(out[4:], lim)
			if err != nil || !reflect.DeepEqual(again, m) {
				t.Fatalf("second parse %+v, %v", again, err)
			}
		}
	})
}
