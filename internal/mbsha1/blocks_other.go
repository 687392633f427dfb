//go:build !amd64

package mbsha1

// No multi-lane kernel for this architecture: Sum hashes one message at
// a time with crypto/sha1.
const (
	kernelNone = iota
	hostKernel = kernelNone
)

func kernels() []int { return nil }

func kernelName(int) string { return "none" }

func blocks(k int, state *[5][Lanes]uint32, ptrs *[Lanes]*byte, n int, w *[16][8]uint32, upper bool) {
	panic("mbsha1: no multi-lane kernel on this architecture")
}
