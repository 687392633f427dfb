package bencode

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestDecoderStream(t *testing.T) {
	in := "i1e4:spamd1:ali1ei2eee" + "le"
	// OneByteReader makes every read boundary fall inside a value.
	d := NewDecoder(iotest.OneByteReader(strings.NewReader(in)))
	var got []any
	for {
		var v any
		err := d.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if len(got) != 4 || got[1] != "spam" {
		t.Fatalf("got %#v", got)
	}
	if d.InputOffset() != int64(len(in)) {
		t.Fatalf("offset %d, want %d", d.InputOffset(), len(in))
	}
}

func TestDecoderHostile(t *testing.T) {
	tests := []struct {
		name, in string
		want     string
	}{
		{"truncated string", "10:abc", "unexpected end"},
		{"truncated list", "li1e", "unexpected end"},
		// Declares far more than arrives: must fail without allocating the
		// declared size (the limit check runs first).
		{"huge declared string", "99999999999:abc", "string length"},
		{"deep nesting", strings.Repeat("l", 20000), "depth"},
		{"bad byte", "x", "invalid byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v any
			err := NewDecoder(strings.NewReader(tt.in)).Decode(&v)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want mention of %q", err, tt.want)
			}
		})
	}
}

// TestDecoderLargeDeclaredWithinLimit checks the chunked read: a string
// whose declared length is within the limit but never arrives fails cleanly.
func TestDecoderLargeDeclaredWithinLimit(t *testing.T) {
	var v any
	err := NewDecoder(strings.NewReader("100000000:abc")).Decode(&v)
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want SyntaxError", err)
	}
}

func TestDecoderStrict(t *testing.T) {
	d := NewDecoder(strings.NewReader("d1:bi1e1:ai2ee"))
	d.SetOptions(Options{Strict: true})
	var v any
	if err := d.Decode(&v); err == nil || !strings.Contains(err.Error(), "out of order") {
		t.Fatalf("err = %v", err)
	}
}
