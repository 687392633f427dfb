#include "textflag.h"

// func lowestAVX512(counts *uint16, cand *uint64, words int) uint16
//
// The lowest count among the pieces whose bits are set in cand[0:words],
// where counts holds 64 counts per word; 0xFFFF when no bit is set. Each
// word's 64 counts are two 512-bit rows of 32; a masked unsigned minimum
// folds in only the candidates' counts.
TEXT ·lowestAVX512(SB), NOSPLIT, $0-26
	MOVQ counts+0(FP), SI
	MOVQ cand+8(FP), DI
	MOVQ words+16(FP), CX
	VPTERNLOGD $0xff, Z0, Z0, Z0
	VMOVDQA64 Z0, Z1

loop:
	TESTQ CX, CX
	JZ    reduce
	KMOVQ (DI), K1
	KSHIFTRQ $32, K1, K2
	VPMINUW (SI), Z0, K1, Z0
	VPMINUW 64(SI), Z1, K2, Z1
	ADDQ  $128, SI
	ADDQ  $8, DI
	DECQ  CX
	JMP   loop

reduce:
	VPMINUW Z1, Z0, Z0
	VEXTRACTI64X4 $1, Z0, Y1
	VPMINUW Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPMINUW X1, X0, X0
	VPHMINPOSUW X0, X0
	VMOVD X0, AX
	MOVW  AX, ret+24(FP)
	VZEROUPPER
	RET

// func tiesAVX512(counts *uint16, cand *uint64, eq *uint64, words int, value uint16)
//
// eq[i] gets the bits of cand[i] whose pieces have count value.
TEXT ·tiesAVX512(SB), NOSPLIT, $0-34
	MOVQ counts+0(FP), SI
	MOVQ cand+8(FP), DI
	MOVQ eq+16(FP), DX
	MOVQ words+24(FP), CX
	MOVWLZX value+32(FP), AX
	VPBROADCASTW AX, Z2

loop:
	TESTQ CX, CX
	JZ    done
	KMOVQ (DI), K1
	KSHIFTRQ $32, K1, K2
	VPCMPEQW (SI), Z2, K1, K3
	VPCMPEQW 64(SI), Z2, K2, K4
	KMOVD K3, AX
	KMOVD K4, BX
	SHLQ  $32, BX
	ORQ   BX, AX
	MOVQ  AX, (DX)
	ADDQ  $128, SI
	ADDQ  $8, DI
	ADDQ  $8, DX
	DECQ  CX
	JMP   loop

done:
	VZEROUPPER
	RET
