//go:build !purego

#include "textflag.h"

// Multi-row quantized dot products with AVX2: one weight row against four
// (or two) Q8_0 activation rows. Each weight block is loaded once; every row keeps
// the two alternating accumulators, the operations and their operand
// order of q8_0AVX2 and q4_0Q8_0AVX2 (quant_amd64.s), so that each result
// equals the single-row kernel's bit for bit.
//
// The scales are converted as in quant_amd64.s: 128-bit VCVTPH2PS from
// memory, lane 0 only.
//
// Registers: SI weights, DI R8 R9 R10 the four activation rows, CX the
// blocks left, AX the output. The weight block is in Y0 (and Y1 for Q8_0),
// the float weight scale in X2 (Q8_0) or X1 (Q4_0).

// q4shift: see quant_amd64.s.
DATA q4shift<>+0(SB)/8, $0
DATA q4shift<>+8(SB)/8, $0
DATA q4shift<>+16(SB)/8, $0x0000000400000004
DATA q4shift<>+24(SB)/8, $0x0000000400000004
GLOBL q4shift<>(SB), RODATA|NOPTR, $32

// Q8ROW adds the block at o(xp) · the weight block (bytes in Y0, their
// magnitudes in Y1, scale in lane 0 of X2) to acc, using Y3 and Y5, as
// Q8INT and SCALE in quant_amd64.s: the weights' signs move onto the
// activations (in [-127, 127]), VPMADDUBSW, VPMADDWD with ones (Y14).
#define Q8ROW(xp, o, acc) \
	VMOVDQU      (o+2)(xp), Y3; \
	VPSIGNB      Y0, Y3, Y3;    \
	VPMADDUBSW   Y3, Y1, Y3;    \
	VPMADDWD     Y14, Y3, Y3;   \
	VCVTDQ2PS    Y3, Y3;        \
	VCVTPH2PS    o(xp), X5;     \
	VMULSS       X5, X2, X5;    \
	VBROADCASTSS X5, Y5;        \
	VFMADD231PS  Y5, Y3, acc

// Q8W loads the Q8_0 weight block at o(SI) for Q8ROW.
#define Q8W(o) \
	VMOVDQU   (o+2)(SI), Y0; \
	VPABSB    Y0, Y1;        \
	VCVTPH2PS o(SI), X2

// ONES sets Y14 to 1 in every int16.
#define ONES \
	MOVL         $0x00010001, DX; \
	VMOVD        DX, X14;         \
	VPBROADCASTD X14, Y14

// Q8X4 adds the weight block at o(SI) · the four activation blocks at o to
// a0..a3.
#define Q8X4(o, a0, a1, a2, a3) \
	Q8W(o);                      \
	Q8ROW(DI, o, a0);            \
	Q8ROW(R8, o, a1);            \
	Q8ROW(R9, o, a2);            \
	Q8ROW(R10, o, a3)

// HSUMTO stores the sum of the lanes of a + b (clobbering both) at o(AX),
// as HSUM in quant_amd64.s.
#define HSUMTO(a, b, xa, xb, o) \
	VADDPS       b, a, a;   \
	VEXTRACTF128 $1, a, xb; \
	VADDPS       xb, xa, xa; \
	VHADDPS      xa, xa, xa; \
	VHADDPS      xa, xa, xa; \
	VMOVSS       xa, o(AX)

#define ADVANCE(wb, xb) \
	ADDQ $wb, SI;  \
	ADDQ $xb, DI;  \
	ADDQ $xb, R8;  \
	ADDQ $xb, R9;  \
	ADDQ $xb, R10

#define PROLOGUE \
	MOVQ w+0(FP), SI;        \
	MOVQ x0+8(FP), DI;       \
	MOVQ x1+16(FP), R8;      \
	MOVQ x2+24(FP), R9;      \
	MOVQ x3+32(FP), R10;     \
	MOVQ nblocks+40(FP), CX; \
	MOVQ out+48(FP), AX

