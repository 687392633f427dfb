package bencode

import (
	"math"
	"strings"
	"testing"
)

func TestMarshal(t *testing.T) {
	type file struct {
		Length int64    `bencode:"length"`
		Path   []string `bencode:"path"`
		Attr   string   `bencode:"attr,omitempty"`
	}
	n := 5
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"int", 42, "i42e"},
		{"negative", -7, "i-7e"},
		{"min int64", int64(math.MinInt64), "i-9223372036854775808e"},
		{"max uint64", uint64(math.MaxUint64), "i18446744073709551615e"},
		{"bool", []bool{true, false}, "li1ei0ee"},
		{"string", "spam", "4:spam"},
		{"bytes", []byte{0, 1}, "2:\x00\x01"},
		{"array of bytes", [3]byte{'a', 'b', 'c'}, "3:abc"},
		{"list", []any{"a", 1, []int{}}, "l1:ai1elee"},
		{"nil slice", []int(nil), "le"},
		{"map sorted", map[string]int{"b": 2, "a": 1, "ab": 3}, "d1:ai1e2:abi3e1:bi2ee"},
		{"struct sorted, omitempty", file{Length: 3, Path: []string{"a", "b"}}, "d6:lengthi3e4:pathl1:a1:bee"},
		{"struct attr", file{Length: 0, Path: []string{".pad", "3"}, Attr: "p"}, "d4:attr1:p6:lengthi0e4:pathl4:.pad1:3ee"},
		{"pointer", &n, "i5e"},
		{"nil pointer field omitted", struct {
			A *int `bencode:"a"`
			B int  `bencode:"b"`
		}{B: 1}, "d1:bi1ee"},
		{"raw", RawMessage("d1:zi1e1:ai2ee"), "d1:zi1e1:ai2ee"},
	}
	for _, tt := range tests {
		got, err := Marshal(tt.in)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if string(got) != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestMarshalUnsupported(t *testing.T) {
	type cyclic struct {
		Next *cyclic `bencode:"n"`
	}
	c := &cyclic{}
	c.Next = c
	tests := []struct {
		name string
		in   any
		msg  string
	}{
		{"nil", nil, "nil"},
		{"float", 1.5, "float64"},
		{"int keys", map[int]int{1: 1}, "map keys"},
		{"chan", make(chan int), "chan"},
		{"bad raw", RawMessage("i1"), "invalid pre-encoded"},
		{"two raw values", RawMessage("i1ei2e"), "invalid pre-encoded"},
		{"cycle", c, "cyclic"},
	}
	for _, tt := range tests {
		if _, err := Marshal(tt.in); err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: err = %v, want mention of %q", tt.name, err, tt.msg)
		}
	}
}

func TestRoundTripStruct(t *testing.T) {
	type info struct {
		Name        string `bencode:"name"`
		PieceLength int64  `bencode:"piece length"`
		Pieces      []byte `bencode:"pieces"`
		Private     bool   `bencode:"private,omitempty"`
		Files       []struct {
			Length int64    `bencode:"length"`
			Path   []string `bencode:"path"`
		} `bencode:"files,omitempty"`
	}
	in := info{Name: "x", PieceLength: 16384, Pieces: make([]byte, 40), Private: true}
	in.Files = append(in.Files, struct {
		Length int64    `bencode:"length"`
		Path   []string `bencode:"path"`
	}{7, []string{"d", "f"}})
	b, err := Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	// Marshal's output is canonical, so the strict decoder must accept it.
	var out info
	if err := (Options{Strict: true}).Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	b2, _ := Marshal(out)
	if string(b) != string(b2) {
		t.Fatalf("round trip changed bytes:\n%q\n%q", b, b2)
	}
}
