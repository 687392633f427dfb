package engine

import (
	"testing"
	"unsafe"
)

// TestPeerLayout holds the layout peer's comment promises: the fields
// every HAVE reads within the first 64 bytes, and a size that is a
// multiple of 64 (Go's size classes for 320, 384 and 448 bytes are), so
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
	if size := unsafe.Sizeof(p); size%64 != 0 {
		t.Errorf("peer is %d bytes, not a multiple of 64", size)
	}
}

// A large simulated world holds about a hundred pieces under way per
// simulated peer at its peak: a partial stays within the 96-byte size
// class.
func TestPartialSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the layout is planned for 64-bit platforms")
	}
	if size := unsafe.Sizeof(partial{}); size > 96 {
		t.Errorf("partial is %d bytes, more than 96", size)
	}
}
