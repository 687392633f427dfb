package splitmix

import "testing"

// TestMix checks the first outputs of SplitMix64 seeded with 0, as
// published with the reference implementation (Vigna's splitmix64.c).
func TestMix(t *testing.T) {
	want := []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f}
	var state uint64
	for i, w := range want {
		if got := Mix(state); got != w {
			t.Errorf("output %d: %#x, want %#x", i, got, w)
		}
		state += 0x9e3779b97f4a7c15
	}
}
