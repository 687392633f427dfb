#include "textflag.h"

// func blocksAVX512(state *[5][16]uint32, ptrs *[16]*byte, n int)
//
// Runs SHA-1's compression function over n 64-byte blocks of 16 messages
// at once: lane i reads its blocks from ptrs[i], ptrs[i]+64, ... and keeps
// its chaining value in column i of state (state[0] holds h0 of every
// lane, and so on). One 512-bit register holds one 32-bit word of all 16
// lanes, so each step of the algorithm (FIPS 180-4, section 6.1.2) is one
// instruction for all of them: VPROLD rotates, VPTERNLOGD computes the
// three-input functions Ch, Parity and Maj in one step.
//
// Per block: the 16 rows are loaded (one per lane), byte-swapped to
// big-endian words, and transposed into W[0..15] (Z16-Z31, one word of
// every lane each) in four rounds of shuffles; the 80 rounds then run on
// a, b, c, d, e in Z0-Z4 with the message schedule kept in W's 16
// registers, and the result is added into state.
//
// Registers: Z0-Z4 working variables (renamed round by round), Z5-Z6
// temporaries, Z8 the round constant, Z16-Z31 the message schedule;
// Z0-Z15 also serve the transpose before the rounds.

// ROUND: e += rol(a,5) + f(b,c,d) + K + w; b = rol(b,30). f is
// VPTERNLOGD's truth table over (b, c, d); the copy of b keeps b for the
// rotation.
#define ROUND(f, a, b, c, d, e, w) \
	VPADDD     Z8, e, e;          \
	VPADDD     w, e, e;           \
	VMOVDQA32  b, Z5;             \
	VPTERNLOGD $f, d, c, Z5;      \
	VPADDD     Z5, e, e;          \
	VPROLD     $5, a, Z6;         \
	VPADDD     Z6, e, e;          \
	VPROLD     $30, b, b

// SCHED: w16 = rol(w3 ^ w8 ^ w14 ^ w16, 1), in place of w16, the word
// 16 rounds back (W[t] replaces W[t-16] in the ring of 16).
#define SCHED(w3, w8, w14, w16) \
	VPTERNLOGD $0x96, w14, w8, w16; \
	VPXORD     w3, w16, w16;        \
	VPROLD     $1, w16, w16

// Truth tables: Ch = b ? c : d, Parity = b ^ c ^ d, Maj = majority.
#define CH 0xca
#define PARITY 0x96
#define MAJ 0xe8

TEXT ·blocksAVX512(SB), NOSPLIT, $0-24
	MOVQ state+0(FP), DI
	MOVQ ptrs+8(FP), SI
	MOVQ n+16(FP), CX
	TESTQ CX, CX
	JZ   done
	XORQ DX, DX

