package bitfield

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

func TestWireRoundTrip(t *testing.T) {
	tests := []struct {
		n    int
		set  []int
		wire []byte
	}{
		{1, []int{0}, []byte{0x80}},
		{8, []int{0, 7}, []byte{0x81}},
		{9, []int{0, 8}, []byte{0x80, 0x80}},
		{16, []int{1, 14}, []byte{0x40, 0x02}},
		{70, []int{0, 63, 64, 69}, []byte{0x80, 0, 0, 0, 0, 0, 0, 0x01, 0x84}},
	}
	for _, tt := range tests {
		b := New(tt.n)
		for _, i := range tt.set {
			b.Set(i)
		}
		if got := b.AppendWire(nil); !bytes.Equal(got, tt.wire) {
			t.Errorf("n=%d set=%v: wire % x, want % x", tt.n, tt.set, got, tt.wire)
		}
		back, err := FromWire(tt.wire, tt.n)
		if err != nil {
			t.Fatalf("FromWire(% x, %d): %v", tt.wire, tt.n, err)
		}
		for i := range tt.n {
			if back.Has(i) != b.Has(i) {
				t.Errorf("n=%d: bit %d differs after round trip", tt.n, i)
			}
		}
		if back.Count() != len(tt.set) {
			t.Errorf("n=%d: count %d, want %d", tt.n, back.Count(), len(tt.set))
		}
	}
}

func TestFromWireRejects(t *testing.T) {
	for _, tt := range []struct {
		wire []byte
		n    int
	}{
		{[]byte{0xff}, 9},                   // too short
		{[]byte{0xff, 0, 0}, 9},             // too long
		{[]byte{0xff, 0x40}, 9},             // spare bit set
		{[]byte{0x01}, 7},                   // spare bit set in a single byte
		{make([]byte, 9), 65 + 8},           // one byte short of 74 pieces
		{append(make([]byte, 8), 0x01), 65}, // bit 71 of 65
	} {
		if _, err := FromWire(tt.wire, tt.n); !errors.Is(err, ErrWireSize) {
			t.Errorf("FromWire(% x, %d) = %v, want ErrWireSize", tt.wire, tt.n, err)
		}
	}
}

func TestSetClearCount(t *testing.T) {
	b := New(130)
	if !b.None() || b.All() {
		t.Fatal("new bitfield not empty")
	}
	if !b.Set(129) || b.Set(129) || b.Count() != 1 {
		t.Fatal("Set did not report change once")
	}
	if !b.Clear(129) || b.Clear(129) || b.Count() != 0 {
		t.Fatal("Clear did not report change once")
	}
	b.SetAll()
	if !b.All() || b.Count() != 130 || b.Has(130) || b.Has(-1) {
		t.Fatalf("SetAll: all=%v count=%d", b.All(), b.Count())
	}
	if got := b.AppendWire(nil); got[len(got)-1] != 0xc0 {
		t.Fatalf("SetAll leaked spare bits: % x", got)
	}
}

func TestNextSetAndCountAndNot(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 50 {
		n := 1 + rng.IntN(300)
		a, b := New(n), New(n)
		for i := range n {
			if rng.IntN(3) == 0 {
				a.Set(i)
			}
			if rng.IntN(2) == 0 {
				b.Set(i)
			}
		}
		want := 0
		var set []int
		for i := range n {
			if a.Has(i) && !b.Has(i) {
				want++
			}
			if a.Has(i) {
				set = append(set, i)
			}
		}
		if got := a.CountAndNot(b); got != want {
			t.Fatalf("trial %d: CountAndNot = %d, want %d", trial, got, want)
		}
		var walked []int
		for i := a.NextSet(0); i >= 0; i = a.NextSet(i + 1) {
			walked = append(walked, i)
		}
		if len(walked) != len(set) {
			t.Fatalf("trial %d: NextSet walked %v, want %v", trial, walked, set)
		}
		for i := range set {
			if walked[i] != set[i] {
				t.Fatalf("trial %d: NextSet walked %v, want %v", trial, walked, set)
			}
		}
	}
}

func FuzzFromWire(f *testing.F) {
	f.Add([]byte{0x80, 0x80}, 9)
	f.Add([]byte{0xff}, 8)
	f.Add([]byte{0xff, 0xff}, 9) // spare bits set: an error
	f.Fuzz(func(t *testing.T, wire []byte, n int) {
		n %= 1 << 16
		if n < 0 {
			n = -n
		}
		b, err := FromWire(wire, n)
		// LoadWire into a full set: the same verdict, and either the
		// wire's set in place of every bit or, on error, the set as it was.
		full := Full(n)
		loadErr := full.LoadWire(wire)
		if (err == nil) != (loadErr == nil) {
			t.Fatalf("FromWire says %v, LoadWire %v", err, loadErr)
		}
		if err != nil {
			if got, want := full.AppendWire(nil), Full(n).AppendWire(nil); !bytes.Equal(got, want) || !full.All() {
				t.Fatalf("a failed LoadWire changed the set: % x, %d of %d counted", got, full.Count(), n)
			}
			return
		}
		if got := b.AppendWire(nil); !bytes.Equal(got, wire) {
			t.Fatalf("round trip % x -> % x", wire, got)
		}
		if got := full.AppendWire(nil); !bytes.Equal(got, wire) || full.Count() != b.Count() {
			t.Fatalf("LoadWire over a full set: % x (%d set), want % x (%d set)", got, full.Count(), wire, b.Count())
		}
	})
}
