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
