package sim

import (
	"testing"
	"unsafe"
)

// TestLayoutSizes holds the sizes the comments promise for what a large
// world holds by the million: a connection end (80 bytes, a size class),
// a train item (24), a queued message (24) and a flight (32, a size
// class).
func TestLayoutSizes(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the layout is planned for 64-bit platforms")
	}
	for _, tc := range []struct {
		name       string
		size, most uintptr
	}{
		{"conn", unsafe.Sizeof(conn{}), 80},
		{"trainItem", unsafe.Sizeof(trainItem{}), 24},
		{"packed", unsafe.Sizeof(packed{}), 24},
		{"flight", unsafe.Sizeof(flight{}), 32},
	} {
		if tc.size > tc.most {
			t.Errorf("%s is %d bytes, more than %d", tc.name, tc.size, tc.most)
		}
	}
}

// TestConnEndsLieTogether checks that a peer's connection ends come one
// after another in memory, a block at a time: a HAVE fan-out reads them
// in that order, as a run the processor fetches ahead (see newConn).
func TestConnEndsLieTogether(t *testing.T) {
	var p peer
	first := p.newConn()
	for i := 1; i < connBlock; i++ {
		c := p.newConn()
		at := uintptr(unsafe.Pointer(c)) - uintptr(unsafe.Pointer(first))
		if want := uintptr(i) * unsafe.Sizeof(conn{}); at != want {
			t.Fatalf("end %d is %d bytes past the first, want %d", i, at, want)
		}
	}
}