loop:
	MOVQ 0(SI), R8
	VMOVDQU32 (R8)(DX*1), Z16
	VPSHUFB bswap<>(SB), Z16, Z16
	MOVQ 8(SI), R8
	VMOVDQU32 (R8)(DX*1), Z17
	VPSHUFB bswap<>(SB), Z17, Z17
	MOVQ 16(SI), R8
	VMOVDQU32 (R8)(DX*1), Z18
	VPSHUFB bswap<>(SB), Z18, Z18
	MOVQ 24(SI), R8
	VMOVDQU32 (R8)(DX*1), Z19
	VPSHUFB bswap<>(SB), Z19, Z19
	MOVQ 32(SI), R8
	VMOVDQU32 (R8)(DX*1), Z20
	VPSHUFB bswap<>(SB), Z20, Z20
	MOVQ 40(SI), R8
	VMOVDQU32 (R8)(DX*1), Z21
	VPSHUFB bswap<>(SB), Z21, Z21
	MOVQ 48(SI), R8
	VMOVDQU32 (R8)(DX*1), Z22
	VPSHUFB bswap<>(SB), Z22, Z22
	MOVQ 56(SI), R8
	VMOVDQU32 (R8)(DX*1), Z23
	VPSHUFB bswap<>(SB), Z23, Z23
	MOVQ 64(SI), R8
	VMOVDQU32 (R8)(DX*1), Z24
	VPSHUFB bswap<>(SB), Z24, Z24
	MOVQ 72(SI), R8
	VMOVDQU32 (R8)(DX*1), Z25
	VPSHUFB bswap<>(SB), Z25, Z25
	MOVQ 80(SI), R8
	VMOVDQU32 (R8)(DX*1), Z26
	VPSHUFB bswap<>(SB), Z26, Z26
	MOVQ 88(SI), R8
	VMOVDQU32 (R8)(DX*1), Z27
	VPSHUFB bswap<>(SB), Z27, Z27
	MOVQ 96(SI), R8
	VMOVDQU32 (R8)(DX*1), Z28
	VPSHUFB bswap<>(SB), Z28, Z28
	MOVQ 104(SI), R8
	VMOVDQU32 (R8)(DX*1), Z29
	VPSHUFB bswap<>(SB), Z29, Z29
	MOVQ 112(SI), R8
	VMOVDQU32 (R8)(DX*1), Z30
	VPSHUFB bswap<>(SB), Z30, Z30
	MOVQ 120(SI), R8
	VMOVDQU32 (R8)(DX*1), Z31
	VPSHUFB bswap<>(SB), Z31, Z31

	// Transpose, step 1: dwords of row pairs.
	VPUNPCKLDQ Z17, Z16, Z0
	VPUNPCKHDQ Z17, Z16, Z1
	VPUNPCKLDQ Z19, Z18, Z2
	VPUNPCKHDQ Z19, Z18, Z3
	VPUNPCKLDQ Z21, Z20, Z4
	VPUNPCKHDQ Z21, Z20, Z5
	VPUNPCKLDQ Z23, Z22, Z6
	VPUNPCKHDQ Z23, Z22, Z7
	VPUNPCKLDQ Z25, Z24, Z8
	VPUNPCKHDQ Z25, Z24, Z9
	VPUNPCKLDQ Z27, Z26, Z10
	VPUNPCKHDQ Z27, Z26, Z11
	VPUNPCKLDQ Z29, Z28, Z12
	VPUNPCKHDQ Z29, Z28, Z13
	VPUNPCKLDQ Z31, Z30, Z14
	VPUNPCKHDQ Z31, Z30, Z15

	// Step 2: quadwords of row quads; Z(16+4g+c) holds rows 4g..4g+3 of
	// columns c, c+4, c+8, c+12, one per 128-bit lane.
	VPUNPCKLQDQ Z2, Z0, Z16
	VPUNPCKHQDQ Z2, Z0, Z17
	VPUNPCKLQDQ Z3, Z1, Z18
	VPUNPCKHQDQ Z3, Z1, Z19
	VPUNPCKLQDQ Z6, Z4, Z20
	VPUNPCKHQDQ Z6, Z4, Z21
	VPUNPCKLQDQ Z7, Z5, Z22
	VPUNPCKHQDQ Z7, Z5, Z23
	VPUNPCKLQDQ Z10, Z8, Z24
	VPUNPCKHQDQ Z10, Z8, Z25
	VPUNPCKLQDQ Z11, Z9, Z26
	VPUNPCKHQDQ Z11, Z9, Z27
	VPUNPCKLQDQ Z14, Z12, Z28
	VPUNPCKHQDQ Z14, Z12, Z29
	VPUNPCKLQDQ Z15, Z13, Z30
	VPUNPCKHQDQ Z15, Z13, Z31

	// Steps 3 and 4: gather each column's four 128-bit lanes.
	VSHUFI32X4 $0x44, Z20, Z16, Z0
	VSHUFI32X4 $0xee, Z20, Z16, Z1
	VSHUFI32X4 $0x44, Z28, Z24, Z2
	VSHUFI32X4 $0xee, Z28, Z24, Z3
	VSHUFI32X4 $0x44, Z21, Z17, Z4
	VSHUFI32X4 $0xee, Z21, Z17, Z5
	VSHUFI32X4 $0x44, Z29, Z25, Z6
	VSHUFI32X4 $0xee, Z29, Z25, Z7
	VSHUFI32X4 $0x44, Z22, Z18, Z8
	VSHUFI32X4 $0xee, Z22, Z18, Z9
	VSHUFI32X4 $0x44, Z30, Z26, Z10
	VSHUFI32X4 $0xee, Z30, Z26, Z11
	VSHUFI32X4 $0x44, Z23, Z19, Z12
	VSHUFI32X4 $0xee, Z23, Z19, Z13
	VSHUFI32X4 $0x44, Z31, Z27, Z14
	VSHUFI32X4 $0xee, Z31, Z27, Z15
	VSHUFI32X4 $0x88, Z2, Z0, Z16
	VSHUFI32X4 $0xdd, Z2, Z0, Z20
	VSHUFI32X4 $0x88, Z3, Z1, Z24
	VSHUFI32X4 $0xdd, Z3, Z1, Z28
	VSHUFI32X4 $0x88, Z6, Z4, Z17
	VSHUFI32X4 $0xdd, Z6, Z4, Z21
	VSHUFI32X4 $0x88, Z7, Z5, Z25
	VSHUFI32X4 $0xdd, Z7, Z5, Z29
	VSHUFI32X4 $0x88, Z10, Z8, Z18
	VSHUFI32X4 $0xdd, Z10, Z8, Z22
	VSHUFI32X4 $0x88, Z11, Z9, Z26
	VSHUFI32X4 $0xdd, Z11, Z9, Z30
	VSHUFI32X4 $0x88, Z14, Z12, Z19
	VSHUFI32X4 $0xdd, Z14, Z12, Z23
	VSHUFI32X4 $0x88, Z15, Z13, Z27
	VSHUFI32X4 $0xdd, Z15, Z13, Z31

	// a..e from the chaining values.
	VMOVDQU32 0(DI), Z0
	VMOVDQU32 64(DI), Z1
	VMOVDQU32 128(DI), Z2
	VMOVDQU32 192(DI), Z3
	VMOVDQU32 256(DI), Z4

	// Rounds 0-19.
	VPBROADCASTD k<>+0(SB), Z8
	ROUND(CH, Z0, Z1, Z2, Z3, Z4, Z16)
	ROUND(CH, Z4, Z0, Z1, Z2, Z3, Z17)
	ROUND(CH, Z3, Z4, Z0, Z1, Z2, Z18)
	ROUND(CH, Z2, Z3, Z4, Z0, Z1, Z19)
	ROUND(CH, Z1, Z2, Z3, Z4, Z0, Z20)
	ROUND(CH, Z0, Z1, Z2, Z3, Z4, Z21)
	ROUND(CH, Z4, Z0, Z1, Z2, Z3, Z22)
	ROUND(CH, Z3, Z4, Z0, Z1, Z2, Z23)
	ROUND(CH, Z2, Z3, Z4, Z0, Z1, Z24)
	ROUND(CH, Z1, Z2, Z3, Z4, Z0, Z25)
	ROUND(CH, Z0, Z1, Z2, Z3, Z4, Z26)
	ROUND(CH, Z4, Z0, Z1, Z2, Z3, Z27)
	ROUND(CH, Z3, Z4, Z0, Z1, Z2, Z28)
	ROUND(CH, Z2, Z3, Z4, Z0, Z1, Z29)
	ROUND(CH, Z1, Z2, Z3, Z4, Z0, Z30)
	ROUND(CH, Z0, Z1, Z2, Z3, Z4, Z31)
	SCHED(Z29, Z24, Z18, Z16)
	ROUND(CH, Z4, Z0, Z1, Z2, Z3, Z16)
	SCHED(Z30, Z25, Z19, Z17)
	ROUND(CH, Z3, Z4, Z0, Z1, Z2, Z17)
	SCHED(Z31, Z26, Z20, Z18)
	ROUND(CH, Z2, Z3, Z4, Z0, Z1, Z18)
	SCHED(Z16, Z27, Z21, Z19)
	ROUND(CH, Z1, Z2, Z3, Z4, Z0, Z19)

	// Rounds 20-39.
	VPBROADCASTD k<>+4(SB), Z8
	SCHED(Z17, Z28, Z22, Z20)
	ROUND(PARITY, Z0, Z1, Z2, Z3, Z4, Z20)
	SCHED(Z18, Z29, Z23, Z21)
	ROUND(PARITY, Z4, Z0, Z1, Z2, Z3, Z21)
	SCHED(Z19, Z30, Z24, Z22)
	ROUND(PARITY, Z3, Z4, Z0, Z1, Z2, Z22)
	SCHED(Z20, Z31, Z25, Z23)
	ROUND(PARITY, Z2, Z3, Z4, Z0, Z1, Z23)
	SCHED(Z21, Z16, Z26, Z24)
	ROUND(PARITY, Z1, Z2, Z3, Z4, Z0, Z24)
	SCHED(Z22, Z17, Z27, Z25)
	ROUND(PARITY, Z0, Z1, Z2, Z3, Z4, Z25)
	SCHED(Z23, Z18, Z28, Z26)
	ROUND(PARITY, Z4, Z0, Z1, Z2, Z3, Z26)
	SCHED(Z24, Z19, Z29, Z27)
	ROUND(PARITY, Z3, Z4, Z0, Z1, Z2, Z27)
	SCHED(Z25, Z20, Z30, Z28)
	ROUND(PARITY, Z2, Z3, Z4, Z0, Z1, Z28)
	SCHED(Z26, Z21, Z31, Z29)
	ROUND(PARITY, Z1, Z2, Z3, Z4, Z0, Z29)
	SCHED(Z27, Z22, Z16, Z30)
	ROUND(PARITY, Z0, Z1, Z2, Z3, Z4, Z30)
	SCHED(Z28, Z23, Z17, Z31)
	ROUND(PARITY, Z4, Z0, Z1, Z2, Z3, Z31)
	SCHED(Z29, Z24, Z18, Z16)
	ROUND(PARITY, Z3, Z4, Z0, Z1, Z2, Z16)
	SCHED(Z30, Z25, Z19, Z17)
	ROUND(PARITY, Z2, Z3, Z4, Z0, Z1, Z17)
	SCHED(Z31, Z26, Z20, Z18)
	ROUND(PARITY, Z1, Z2, Z3, Z4, Z0, Z18)
	SCHED(Z16, Z27, Z21, Z19)
	ROUND(PARITY, Z0, Z1, Z2, Z3, Z4, Z19)
	SCHED(Z17, Z28, Z22, Z20)
	ROUND(PARITY, Z4, Z0, Z1, Z2, Z3, Z20)
	SCHED(Z18, Z29, Z23, Z21)
	ROUND(PARITY, Z3, Z4, Z0, Z1, Z2, Z21)
	SCHED(Z19, Z30, Z24, Z22)
	ROUND(PARITY, Z2, Z3, Z4, Z0, Z1, Z22)
	SCHED(Z20, Z31, Z25, Z23)
	ROUND(PARITY, Z1, Z2, Z3, Z4, Z0, Z23)

	// Rounds 40-59.
	VPBROADCASTD k<>+8(SB), Z8
	SCHED(Z21, Z16, Z26, Z24)
	ROUND(MAJ, Z0, Z1, Z2, Z3, Z4, Z24)
	SCHED(Z22, Z17, Z27, Z25)
	ROUND(MAJ, Z4, Z0, Z1, Z2, Z3, Z25)
	SCHED(Z23, Z18, Z28, Z26)
	ROUND(MAJ, Z3, Z4, Z0, Z1, Z2, Z26)
	SCHED(Z24, Z19, Z29, Z27)
	ROUND(MAJ, Z2, Z3, Z4, Z0, Z1, Z27)
	SCHED(Z25, Z20, Z30, Z28)
	ROUND(MAJ, Z1, Z2, Z3, Z4, Z0, Z28)
	SCHED(Z26, Z21, Z31, Z29)
	ROUND(MAJ, Z0, Z1, Z2, Z3, Z4, Z29)
	SCHED(Z27, Z22, Z16, Z30)
	ROUND(MAJ, Z4, Z0, Z1, Z2, Z3, Z30)
	SCHED(Z28, Z23, Z17, Z31)
	ROUND(MAJ, Z3, Z4, Z0, Z1, Z2, Z31)
	SCHED(Z29, Z24, Z18, Z16)
	ROUND(MAJ, Z2, Z3, Z4, Z0, Z1, Z16)
	SCHED(Z30, Z25, Z19, Z17)
	ROUND(MAJ, Z1, Z2, Z3, Z4, Z0, Z17)
	SCHED(Z31, Z26, Z20, Z18)
	ROUND(MAJ, Z0, Z1, Z2, Z3, Z4, Z18)
	SCHED(Z16, Z27, Z21, Z19)
	ROUND(MAJ, Z4, Z0, Z1, Z2, Z3, Z19)
	SCHED(Z17, Z28, Z22, Z20)
	ROUND(MAJ, Z3, Z4, Z0, Z1, Z2, Z20)
	SCHED(Z18, Z29, Z23, Z21)
	ROUND(MAJ, Z2, Z3, Z4, Z0, Z1, Z21)
	SCHED(Z19, Z30, Z24, Z22)
	ROUND(MAJ, Z1, Z2, Z3, Z4, Z0, Z22)
	SCHED(Z20, Z31, Z25, Z23)
	ROUND(MAJ, Z0, Z1, Z2, Z3, Z4, Z23)
	SCHED(Z21, Z16, Z26, Z24)
	ROUND(MAJ, Z4, Z0, Z1, Z2, Z3, Z24)
	SCHED(Z22, Z17, Z27, Z25)
	ROUND(MAJ, Z3, Z4, Z0, Z1, Z2, Z25)
	SCHED(Z23, Z18, Z28, Z26)
	ROUND(MAJ, Z2, Z3, Z4, Z0, Z1, Z26)
	SCHED(Z24, Z19, Z29, Z27)
	ROUND(MAJ, Z1, Z2, Z3, Z4, Z0, Z27)

	// Rounds 60-79.
	VPBROADCASTD k<>+12(SB), Z8
	SCHED(Z25, Z20, Z30, Z28)
	ROUND(PARITY, Z0, Z1, Z2, Z3, Z4, Z28)
	SCHED(Z26, Z21, Z31, Z29)
	ROUND(PARITY, Z4, Z0, Z1, Z2, Z3, Z29)
	SCHED(Z27, Z22, Z16, Z30)
	ROUND(PARITY, Z3, Z4, Z0, Z1, Z2, Z30)
	SCHED(Z28, Z23, Z17, Z31)
	ROUND(PARITY, Z2, Z3, Z4, Z0, Z1, Z31)
	SCHED(Z29, Z24, Z18, Z16)
	ROUND(PARITY, Z1, Z2, Z3, Z4, Z0, Z16)
	SCHED(Z30, Z25, Z19, Z17)
	ROUND(PARITY, Z0, Z1, Z2, Z3, Z4, Z17)
	SCHED(Z31, Z26, Z20, Z18)
	ROUND(PARITY, Z4, Z0, Z1, Z2, Z3, Z18)
	SCHED(Z16, Z27, Z21, Z19)
	ROUND(PARITY, Z3, Z4, Z0, Z1, Z2, Z19)
	SCHED(Z17, Z28, Z22, Z20)
	ROUND(PARITY, Z2, Z3, Z4, Z0, Z1, Z20)
	SCHED(Z18, Z29, Z23, Z21)
	ROUND(PARITY, Z1, Z2, Z3, Z4, Z0, Z21)
	SCHED(Z19, Z30, Z24, Z22)
	ROUND(PARITY, Z0, Z1, Z2, Z3, Z4, Z22)
	SCHED(Z20, Z31, Z25, Z23)
	ROUND(PARITY, Z4, Z0, Z1, Z2, Z3, Z23)
	SCHED(Z21, Z16, Z26, Z24)
	ROUND(PARITY, Z3, Z4, Z0, Z1, Z2, Z24)
	SCHED(Z22, Z17, Z27, Z25)
	ROUND(PARITY, Z2, Z3, Z4, Z0, Z1, Z25)
	SCHED(Z23, Z18, Z28, Z26)
	ROUND(PARITY, Z1, Z2, Z3, Z4, Z0, Z26)
	SCHED(Z24, Z19, Z29, Z27)
	ROUND(PARITY, Z0, Z1, Z2, Z3, Z4, Z27)
	SCHED(Z25, Z20, Z30, Z28)
	ROUND(PARITY, Z4, Z0, Z1, Z2, Z3, Z28)
	SCHED(Z26, Z21, Z31, Z29)
	ROUND(PARITY, Z3, Z4, Z0, Z1, Z2, Z29)
	SCHED(Z27, Z22, Z16, Z30)
	ROUND(PARITY, Z2, Z3, Z4, Z0, Z1, Z30)
	SCHED(Z28, Z23, Z17, Z31)
	ROUND(PARITY, Z1, Z2, Z3, Z4, Z0, Z31)

	// Add into the chaining values.
	VPADDD 0(DI), Z0, Z0
	VMOVDQU32 Z0, 0(DI)
	VPADDD 64(DI), Z1, Z1
	VMOVDQU32 Z1, 64(DI)
	VPADDD 128(DI), Z2, Z2
	VMOVDQU32 Z2, 128(DI)
	VPADDD 192(DI), Z3, Z3
	VMOVDQU32 Z3, 192(DI)
	VPADDD 256(DI), Z4, Z4
	VMOVDQU32 Z4, 256(DI)

	ADDQ $64, DX
	DECQ CX
	JNZ  loop

