package mbsha1

import "golang.org/x/sys/cpu"

// haveKernel says whether blocksAVX512 runs on this processor: it needs
// AVX-512 F (VPROLD, VPTERNLOGD, 512-bit registers) and BW (VPSHUFB on
// them). It is fixed when the program starts.
var haveKernel = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW

// blocksAVX512 compresses n 64-byte blocks of Lanes messages at once; see
// blocks_amd64.s.
//
//go:noescape
func blocksAVX512(state *[5][Lanes]uint32, ptrs *[Lanes]*byte, n int)

func blocks(state *[5][Lanes]uint32, ptrs *[Lanes]*byte, n int) { blocksAVX512(state, ptrs, n) }
