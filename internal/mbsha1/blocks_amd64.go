package mbsha1

import "golang.org/x/sys/cpu"

// The multi-lane kernels in blocks_amd64.s.
const (
	kernelNone = iota
	// kernelAVX512: sixteen lanes in 512-bit registers. It needs AVX-512
	// F (VPROLD, VPTERNLOGD) and BW (VPSHUFB on 512 bits).
	kernelAVX512
	// kernelAVX2: eight lanes in 256-bit registers, run twice for
	// sixteen. It is chosen only where the SHA extensions are missing:
	// with them, crypto/sha1 hashes one message about as fast as eight
	// lanes of AVX2 would.
	kernelAVX2
)

// hostKernel is the kernel this processor runs, fixed when the program
// starts. With AVX-512 it is used even where the SHA extensions exist,
// on the grounds that sixteen lanes (3.0-3.9 GB/s on one core here)
// outrun one SHA-NI stream: crypto/sha1 ran 1.85 GB/s in cache, 1.05
// from memory, on the SHA-NI machine internal/warmhash's comment
// describes. The two were never measured on one processor: the machine
// the kernels were written on lacks SHA-NI.
var hostKernel = func() int {
	switch {
	case cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW:
		return kernelAVX512
	case cpu.X86.HasAVX2 && !hasSHA():
		return kernelAVX2
	}
	return kernelNone
}()

// kernels lists the kernels this processor can run, for tests and
// benchmarks to try each.
func kernels() []int {
	var ks []int
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW {
		ks = append(ks, kernelAVX512)
	}
	if cpu.X86.HasAVX2 {
		ks = append(ks, kernelAVX2)
	}
	return ks
}

// kernelName names a kernel in benchmarks and test failures.
func kernelName(k int) string {
	switch k {
	case kernelAVX512:
		return "avx512"
	case kernelAVX2:
		return "avx2"
	}
	return "none"
}

// blocks runs kernel k over n blocks of each lane; upper says whether
// any of lanes 8-15 is in use (the AVX2 kernel skips them if not).
func blocks(k int, state *[5][Lanes]uint32, ptrs *[Lanes]*byte, n int, w *[16][8]uint32, upper bool) {
	switch k {
	case kernelAVX512:
		blocksAVX512(state, ptrs, n)
	case kernelAVX2:
		blocksAVX2(&state[0][0], &ptrs[0], n, w)
		if upper {
			blocksAVX2(&state[0][8], &ptrs[8], n, w)
		}
	default:
		panic("mbsha1: no multi-lane kernel")
	}
}

// blocksAVX512 compresses n 64-byte blocks of Lanes messages at once.
//
//go:noescape
func blocksAVX512(state *[5][Lanes]uint32, ptrs *[Lanes]*byte, n int)

// blocksAVX2 compresses n 64-byte blocks of eight messages at once: the
// lanes whose chaining values start at state (a row of [5][Lanes]uint32)
// and whose pointers start at ptrs.
//
//go:noescape
func blocksAVX2(state *uint32, ptrs **byte, n int, w *[16][8]uint32)

// cpuid runs the CPUID instruction.
//
//go:noescape
func cpuid(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)

// hasSHA reports whether the processor has the SHA extensions (CPUID
// leaf 7, EBX bit 29), which golang.org/x/sys/cpu does not report.
func hasSHA() bool {
	if max, _, _, _ := cpuid(0, 0); max < 7 {
		return false
	}
	_, ebx, _, _ := cpuid(7, 0)
	return ebx&(1<<29) != 0
}