done:
	VZEROUPPER
	RET

// func blocksAVX2(state *uint32, ptrs **byte, n int, w *[16][8]uint32)
//
// blocksAVX512's work for eight lanes, for processors with AVX2 but not
// AVX-512: one 256-bit register holds one word of eight lanes. state
// points at the first of the eight lanes' columns in a [5][16]uint32
// (rows 64 bytes apart), ptrs at eight block pointers, and w is scratch
// for the message schedule, which does not fit in AVX2's sixteen
// registers beside the working variables.
//
// AVX2 has neither rotates nor three-input logic, so a rotation is two
// shifts and an OR, and Ch, Parity and Maj take two to four
// instructions: Ch = d ^ (b & (c ^ d)), Maj = (b & c) | (d & (b | c)).
//
// The macros are blocksAVX512's, suffixed 8.
//
// Registers: Y0-Y4 working variables (renamed round by round), Y5-Y6
// temporaries, Y7 the schedule word of the round, Y8 the round constant;
// Y0-Y15 serve the transpose before the rounds.

#define ROL8(n, x, t) \
	VPSLLD $n, x, t;      \
	VPSRLD $(32-n), x, x; \
	VPOR   t, x, x

#define CH8(b, c, d) \
	VPXOR c, d, Y5; \
	VPAND b, Y5, Y5; \
	VPXOR d, Y5, Y5