// PROLOGUE2 is PROLOGUE for the two-row kernels: SI weights, DI R8 the
// activation rows, CX the blocks left, AX the output.
#define PROLOGUE2 \
	MOVQ w+0(FP), SI;        \
	MOVQ x0+8(FP), DI;       \
	MOVQ x1+16(FP), R8;      \
	MOVQ nblocks+24(FP), CX; \
	MOVQ out+32(FP), AX

// Accumulators: row i uses Ai (even blocks) and Bi (odd blocks).
// Q8_0: Y6/Y7, Y8/Y9, Y10/Y11, Y12/Y13.

// func q8_0x4AVX2(w, x0, x1, x2, x3 *byte, nblocks int, out *[4]float32)
TEXT ·q8_0x4AVX2(SB), NOSPLIT, $0-56
	PROLOGUE
	ONES
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VXORPS Y12, Y12, Y12
	VXORPS Y13, Y13, Y13
	CMPQ   CX, $2
	JL     q8tail

q8loop:
	Q8X4(0, Y6, Y8, Y10, Y12)
	Q8X4(34, Y7, Y9, Y11, Y13)
	ADVANCE(68, 68)
	SUBQ $2, CX
	CMPQ CX, $2
	JGE  q8loop

q8tail:
	TESTQ CX, CX
	JZ    q8done
	Q8X4(0, Y6, Y8, Y10, Y12)

q8done:
	HSUMTO(Y6, Y7, X6, X7, 0)
	HSUMTO(Y8, Y9, X8, X9, 4)
	HSUMTO(Y10, Y11, X10, X11, 8)
	HSUMTO(Y12, Y13, X12, X13, 12)
	VZEROUPPER
	RET

// Q4ROW adds the Q8_0 block at o(xp) · the nibbles in Y0 (weight scale in
// lane 0 of X1) to acc, using Y3 and Y4, as Q4INT and SCALE in
// quant_amd64.s: Y9 holds 8 in every byte, Y10 1 in every int16.
#define Q4ROW(xp, o, acc) \
	VPMADDUBSW   (o+2)(xp), Y0, Y3; \
	VPMADDUBSW   (o+2)(xp), Y9, Y4; \
	VPSUBW       Y4, Y3, Y3;        \
	VPMADDWD     Y10, Y3, Y3;       \
	VCVTDQ2PS    Y3, Y3;            \
	VCVTPH2PS    o(xp), X4;         \
	VMULSS       X4, X1, X4;        \
	VBROADCASTSS X4, Y4;            \
	VFMADD231PS  Y4, Y3, acc

// Q4X4 adds the Q4_0 weight block at wo(SI) · the four activation blocks
// at xo to a0..a3; Y8 holds 0x0f in every byte.
#define Q4X4(wo, xo, a0, a1, a2, a3) \
	VBROADCASTI128 (wo+2)(SI), Y0;        \
	VPSRLVD        q4shift<>(SB), Y0, Y0; \
	VPAND          Y8, Y0, Y0;            \
	VCVTPH2PS      wo(SI), X1;            \
	Q4ROW(DI, xo, a0);           \
	Q4ROW(R8, xo, a1);           \
	Q4ROW(R9, xo, a2);           \
	Q4ROW(R10, xo, a3)

// Q4_0 accumulators: Y5/Y6, Y7/Y11, Y12/Y13, Y14/Y15.

// func q4_0Q8_0x4AVX2(w, x0, x1, x2, x3 *byte, nblocks int, out *[4]float32)
TEXT ·q4_0Q8_0x4AVX2(SB), NOSPLIT, $0-56
	PROLOGUE
	MOVL         $0x00010001, DX
	VMOVD        DX, X10
	VPBROADCASTD X10, Y10
	MOVL         $0x0f0f0f0f, DX
	VMOVD        DX, X8
	VPBROADCASTD X8, Y8
	MOVL         $0x08080808, DX
	VMOVD        DX, X9
	VPBROADCASTD X9, Y9
	VXORPS       Y5, Y5, Y5
	VXORPS       Y6, Y6, Y6
	VXORPS       Y7, Y7, Y7
	VXORPS       Y11, Y11, Y11
	VXORPS       Y12, Y12, Y12
	VXORPS       Y13, Y13, Y13
	VXORPS       Y14, Y14, Y14
	VXORPS       Y15, Y15, Y15
	CMPQ         CX, $2
	JL           q4tail

