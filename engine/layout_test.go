package engine

import (
	"math"
	"testing"
	"unsafe"
)

// TestPeerLayout holds the layout peer's comment promises: the fields
// every HAVE reads within the first 64 bytes, and a size that is a
// multiple of 64 (Go's size classes for 256, 320 and 384 bytes are), so
// that line stays aligned.
func TestPeerLayout(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the layout is planned for 64-bit platforms")
	}
	var p peer
	hot := []uintptr{unsafe.Offsetof(p.has) + unsafe.Sizeof(p.has), unsafe.Offsetof(p.id) + 8, unsafe.Offsetof(p.wanted) + 4, unsafe.Offsetof(p.allowsFast) + 1,
		unsafe.Offsetof(p.closing) + 1, unsafe.Offsetof(p.counted) + 1, unsafe.Offsetof(p.amInterested) + 1, unsafe.Offsetof(p.peerChoking) + 1}
	for _, end := range hot {
		if end > 64 {
			t.Errorf("a hot field ends at byte %d, past the first line", end)
		}
	}
	if size := unsafe.Sizeof(p); size%64 != 0 || size > 256 {
		t.Errorf("peer is %d bytes; want a multiple of 64, at most 256 (a world holds 40 per simulated peer)", size)
	}
}

// The peer struct keeps its queue depths and unrequested blocks in 16
// bits and its failed pieces in 8: limits beyond those are capped, and
// the counts stop at the top.
func TestPeerCountsFitTheirBits(t *testing.T) {
	huge := 1 << 40
	c := Config{MinQueue: huge, MaxQueue: huge, UploadWindow: huge, BanAfter: huge, MaxUnrequested: huge}.withDefaults()
	for name, v := range map[string]int{"MinQueue": c.MinQueue, "MaxQueue": c.MaxQueue, "UploadWindow": c.UploadWindow,
		"MaxUnrequested": c.MaxUnrequested} {
		if v != maxPeerCount {
			t.Errorf("%s %d, want it capped at %d", name, v, maxPeerCount)
		}
	}
	if c.BanAfter != maxBanAfter {
		t.Errorf("BanAfter %d, want it capped at %d", c.BanAfter, maxBanAfter)
	}
	for _, tc := range []struct{ in, want uint16 }{{0, 1}, {41, 42}, {65534, 65535}, {65535, 65535}} {
		if got := satInc(tc.in); got != tc.want {
			t.Errorf("satInc(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct{ in, want uint8 }{{0, 1}, {254, 255}, {255, 255}} {
		if got := satInc(tc.in); got != tc.want {
			t.Errorf("satInc(uint8 %d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// A large simulated world holds about a hundred pieces under way per
// simulated peer at its peak: a partial stays at 48 bytes, its first
// block inline.
func TestPartialSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the layout is planned for 64-bit platforms")
	}
	if size := unsafe.Sizeof(partial{}); size > 48 {
		t.Errorf("partial is %d bytes, more than 48", size)
	}
}

// An Action is written for every request, upload and verification, and
// its fields are ordered so that padding does not grow it: 200 bytes.
func TestActionSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the layout is planned for 64-bit platforms")
	}
	if size := unsafe.Sizeof(Action{}); size > 200 {
		t.Errorf("Action is %d bytes, more than 200", size)
	}
}

func TestSeqBeforeWraps(t *testing.T) {
	for _, tc := range []struct {
		a, b uint32
		want bool
	}{
		{1, 2, true},
		{2, 1, false},
		{7, 7, false},
		{math.MaxUint32, 0, true}, // the count wrapped: 0 came later
		{0, math.MaxUint32, false},
		{math.MaxUint32 - 5, 10, true},
	} {
		if got := seqBefore(tc.a, tc.b); got != tc.want {
			t.Errorf("seqBefore(%d, %d) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