#define PARITY8(b, c, d) \
	VPXOR c, b, Y5; \
	VPXOR d, Y5, Y5

#define MAJ8(b, c, d) \
	VPOR  c, b, Y5;  \
	VPAND d, Y5, Y5; \
	VPAND c, b, Y6;  \
	VPOR  Y6, Y5, Y5

// ROUND: e += rol(a,5) + f(b,c,d) + K + w; b = rol(b,30). f leaves its
// result in Y5.
#define ROUND8(f, a, b, c, d, e, w) \
	VPADDD Y8, e, e;      \
	VPADDD w, e, e;       \
	f(b, c, d);           \
	VPADDD Y5, e, e;      \
	VPSLLD $5, a, Y5;     \
	VPSRLD $27, a, Y6;    \
	VPOR   Y6, Y5, Y5;    \
	VPADDD Y5, e, e;      \
	ROL8(30, b, Y6)

// SCHED: Y7 = W[t] = rol(W[t-3] ^ W[t-8] ^ W[t-14] ^ W[t-16], 1), stored
// over W[t-16] in the ring of 16 at w.
#define SCHED8(o3, o8, o14, o16) \
	VMOVDQU o3(R9), Y7;      \
	VPXOR   o8(R9), Y7, Y7;  \
	VPXOR   o14(R9), Y7, Y7; \
	VPXOR   o16(R9), Y7, Y7; \
	ROL8(1, Y7, Y6);          \
	VMOVDQU Y7, o16(R9)

