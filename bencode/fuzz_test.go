package bencode

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

// FuzzDecode checks the decoder's invariants on arbitrary input: it never
// panics; Valid, Unmarshal and the streaming Decoder agree on what is valid;
// and strictly valid input survives a decode/encode round trip unchanged,
// since canonical bencoding has exactly one form per value.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"i42e", "4:spam", "le", "de", "l4:spami7ee", "d3:cow3:moo4:spam4:eggse",
		"d8:intervali1800e5:peers6:\x7f\x00\x00\x01\x1a\xe1e",
		"d4:infod6:lengthi5e4:name1:a12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaaee",
		"99999999999:", "-1:", "i-0e", "i03e", "d1:bi1e1:ai2ee", "lllllllllll", "d1:a",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{MaxDepth: 50, MaxTokens: 10000}
		var generic any
		errAny := Options{Limits: lim}.Unmarshal(data, &generic)
		var raw RawMessage
		errRaw := Options{Limits: lim}.Unmarshal(data, &raw)
		errValid := Options{Limits: lim}.Valid(data)
		if (errRaw == nil) != (errValid == nil) {
			t.Fatalf("RawMessage err %v, Valid err %v", errRaw, errValid)
		}
		if errAny == nil && errValid != nil {
			t.Fatalf("generic decode accepted what Valid refused: %v", errValid)
		}
		if errRaw == nil && !bytes.Equal(raw, data) {
			t.Fatalf("RawMessage %q != input %q", raw, data)
		}

		// The stream decoder must accept exactly one value where Unmarshal
		// does (it sees the trailing bytes as the next value).
		d := NewDecoder(bytes.NewReader(data))
		d.SetOptions(Options{Limits: lim})
		var streamed any
		errStream := d.Decode(&streamed)
		if errAny == nil {
			if errStream != nil {
				t.Fatalf("Unmarshal ok, Decoder failed: %v", errStream)
			}
			if !reflect.DeepEqual(streamed, generic) {
				t.Fatalf("Decoder got %#v, Unmarshal %#v", streamed, generic)
			}
			if err := d.Decode(&streamed); !errors.Is(err, io.EOF) {
				t.Fatalf("Decoder found more after the only value: %v", err)
			}
		}

		var strict any
		if err := (Options{Limits: lim, Strict: true}).Unmarshal(data, &strict); err == nil {
			out, err := Marshal(strict)
			if err != nil {
				t.Fatalf("Marshal of decoded value: %v", err)
			}
			if !bytes.Equal(out, data) {
				t.Fatalf("canonical round trip changed bytes:\n in %q\nout %q", data, out)
			}
		}

		// Typed decoding must fail cleanly, never panic.
		var typed struct {
			Interval int64            `bencode:"interval"`
			Peers    []byte           `bencode:"peers"`
			Files    []map[string]any `bencode:"files"`
			Hash     [20]byte         `bencode:"hash"`
			Flag     bool             `bencode:"flag"`
			Small    uint8            `bencode:"small"`
			List     []*int           `bencode:"list"`
		}
		_ = Options{Limits: lim}.Unmarshal(data, &typed)
	})
}