q4loop:
	Q4X4(0, 0, Y5, Y7, Y12, Y14)
	Q4X4(18, 34, Y6, Y11, Y13, Y15)
	ADVANCE(36, 68)
	SUBQ $2, CX
	CMPQ CX, $2
	JGE  q4loop

q4tail:
	TESTQ CX, CX
	JZ    q4done
	Q4X4(0, 0, Y5, Y7, Y12, Y14)

q4done:
	HSUMTO(Y5, Y6, X5, X6, 0)
	HSUMTO(Y7, Y11, X7, X11, 4)
	HSUMTO(Y12, Y13, X12, X13, 8)
	HSUMTO(Y14, Y15, X14, X15, 12)
	VZEROUPPER
	RET

// The two-row kernels, as the four-row ones.

#define ADVANCE2(wb, xb) \
	ADDQ $wb, SI; \
	ADDQ $xb, DI; \
	ADDQ $xb, R8

#define Q8X2(o, a0, a1) \
	Q8W(o);                      \
	Q8ROW(DI, o, a0);            \
	Q8ROW(R8, o, a1)

// func q8_0x2AVX2(w, x0, x1 *byte, nblocks int, out *[2]float32)
TEXT ·q8_0x2AVX2(SB), NOSPLIT, $0-40
	PROLOGUE2
	ONES
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	CMPQ   CX, $2
	JL     q8x2tail

q8x2loop:
	Q8X2(0, Y6, Y8)
	Q8X2(34, Y7, Y9)
	ADVANCE2(68, 68)
	SUBQ $2, CX
	CMPQ CX, $2
	JGE  q8x2loop

q8x2tail:
	TESTQ CX, CX
	JZ    q8x2done
	Q8X2(0, Y6, Y8)

q8x2done:
	HSUMTO(Y6, Y7, X6, X7, 0)
	HSUMTO(Y8, Y9, X8, X9, 4)
	VZEROUPPER
	RET

#define Q4X2(wo, xo, a0, a1) \
	VBROADCASTI128 (wo+2)(SI), Y0;        \
	VPSRLVD        q4shift<>(SB), Y0, Y0; \
	VPAND          Y8, Y0, Y0;            \
	VCVTPH2PS      wo(SI), X1;            \
	Q4ROW(DI, xo, a0);           \
	Q4ROW(R8, xo, a1)

// func q4_0Q8_0x2AVX2(w, x0, x1 *byte, nblocks int, out *[2]float32)
TEXT ·q4_0Q8_0x2AVX2(SB), NOSPLIT, $0-40
	PROLOGUE2
	MOVL         $0x00010001, DX
	VMOVD        DX, X10
	VPBROADCASTD X10, Y10
	MOVL         $0x0f0f0f0f, DX
	VMOVD        DX, X8
	VPBROADCASTD X8, Y8
	MOVL         $0x08080808, DX
	VMOVD        DX, X9
	VPBROADCASTD X9, Y9
	VXORPS       Y5, Y5, Y5
	VXORPS       Y6, Y6, Y6
	VXORPS       Y7, Y7, Y7
	VXORPS       Y11, Y11, Y11
	CMPQ         CX, $2
	JL           q4x2tail

q4x2loop:
	Q4X2(0, 0, Y5, Y7)
	Q4X2(18, 34, Y6, Y11)
	ADVANCE2(36, 68)
	SUBQ $2, CX
	CMPQ CX, $2
	JGE  q4x2loop

q4x2tail:
	TESTQ CX, CX
	JZ    q4x2done
	Q4X2(0, 0, Y5, Y7)

q4x2done:
	HSUMTO(Y5, Y6, X5, X6, 0)
	HSUMTO(Y7, Y11, X7, X11, 4)
	VZEROUPPER
	RET