// TRANSPOSE8: rows of eight lanes (32 bytes at src past each lane's
// pointer plus DX), byte-swapped and transposed into eight schedule
// words at dst.
#define TRANSPOSE8(src, dst) \
	MOVQ 0(SI), R8;                 \
	VMOVDQU src(R8)(DX*1), Y0;      \
	VPSHUFB bswap<>(SB), Y0, Y0;    \
	MOVQ 8(SI), R8;                 \
	VMOVDQU src(R8)(DX*1), Y1;      \
	VPSHUFB bswap<>(SB), Y1, Y1;    \
	MOVQ 16(SI), R8;                \
	VMOVDQU src(R8)(DX*1), Y2;      \
	VPSHUFB bswap<>(SB), Y2, Y2;    \
	MOVQ 24(SI), R8;                \
	VMOVDQU src(R8)(DX*1), Y3;      \
	VPSHUFB bswap<>(SB), Y3, Y3;    \
	MOVQ 32(SI), R8;                \
	VMOVDQU src(R8)(DX*1), Y4;      \
	VPSHUFB bswap<>(SB), Y4, Y4;    \
	MOVQ 40(SI), R8;                \
	VMOVDQU src(R8)(DX*1), Y5;      \
	VPSHUFB bswap<>(SB), Y5, Y5;    \
	MOVQ 48(SI), R8;                \
	VMOVDQU src(R8)(DX*1), Y6;      \
	VPSHUFB bswap<>(SB), Y6, Y6;    \
	MOVQ 56(SI), R8;                \
	VMOVDQU src(R8)(DX*1), Y7;      \
	VPSHUFB bswap<>(SB), Y7, Y7;    \
	VPUNPCKLDQ Y1, Y0, Y8;          \
	VPUNPCKHDQ Y1, Y0, Y9;          \
	VPUNPCKLDQ Y3, Y2, Y10;         \
	VPUNPCKHDQ Y3, Y2, Y11;         \
	VPUNPCKLDQ Y5, Y4, Y12;         \
	VPUNPCKHDQ Y5, Y4, Y13;         \
	VPUNPCKLDQ Y7, Y6, Y14;         \
	VPUNPCKHDQ Y7, Y6, Y15;         \
	VPUNPCKLQDQ Y10, Y8, Y0;        \
	VPUNPCKHQDQ Y10, Y8, Y1;        \
	VPUNPCKLQDQ Y11, Y9, Y2;        \
	VPUNPCKHQDQ Y11, Y9, Y3;        \
	VPUNPCKLQDQ Y14, Y12, Y4;       \
	VPUNPCKHQDQ Y14, Y12, Y5;       \
	VPUNPCKLQDQ Y15, Y13, Y6;       \
	VPUNPCKHQDQ Y15, Y13, Y7;       \
	VPERM2I128 $0x20, Y4, Y0, Y8;   \
	VPERM2I128 $0x31, Y4, Y0, Y12;  \
	VPERM2I128 $0x20, Y5, Y1, Y9;   \
	VPERM2I128 $0x31, Y5, Y1, Y13;  \
	VPERM2I128 $0x20, Y6, Y2, Y10;  \
	VPERM2I128 $0x31, Y6, Y2, Y14;  \
	VPERM2I128 $0x20, Y7, Y3, Y11;  \
	VPERM2I128 $0x31, Y7, Y3, Y15;  \
	VMOVDQU Y8, 0(dst);             \
	VMOVDQU Y9, 32(dst);            \
	VMOVDQU Y10, 64(dst);           \
	VMOVDQU Y11, 96(dst);           \
	VMOVDQU Y12, 128(dst);          \
	VMOVDQU Y13, 160(dst);          \
	VMOVDQU Y14, 192(dst);          \
	VMOVDQU Y15, 224(dst)

