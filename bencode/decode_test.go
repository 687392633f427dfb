package bencode

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestUnmarshalAny(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"i0e", int64(0)},
		{"i42e", int64(42)},
		{"i-42e", int64(-42)},
		{"i9223372036854775807e", int64(math.MaxInt64)},
		{"i-9223372036854775808e", int64(math.MinInt64)},
		{"0:", ""},
		{"4:spam", "spam"},
		{"3:\x00\xff:", "\x00\xff:"},
		{"le", []any{}},
		{"l4:spami7ee", []any{"spam", int64(7)}},
		{"de", map[string]any{}},
		{"d3:cow3:moo4:spam4:eggse", map[string]any{"cow": "moo", "spam": "eggs"}},
		{"d4:listl1:ad1:bleeee", map[string]any{"list": []any{"a", map[string]any{"b": []any{}}}}},
	}
	for _, tt := range tests {
		var got any
		if err := Unmarshal([]byte(tt.in), &got); err != nil {
			t.Errorf("Unmarshal(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Unmarshal(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

// TestUnmarshalRejects covers malformed input and the inputs known to crash
// or exhaust other parsers: huge and negative lengths, deep nesting,
// truncated containers.
func TestUnmarshalRejects(t *testing.T) {
	tests := []struct {
		name, in string
		msg      string // substring of the error
		// validSyntax: the input is valid bencoding that only decoding
		// into the generic form refuses.
		validSyntax bool
	}{
		{"empty", "", "unexpected end", false},
		{"bad start", "x", "invalid byte", false},
		{"int no digits", "ie", "no digits", false},
		{"int minus only", "i-e", "no digits", false},
		{"int unterminated", "i12", "unexpected end", false},
		{"int bad byte", "i1x2e", "invalid byte", false},
		{"int overflow", "i9223372036854775808e", "overflows int64", true},
		{"int overflow 64 bits", "i99999999999999999999e", "overflows 64 bits", false},
		{"huge string length", "99999999999:abc", "overruns the input", false},
		{"absurd string length", "99999999999999999999999:abc", "too large", false},
		{"negative string length", "-1:a", "invalid byte", false},
		{"string short", "5:abc", "overruns the input", false},
		{"string no colon", "3abc", "invalid byte", false},
		{"truncated list", "l", "unexpected end", false},
		{"truncated list item", "li1e", "unexpected end", false},
		{"truncated dict", "d", "unexpected end", false},
		{"truncated dict value", "d1:a", "unexpected end", false},
		{"dict int key", "di1ei2ee", "key is not a string", false},
		{"dict list key", "dlei2ee", "key is not a string", false},
		{"trailing data", "i1ei2e", "trailing data", false},
		{"nesting 20KB", strings.Repeat("l", 20000), "depth", false},
		{"nesting 20KB closed", strings.Repeat("l", 20000) + strings.Repeat("e", 20000), "depth", false},
		{"nested dicts", strings.Repeat("d1:a", 200) + "i1e" + strings.Repeat("e", 200), "depth", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v any
			err := Unmarshal([]byte(tt.in), &v)
			if err == nil {
				t.Fatalf("Unmarshal(%.40q) succeeded with %#v", tt.in, v)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Unmarshal(%.40q) error %q, want it to mention %q", tt.in, err, tt.msg)
			}
			if err := (Options{}).Valid([]byte(tt.in)); (err == nil) != tt.validSyntax {
				t.Fatalf("Valid(%.40q) = %v", tt.in, err)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	tests := []struct {
		name  string
		lim   Limits
		in    string
		limit string // "" = must succeed
	}{
		{"depth ok", Limits{MaxDepth: 3}, "llleee", ""},
		{"depth over", Limits{MaxDepth: 3}, "lllleeee", "depth"},
		{"string ok", Limits{MaxStringLength: 4}, "4:abcd", ""},
		{"string over", Limits{MaxStringLength: 4}, "5:abcde", "string length"},
		{"tokens ok", Limits{MaxTokens: 3}, "li1ei2ee", ""},
		{"tokens over", Limits{MaxTokens: 3}, "li1ei2ei3ee", "tokens"},
		{"keys count", Limits{MaxTokens: 2}, "d1:ai1ee", "tokens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v any
			err := Options{Limits: tt.lim}.Unmarshal([]byte(tt.in), &v)
			var le *LimitError
			switch {
			case tt.limit == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.limit != "" && !errors.As(err, &le):
				t.Fatalf("error %v, want a LimitError", err)
			case tt.limit != "" && le.Limit != tt.limit:
				t.Fatalf("limit %q crossed, want %q", le.Limit, tt.limit)
			}
		})
	}
}

func TestStrict(t *testing.T) {
	tests := []struct {
		in  string
		msg string // "" = canonical
	}{
		{"d1:ai1e1:bi2ee", ""},
		{"d1:bi1e1:ai2ee", "out of order"},
		{"d1:ai1e1:ai2ee", "duplicate"},
		{"d2:abi1e1:bi2ee", ""}, // "ab" < "b": bytewise order
		{"i03e", "leading zero"},
		{"i-0e", "negative zero"},
		{"i-03e", "leading zero"},
		{"03:abc", "leading zero"},
		{"i0e", ""},
		{"0:", ""},
	}
	for _, tt := range tests {
		var v any
		if err := Unmarshal([]byte(tt.in), &v); err != nil {
			t.Errorf("lenient Unmarshal(%q): %v", tt.in, err)
		}
		err := Options{Strict: true}.Unmarshal([]byte(tt.in), &v)
		switch {
		case tt.msg == "" && err != nil:
			t.Errorf("strict Unmarshal(%q): %v", tt.in, err)
		case tt.msg != "" && (err == nil || !strings.Contains(err.Error(), tt.msg)):
			t.Errorf("strict Unmarshal(%q) = %v, want error mentioning %q", tt.in, err, tt.msg)
		}
	}
}

type announce struct {
	Interval    int64    `bencode:"interval"`
	MinInterval int64    `bencode:"min interval,omitempty"`
	Peers       []byte   `bencode:"peers"`
	Failure     string   `bencode:"failure reason,omitempty"`
	Private     bool     `bencode:"private,omitempty"`
	Tags        []string `bencode:"tags,omitempty"`
	Ignored     string   `bencode:"-"`
	unexported  int
}

func TestUnmarshalStruct(t *testing.T) {
	in := "d8:completei5e8:intervali1800e12:min intervali60e5:peers6:\x7f\x00\x00\x01\x1a\xe17:privatei1e4:tagsl1:a1:bee"
	var got announce
	if err := Unmarshal([]byte(in), &got); err != nil {
		t.Fatal(err)
	}
	want := announce{Interval: 1800, MinInterval: 60, Peers: []byte{127, 0, 0, 1, 0x1a, 0xe1}, Private: true, Tags: []string{"a", "b"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestUnmarshalTypes(t *testing.T) {
	var u8 uint8
	if err := Unmarshal([]byte("i255e"), &u8); err != nil || u8 != 255 {
		t.Errorf("uint8 255: %v %v", u8, err)
	}
	if err := Unmarshal([]byte("i256e"), &u8); err == nil {
		t.Error("uint8 accepted 256")
	}
	var u uint64
	if err := Unmarshal([]byte("i18446744073709551615e"), &u); err != nil || u != math.MaxUint64 {
		t.Errorf("uint64 max: %v %v", u, err)
	}
	if err := Unmarshal([]byte("i-1e"), &u); err == nil {
		t.Error("uint64 accepted -1")
	}
	var h [4]byte
	if err := Unmarshal([]byte("4:abcd"), &h); err != nil || string(h[:]) != "abcd" {
		t.Errorf("[4]byte: %q %v", h, err)
	}
	if err := Unmarshal([]byte("3:abc"), &h); err == nil {
		t.Error("[4]byte accepted 3 bytes")
	}
	var arr [2]int
	if err := Unmarshal([]byte("li1ei2ei3ee"), &arr); err == nil {
		t.Error("[2]int accepted 3 items")
	}
	var p *int
	if err := Unmarshal([]byte("i7e"), &p); err != nil || p == nil || *p != 7 {
		t.Errorf("*int: %v %v", p, err)
	}
	var m map[string][]int
	if err := Unmarshal([]byte("d1:ali1ei2ee1:blee"), &m); err != nil || len(m["a"]) != 2 || m["b"] == nil {
		t.Errorf("map: %v %v", m, err)
	}
	var s struct {
		N int `bencode:"n"`
	}
	err := Unmarshal([]byte("d1:n3:abce"), &s)
	var te *UnmarshalTypeError
	if !errors.As(err, &te) || te.Field != "N" || te.Offset != 4 {
		t.Errorf("type error = %#v", err)
	}
	if err := Unmarshal([]byte("i1e"), s); err == nil {
		t.Error("non-pointer accepted")
	}
	if err := Unmarshal([]byte("i1e"), nil); err == nil {
		t.Error("nil accepted")
	}
}

func TestRawMessageKeepsExactBytes(t *testing.T) {
	// The info dict is deliberately non-canonical (keys out of order):
	// RawMessage must keep it exactly, never re-encode it.
	in := "d4:infod1:zi1e1:ai2ee3:foo3:bare"
	var v struct {
		Info RawMessage `bencode:"info"`
	}
	if err := Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	if string(v.Info) != "d1:zi1e1:ai2ee" {
		t.Fatalf("raw = %q", v.Info)
	}
	out, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "d4:infod1:zi1e1:ai2eee" {
		t.Fatalf("re-encoded = %q", out)
	}
}

type upper string

func (u *upper) UnmarshalBencode(b []byte) error {
	var s string
	if err := Unmarshal(b, &s); err != nil {
		return err
	}
	*u = upper(strings.ToUpper(s))
	return nil
}

func (u upper) MarshalBencode() ([]byte, error) {
	return Marshal(strings.ToLower(string(u)))
}

func TestCustomCoders(t *testing.T) {
	var v struct {
		Name upper `bencode:"name"`
	}
	if err := Unmarshal([]byte("d4:name3:abce"), &v); err != nil || v.Name != "ABC" {
		t.Fatalf("got %q, %v", v.Name, err)
	}
	out, err := Marshal(v)
	if err != nil || string(out) != "d4:name3:abce" {
		t.Fatalf("Marshal = %q, %v", out, err)
	}
}

func TestUnmarshalPrefix(t *testing.T) {
	// BEP 9: a bencoded header followed by raw piece data.
	msg := []byte("d8:msg_typei1e5:piecei0eeRAWDATA")
	var hdr struct {
		Type  int `bencode:"msg_type"`
		Piece int `bencode:"piece"`
	}
	n, err := Options{}.UnmarshalPrefix(msg, &hdr)
	if err != nil || string(msg[n:]) != "RAWDATA" || hdr.Type != 1 {
		t.Fatalf("n=%d hdr=%+v err=%v", n, hdr, err)
	}
}
