package picker

import "golang.org/x/sys/cpu"

// simdLowest says whether rarestOf may use the AVX-512 kernels below. It
// is fixed when the program starts, from what the processor reports.
var simdLowest = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW

// lowestAVX512 returns the lowest of the counts whose pieces are set in
// cand[0:words] (64 counts per word), or 0xFFFF when none is. counts
// must hold words*64 counts.
//
//go:noescape
func lowestAVX512(counts *uint16, cand *uint64, words int) uint16

// tiesAVX512 sets eq[i] to the bits of cand[i] whose counts equal value,
// for i < words. counts must hold words*64 counts.
//
//go:noescape
func tiesAVX512(counts *uint16, cand *uint64, eq *uint64, words int, value uint16)