TEXT ·blocksAVX2(SB), NOSPLIT, $0-32
	MOVQ state+0(FP), DI
	MOVQ ptrs+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ w+24(FP), R9
	LEAQ 256(R9), R10
	TESTQ CX, CX
	JZ   done8
	XORQ DX, DX

loop8:

	// Words 0-7 of each lane, then words 8-15.
	TRANSPOSE8(0, R9)
	TRANSPOSE8(32, R10)

	// a..e from the chaining values.
	VMOVDQU 0(DI), Y0
	VMOVDQU 64(DI), Y1
	VMOVDQU 128(DI), Y2
	VMOVDQU 192(DI), Y3
	VMOVDQU 256(DI), Y4

	// Rounds 0-19.
	VPBROADCASTD k<>+0(SB), Y8
	ROUND8(CH8, Y0, Y1, Y2, Y3, Y4, 0(R9))
	ROUND8(CH8, Y4, Y0, Y1, Y2, Y3, 32(R9))
	ROUND8(CH8, Y3, Y4, Y0, Y1, Y2, 64(R9))
	ROUND8(CH8, Y2, Y3, Y4, Y0, Y1, 96(R9))
	ROUND8(CH8, Y1, Y2, Y3, Y4, Y0, 128(R9))
	ROUND8(CH8, Y0, Y1, Y2, Y3, Y4, 160(R9))
	ROUND8(CH8, Y4, Y0, Y1, Y2, Y3, 192(R9))
	ROUND8(CH8, Y3, Y4, Y0, Y1, Y2, 224(R9))
	ROUND8(CH8, Y2, Y3, Y4, Y0, Y1, 256(R9))
	ROUND8(CH8, Y1, Y2, Y3, Y4, Y0, 288(R9))
	ROUND8(CH8, Y0, Y1, Y2, Y3, Y4, 320(R9))
	ROUND8(CH8, Y4, Y0, Y1, Y2, Y3, 352(R9))
	ROUND8(CH8, Y3, Y4, Y0, Y1, Y2, 384(R9))
	ROUND8(CH8, Y2, Y3, Y4, Y0, Y1, 416(R9))
	ROUND8(CH8, Y1, Y2, Y3, Y4, Y0, 448(R9))
	ROUND8(CH8, Y0, Y1, Y2, Y3, Y4, 480(R9))
	SCHED8(416, 256, 64, 0)
	ROUND8(CH8, Y4, Y0, Y1, Y2, Y3, Y7)
	SCHED8(448, 288, 96, 32)
	ROUND8(CH8, Y3, Y4, Y0, Y1, Y2, Y7)
	SCHED8(480, 320, 128, 64)
	ROUND8(CH8, Y2, Y3, Y4, Y0, Y1, Y7)
	SCHED8(0, 352, 160, 96)
	ROUND8(CH8, Y1, Y2, Y3, Y4, Y0, Y7)

	// Rounds 20-39.
	VPBROADCASTD k<>+4(SB), Y8
	SCHED8(32, 384, 192, 128)
	ROUND8(PARITY8, Y0, Y1, Y2, Y3, Y4, Y7)
	SCHED8(64, 416, 224, 160)
	ROUND8(PARITY8, Y4, Y0, Y1, Y2, Y3, Y7)
	SCHED8(96, 448, 256, 192)
	ROUND8(PARITY8, Y3, Y4, Y0, Y1, Y2, Y7)
	SCHED8(128, 480, 288, 224)
	ROUND8(PARITY8, Y2, Y3, Y4, Y0, Y1, Y7)
	SCHED8(160, 0, 320, 256)
	ROUND8(PARITY8, Y1, Y2, Y3, Y4, Y0, Y7)
	SCHED8(192, 32, 352, 288)
	ROUND8(PARITY8, Y0, Y1, Y2, Y3, Y4, Y7)
	SCHED8(224, 64, 384, 320)
	ROUND8(PARITY8, Y4, Y0, Y1, Y2, Y3, Y7)
	SCHED8(256, 96, 416, 352)
	ROUND8(PARITY8, Y3, Y4, Y0, Y1, Y2, Y7)
	SCHED8(288, 128, 448, 384)
	ROUND8(PARITY8, Y2, Y3, Y4, Y0, Y1, Y7)
	SCHED8(320, 160, 480, 416)
	ROUND8(PARITY8, Y1, Y2, Y3, Y4, Y0, Y7)
	SCHED8(352, 192, 0, 448)
	ROUND8(PARITY8, Y0, Y1, Y2, Y3, Y4, Y7)
	SCHED8(384, 224, 32, 480)
	ROUND8(PARITY8, Y4, Y0, Y1, Y2, Y3, Y7)
	SCHED8(416, 256, 64, 0)
	ROUND8(PARITY8, Y3, Y4, Y0, Y1, Y2, Y7)
	SCHED8(448, 288, 96, 32)
	ROUND8(PARITY8, Y2, Y3, Y4, Y0, Y1, Y7)
	SCHED8(480, 320, 128, 64)
	ROUND8(PARITY8, Y1, Y2, Y3, Y4, Y0, Y7)
	SCHED8(0, 352, 160, 96)
	ROUND8(PARITY8, Y0, Y1, Y2, Y3, Y4, Y7)
	SCHED8(32, 384, 192, 128)
	ROUND8(PARITY8, Y4, Y0, Y1, Y2, Y3, Y7)
	SCHED8(64, 416, 224, 160)
	ROUND8(PARITY8, Y3, Y4, Y0, Y1, Y2, Y7)
	SCHED8(96, 448, 256, 192)
	ROUND8(PARITY8, Y2, Y3, Y4, Y0, Y1, Y7)
	SCHED8(128, 480, 288, 224)
	ROUND8(PARITY8, Y1, Y2, Y3, Y4, Y0, Y7)

	// Rounds 40-59.
	VPBROADCASTD k<>+8(SB), Y8
	SCHED8(160, 0, 320, 256)
	ROUND8(MAJ8, Y0, Y1, Y2, Y3, Y4, Y7)
	SCHED8(192, 32, 352, 288)
	ROUND8(MAJ8, Y4, Y0, Y1, Y2, Y3, Y7)
	SCHED8(224, 64, 384, 320)
	ROUND8(MAJ8, Y3, Y4, Y0, Y1, Y2, Y7)
	SCHED8(256, 96, 416, 352)
	ROUND8(MAJ8, Y2, Y3, Y4, Y0, Y1, Y7)
	SCHED8(288, 128, 448, 384)
	ROUND8(MAJ8, Y1, Y2, Y3, Y4, Y0, Y7)
	SCHED8(320, 160, 480, 416)
	ROUND8(MAJ8, Y0, Y1, Y2, Y3, Y4, Y7)
	SCHED8(352, 192, 0, 448)
	ROUND8(MAJ8, Y4, Y0, Y1, Y2, Y3, Y7)
	SCHED8(384, 224, 32, 480)
	ROUND8(MAJ8, Y3, Y4, Y0, Y1, Y2, Y7)
	SCHED8(416, 256, 64, 0)
	ROUND8(MAJ8, Y2, Y3, Y4, Y0, Y1, Y7)
	SCHED8(448, 288, 96, 32)
	ROUND8(MAJ8, Y1, Y2, Y3, Y4, Y0, Y7)
	SCHED8(480, 320, 128, 64)
	ROUND8(MAJ8, Y0, Y1, Y2, Y3, Y4, Y7)
	SCHED8(0, 352, 160, 96)
	ROUND8(MAJ8, Y4, Y0, Y1, Y2, Y3, Y7)
	SCHED8(32, 384, 192, 128)
	ROUND8(MAJ8, Y3, Y4, Y0, Y1, Y2, Y7)
	SCHED8(64, 416, 224, 160)
	ROUND8(MAJ8, Y2, Y3, Y4, Y0, Y1, Y7)
	SCHED8(96, 448, 256, 192)
	ROUND8(MAJ8, Y1, Y2, Y3, Y4, Y0, Y7)
	SCHED8(128, 480, 288, 224)
	ROUND8(MAJ8, Y0, Y1, Y2, Y3, Y4, Y7)
	SCHED8(160, 0, 320, 256)
	ROUND8(MAJ8, Y4, Y0, Y1, Y2, Y3, Y7)
	SCHED8(192, 32, 352, 288)
	ROUND8(MAJ8, Y3, Y4, Y0, Y1, Y2, Y7)
	SCHED8(224, 64, 384, 320)
	ROUND8(MAJ8, Y2, Y3, Y4, Y0, Y1, Y7)
	SCHED8(256, 96, 416, 352)
	ROUND8(MAJ8, Y1, Y2, Y3, Y4, Y0, Y7)

	// Rounds 60-79.
	VPBROADCASTD k<>+12(SB), Y8
	SCHED8(288, 128, 448, 384)
	ROUND8(PARITY8, Y0, Y1, Y2, Y3, Y4, Y7)
	SCHED8(320, 160, 480, 416)
	ROUND8(PARITY8, Y4, Y0, Y1, Y2, Y3, Y7)
	SCHED8(352, 192, 0, 448)
	ROUND8(PARITY8, Y3, Y4, Y0, Y1, Y2, Y7)
	SCHED8(384, 224, 32, 480)
	ROUND8(PARITY8, Y2, Y3, Y4, Y0, Y1, Y7)
	SCHED8(416, 256, 64, 0)
	ROUND8(PARITY8, Y1, Y2, Y3, Y4, Y0, Y7)
	SCHED8(448, 288, 96, 32)
	ROUND8(PARITY8, Y0, Y1, Y2, Y3, Y4, Y7)
	SCHED8(480, 320, 128, 64)
	ROUND8(PARITY8, Y4, Y0, Y1, Y2, Y3, Y7)
	SCHED8(0, 352, 160, 96)
	ROUND8(PARITY8, Y3, Y4, Y0, Y1, Y2, Y7)
	SCHED8(32, 384, 192, 128)
	ROUND8(PARITY8, Y2, Y3, Y4, Y0, Y1, Y7)
	SCHED8(64, 416, 224, 160)
	ROUND8(PARITY8, Y1, Y2, Y3, Y4, Y0, Y7)
	SCHED8(96, 448, 256, 192)
	ROUND8(PARITY8, Y0, Y1, Y2, Y3, Y4, Y7)
	SCHED8(128, 480, 288, 224)
	ROUND8(PARITY8, Y4, Y0, Y1, Y2, Y3, Y7)
	SCHED8(160, 0, 320, 256)
	ROUND8(PARITY8, Y3, Y4, Y0, Y1, Y2, Y7)
	SCHED8(192, 32, 352, 288)
	ROUND8(PARITY8, Y2, Y3, Y4, Y0, Y1, Y7)
	SCHED8(224, 64, 384, 320)
	ROUND8(PARITY8, Y1, Y2, Y3, Y4, Y0, Y7)
	SCHED8(256, 96, 416, 352)
	ROUND8(PARITY8, Y0, Y1, Y2, Y3, Y4, Y7)
	SCHED8(288, 128, 448, 384)
	ROUND8(PARITY8, Y4, Y0, Y1, Y2, Y3, Y7)
	SCHED8(320, 160, 480, 416)
	ROUND8(PARITY8, Y3, Y4, Y0, Y1, Y2, Y7)
	SCHED8(352, 192, 0, 448)
	ROUND8(PARITY8, Y2, Y3, Y4, Y0, Y1, Y7)
	SCHED8(384, 224, 32, 480)
	ROUND8(PARITY8, Y1, Y2, Y3, Y4, Y0, Y7)

	// Add into the chaining values.
	VPADDD 0(DI), Y0, Y0
	VMOVDQU Y0, 0(DI)
	VPADDD 64(DI), Y1, Y1
	VMOVDQU Y1, 64(DI)
	VPADDD 128(DI), Y2, Y2
	VMOVDQU Y2, 128(DI)
	VPADDD 192(DI), Y3, Y3
	VMOVDQU Y3, 192(DI)
	VPADDD 256(DI), Y4, Y4
	VMOVDQU Y4, 256(DI)

	ADDQ $64, DX
	DECQ CX
	JNZ  loop8

