//go:build !amd64

package mbsha1

// haveKernel: no multi-lane kernel for this architecture; Sum hashes one
// message at a time with crypto/sha1.
const haveKernel = false

func blocks(state *[5][Lanes]uint32, ptrs *[Lanes]*byte, n int) {
	panic("mbsha1: no multi-lane kernel on this architecture")
}