done8:
	VZEROUPPER
	RET


// bswap reverses the bytes of each 32-bit word (VPSHUFB works within
// 128-bit lanes, so the pattern repeats four times; blocksAVX2 reads the
// first two).
DATA bswap<>+0(SB)/8, $0x0405060700010203
DATA bswap<>+8(SB)/8, $0x0c0d0e0f08090a0b
DATA bswap<>+16(SB)/8, $0x0405060700010203
DATA bswap<>+24(SB)/8, $0x0c0d0e0f08090a0b
DATA bswap<>+32(SB)/8, $0x0405060700010203
DATA bswap<>+40(SB)/8, $0x0c0d0e0f08090a0b
DATA bswap<>+48(SB)/8, $0x0405060700010203
DATA bswap<>+56(SB)/8, $0x0c0d0e0f08090a0b
GLOBL bswap<>(SB), RODATA|NOPTR, $64

// k holds the four round constants.
DATA k<>+0(SB)/4, $0x5a827999
DATA k<>+4(SB)/4, $0x6ed9eba1
DATA k<>+8(SB)/4, $0x8f1bbcdc
DATA k<>+12(SB)/4, $0xca62c1d6
GLOBL k<>(SB), RODATA|NOPTR, $16

// func cpuid(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL subleaf+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET
