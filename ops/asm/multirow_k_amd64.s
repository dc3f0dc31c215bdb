//go:build !purego

#include "textflag.h"
#include "kquant_amd64.h"

// Multi-row Q4_K, Q5_K, Q6_K and IQ4_XS dot products with AVX2: one weight row against
// four (or two) Q8_K activation rows. Each weight super-block is decoded
// once per 32 or 64 values and multiplied with every row; each row gets
// the integer lanes, the operations and the operand order of q4_KAVX2, q5_KAVX2,
// q6_KAVX2 (kquant_amd64.s) and iq4_XSAVX2 (kquant2_amd64.s), so each result equals the single-row
// kernel's bit for bit. (The int32 lane sums wrap, so the order in which
// the products are added does not change them.) The float32 accumulators
// of row r live in memory, acc[r], the layout the single-row routines
// store: one load, fused multiply-add and store per super-block.
//
// Registers: SI weights, DI R11 R12 R13 the activation rows, CX the
// super-blocks left, R8 the accumulators (reloaded after KSCALES).

// Q4KWEIGHTS sets Y0 and Y1 to the low and high nibbles of the 32 bytes at
// (16+o)(SI), and Y2 and Y3 to their int16 scales (VPSHUFB Y13 of Y7,
// stepped twice).
#define Q4KWEIGHTS(o) \
	VMOVDQU (16+o)(SI), Y0; \
	VPSRLW  $4, Y0, Y1;     \
	VPAND   Y8, Y0, Y0;     \
	VPAND   Y8, Y1, Y1;     \
	VPSHUFB Y13, Y7, Y2;    \
	VPADDB  Y14, Y13, Y13;  \
	VPSHUFB Y13, Y7, Y3;    \
	VPADDB  Y14, Y13, Y13

// Q4KROW adds to the int32 lanes a the scaled products of Y0:Y1 with the
// activations of row p, as Q4KSTEP.
#define Q4KROW(o, p, a) \
	VPMADDUBSW (4+2*o)(p), Y0, Y4;  \
	VPMADDUBSW (36+2*o)(p), Y1, Y5; \
	VPMADDWD   Y2, Y4, Y4;          \
	VPMADDWD   Y3, Y5, Y5;          \
	VPADDD     Y4, a, a;            \
	VPADDD     Y5, a, a

#define Q4KX4(o) \
	Q4KWEIGHTS(o);       \
	Q4KROW(o, DI, Y6);   \
	Q4KROW(o, R11, Y10); \
	Q4KROW(o, R12, Y11); \
	Q4KROW(o, R13, Y12)

#define Q4KX2(o) \
	Q4KWEIGHTS(o);     \
	Q4KROW(o, DI, Y6); \
	Q4KROW(o, R11, Y10)

// Q4KMIN takes dmin·(mins·bsums) of row p off the four minimum lanes at
// (off+32)(R8), as KMINS and the VFNMADD231PS of q4_KAVX2: X9 holds the
// eight int16 minimums, lane 0 of X2 the weights' float dmin.
#define Q4KMIN(p, off) \
	VMOVDQU      260(p), Y5;        \
	VEXTRACTI128 $1, Y5, X1;        \
	VPHADDW      X1, X5, X5;        \
	VPMADDWD     X9, X5, X5;        \
	VCVTDQ2PS    X5, X5;            \
	VMOVSS       (p), X0;           \
	VMULSS       X2, X0, X0;        \
	VBROADCASTSS X0, X0;            \
	VMOVUPS      (off+32)(R8), X1;  \
	VFNMADD231PS X5, X0, X1;        \
	VMOVUPS      X1, (off+32)(R8)

// KLANES adds d·lanes of row p (int32 lanes a) to the eight float32 lanes
// at off(R8), d = y.d · lane 0 of X3.
#define KLANES(p, a, off) \
	VMOVSS       (p), X4;     \
	VMULSS       X3, X4, X4;  \
	VBROADCASTSS X4, Y4;      \
	VCVTDQ2PS    a, a;        \
	VMOVUPS      off(R8), Y5; \
	VFMADD231PS  a, Y4, Y5;   \
	VMOVUPS      Y5, off(R8)

// Q4KSCALES decodes the scales and minimums of the super-block at SI: the
// scales into Y7 (both halves), the minimums into X9; lane 0 of X2 is the
// weights' float dmin.
#define Q4KSCALES \
	KSCALES;                    \
	VPERMQ       $0x44, Y4, Y7; \
	VEXTRACTI128 $1, Y4, X9;    \
	VCVTPH2PS    (SI), X3;      \
	VMOVSHDUP    X3, X2

// KCLEAR clears the int32 lanes of the four rows.
#define KCLEAR \
	VPXOR Y6, Y6, Y6;    \
	VPXOR Y10, Y10, Y10; \
	VPXOR Y11, Y11, Y11; \
	VPXOR Y12, Y12, Y12

// func q4_Kx4AVX2(w, x0, x1, x2, x3 *byte, nblocks int, acc *[4][12]float32)
TEXT ·q4_Kx4AVX2(SB), NOSPLIT, $0-56
	MOVQ w+0(FP), SI
	MOVQ x0+8(FP), DI
	MOVQ x1+16(FP), R11
	MOVQ x2+24(FP), R12
	MOVQ x3+32(FP), R13
	MOVQ nblocks+40(FP), CX
	KCONSTS

q4kx4loop:
	Q4KSCALES
	MOVQ    acc+48(FP), R8
	Q4KMIN(DI, 0)
	Q4KMIN(R11, 48)
	Q4KMIN(R12, 96)
	Q4KMIN(R13, 144)
	VMOVDQA Y15, Y13
	KCLEAR
	Q4KX4(0)
	Q4KX4(32)
	Q4KX4(64)
	Q4KX4(96)
	VCVTPH2PS (SI), X3
	KLANES(DI, Y6, 0)
	KLANES(R11, Y10, 48)
	KLANES(R12, Y11, 96)
	KLANES(R13, Y12, 144)

	ADDQ $144, SI
	ADDQ $292, DI
	ADDQ $292, R11
	ADDQ $292, R12
	ADDQ $292, R13
	DECQ CX
	JNZ  q4kx4loop
	VZEROUPPER
	RET

// func q4_Kx2AVX2(w, x0, x1 *byte, nblocks int, acc *[2][12]float32)
TEXT ·q4_Kx2AVX2(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ x0+8(FP), DI
	MOVQ x1+16(FP), R11
	MOVQ nblocks+24(FP), CX
	KCONSTS

q4kx2loop:
	Q4KSCALES
	MOVQ    acc+32(FP), R8
	Q4KMIN(DI, 0)
	Q4KMIN(R11, 48)
	VMOVDQA Y15, Y13
	VPXOR   Y6, Y6, Y6
	VPXOR   Y10, Y10, Y10
	Q4KX2(0)
	Q4KX2(32)
	Q4KX2(64)
	Q4KX2(96)
	VCVTPH2PS (SI), X3
	KLANES(DI, Y6, 0)
	KLANES(R11, Y10, 48)

	ADDQ $144, SI
	ADDQ $292, DI
	ADDQ $292, R11
	DECQ CX
	JNZ  q4kx2loop
	VZEROUPPER
	RET

// Q6KQ sets Y0 to 32 six-bit values: the nibbles at ql(SI) (shifted right
// by sh, 0 or 4) with the two bits at bit s of the bytes at qh(SI) as bits
// 4 and 5; and Y1 to their two int16 scales (VPSHUFB X13 of X7, stepped).
#define Q6KQ(ql, sh, qh, s) \
	VMOVDQU   ql(SI), Y0;  \
	VPSRLW    $sh, Y0, Y0; \
	VPAND     Y8, Y0, Y0;  \
	VMOVDQU   qh(SI), Y4;  \
	VPSRLW    $s, Y4, Y4;  \
	VPAND     Y9, Y4, Y4;  \
	VPSLLW    $4, Y4, Y4;  \
	VPOR      Y4, Y0, Y0;  \
	VPSHUFB   X13, X7, X1; \
	VPMOVSXBW X1, Y1;      \
	VPADDB    X14, X13, X13

// Q6KROW adds to the int32 lanes a the scaled products of Y0 with the 32
// activations at q8(p), as Q6KHALF and Q6KSCALED.
#define Q6KROW(q8, p, a) \
	VPMADDUBSW q8(p), Y0, Y2; \
	VPMADDWD   Y1, Y2, Y2;    \
	VPADDD     Y2, a, a

#define Q6KX4(ql, sh, qh, s, q8) \
	Q6KQ(ql, sh, qh, s);   \
	Q6KROW(q8, DI, Y6);    \
	Q6KROW(q8, R11, Y10);  \
	Q6KROW(q8, R12, Y11);  \
	Q6KROW(q8, R13, Y12)

#define Q6KX2(ql, sh, qh, s, q8) \
	Q6KQ(ql, sh, qh, s); \
	Q6KROW(q8, DI, Y6);  \
	Q6KROW(q8, R11, Y10)

// Q6KHALFXN multiplies the 128 values of half h (0 or 1) with every row
// (X, Q6KX4 or Q6KX2), in q6_KAVX2's order of scales.
#define Q6KHALFXN(X, h) \
	X((64*h), 0, (128+32*h), 0, (4+128*h));      \
	X((64*h+32), 0, (128+32*h), 2, (36+128*h));  \
	X((64*h), 4, (128+32*h), 4, (68+128*h));     \
	X((64*h+32), 4, (128+32*h), 6, (100+128*h))

// Q6KSTART sets the int32 lanes a to -32·(scale·bsum) of two groups per
// lane of row p, the correction q6_KAVX2 takes off at the end; Y3 holds
// the 16 scales as int16.
#define Q6KSTART(p, a) \
	VMOVDQU  260(p), Y5; \
	VPMADDWD Y3, Y5, Y5; \
	VPSLLD   $5, Y5, Y5; \
	VPXOR    a, a, a;    \
	VPSUBD   Y5, a, a

// Q6KCONSTS sets Y8, Y9 and Y14 as KCONSTS does and X15 to q6_KAVX2's
// initial scale mask.
#define Q6KCONSTS \
	KCONSTS;                             \
	MOVQ    $0x0101010101010101, AX;     \
	VMOVQ   AX, X15;                     \
	VPSLLDQ $8, X15, X15

// Q6KSCALES loads the super-block's int8 scales into X7, sign-extended
// into Y3, and resets the scale mask X13.
#define Q6KSCALES \
	VMOVDQU   192(SI), X7;  \
	VPMOVSXBW 192(SI), Y3;  \
	VMOVDQA   X15, X13

// Q6KD sets lane 0 of X3 to the weights' float d.
#define Q6KD \
	MOVWLZX   208(SI), AX; \
	VMOVD     AX, X3;      \
	VCVTPH2PS X3, X3

// func q6_Kx4AVX2(w, x0, x1, x2, x3 *byte, nblocks int, acc *[4][8]float32)
TEXT ·q6_Kx4AVX2(SB), NOSPLIT, $0-56
	MOVQ w+0(FP), SI
	MOVQ x0+8(FP), DI
	MOVQ x1+16(FP), R11
	MOVQ x2+24(FP), R12
	MOVQ x3+32(FP), R13
	MOVQ nblocks+40(FP), CX
	MOVQ acc+48(FP), R8
	Q6KCONSTS

q6kx4loop:
	Q6KSCALES
	Q6KSTART(DI, Y6)
	Q6KSTART(R11, Y10)
	Q6KSTART(R12, Y11)
	Q6KSTART(R13, Y12)
	Q6KHALFXN(Q6KX4, 0)
	Q6KHALFXN(Q6KX4, 1)
	Q6KD
	KLANES(DI, Y6, 0)
	KLANES(R11, Y10, 32)
	KLANES(R12, Y11, 64)
	KLANES(R13, Y12, 96)

	ADDQ $210, SI
	ADDQ $292, DI
	ADDQ $292, R11
	ADDQ $292, R12
	ADDQ $292, R13
	DECQ CX
	JNZ  q6kx4loop
	VZEROUPPER
	RET

// func q6_Kx2AVX2(w, x0, x1 *byte, nblocks int, acc *[2][8]float32)
TEXT ·q6_Kx2AVX2(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ x0+8(FP), DI
	MOVQ x1+16(FP), R11
	MOVQ nblocks+24(FP), CX
	MOVQ acc+32(FP), R8
	Q6KCONSTS

q6kx2loop:
	Q6KSCALES
	Q6KSTART(DI, Y6)
	Q6KSTART(R11, Y10)
	Q6KHALFXN(Q6KX2, 0)
	Q6KHALFXN(Q6KX2, 1)
	Q6KD
	KLANES(DI, Y6, 0)
	KLANES(R11, Y10, 32)

	ADDQ $210, SI
	ADDQ $292, DI
	ADDQ $292, R11
	DECQ CX
	JNZ  q6kx2loop
	VZEROUPPER
	RET

// Q5KWEIGHTS is Q4KWEIGHTS for Q5_K: nibbles at (48+o)(SI), and bits c0
// and c1 of the fifth-bit bytes at 16(SI) add 16 (as Q5KSTEP); Y9 holds
// 0x01 in every byte.
#define Q5KWEIGHTS(o, c0, c1) \
	VMOVDQU (48+o)(SI), Y0; \
	VPSRLW  $4, Y0, Y1;     \
	VPAND   Y8, Y0, Y0;     \
	VPAND   Y8, Y1, Y1;     \
	VMOVDQU 16(SI), Y4;     \
	VPSRLW  $c0, Y4, Y5;    \
	VPAND   Y9, Y5, Y5;     \
	VPSLLW  $4, Y5, Y5;     \
	VPOR    Y5, Y0, Y0;     \
	VPSRLW  $c1, Y4, Y5;    \
	VPAND   Y9, Y5, Y5;     \
	VPSLLW  $4, Y5, Y5;     \
	VPOR    Y5, Y1, Y1;     \
	VPSHUFB Y13, Y7, Y2;    \
	VPADDB  Y14, Y13, Y13;  \
	VPSHUFB Y13, Y7, Y3;    \
	VPADDB  Y14, Y13, Y13

#define Q5KX4(o, c0, c1) \
	Q5KWEIGHTS(o, c0, c1); \
	Q4KROW(o, DI, Y6);     \
	Q4KROW(o, R11, Y10);   \
	Q4KROW(o, R12, Y11);   \
	Q4KROW(o, R13, Y12)

#define Q5KX2(o, c0, c1) \
	Q5KWEIGHTS(o, c0, c1); \
	Q4KROW(o, DI, Y6);     \
	Q4KROW(o, R11, Y10)

// Q5KMIN takes dmin·Σ(mins·bsums) of row p off the float32 sum at
// (off+32)(R8), as q5_KAVX2 does (the four lanes added as integers).
#define Q5KMIN(p, off) \
	VMOVDQU      260(p), Y5;       \
	VEXTRACTI128 $1, Y5, X1;       \
	VPHADDW      X1, X5, X5;       \
	VPMADDWD     X9, X5, X5;       \
	VPHADDD      X5, X5, X5;       \
	VPHADDD      X5, X5, X5;       \
	VCVTDQ2PS    X5, X5;           \
	VMOVSS       (p), X0;          \
	VMULSS       X2, X0, X0;       \
	VMOVSS       (off+32)(R8), X1; \
	VFNMADD231SS X5, X0, X1;       \
	VMOVSS       X1, (off+32)(R8)

// Q5KONES sets Y9 to 0x01 in every byte.
#define Q5KONES \
	MOVL         $0x01010101, AX; \
	VMOVD        AX, X9;          \
	VPBROADCASTD X9, Y9

// func q5_Kx4AVX2(w, x0, x1, x2, x3 *byte, nblocks int, acc *[4][9]float32)
TEXT ·q5_Kx4AVX2(SB), NOSPLIT, $0-56
	MOVQ w+0(FP), SI
	MOVQ x0+8(FP), DI
	MOVQ x1+16(FP), R11
	MOVQ x2+24(FP), R12
	MOVQ x3+32(FP), R13
	MOVQ nblocks+40(FP), CX
	KCONSTS

q5kx4loop:
	Q4KSCALES
	MOVQ    acc+48(FP), R8
	Q5KMIN(DI, 0)
	Q5KMIN(R11, 36)
	Q5KMIN(R12, 72)
	Q5KMIN(R13, 108)
	Q5KONES
	VMOVDQA Y15, Y13
	KCLEAR
	Q5KX4(0, 0, 1)
	Q5KX4(32, 2, 3)
	Q5KX4(64, 4, 5)
	Q5KX4(96, 6, 7)
	VCVTPH2PS (SI), X3
	KLANES(DI, Y6, 0)
	KLANES(R11, Y10, 36)
	KLANES(R12, Y11, 72)
	KLANES(R13, Y12, 108)

	ADDQ $176, SI
	ADDQ $292, DI
	ADDQ $292, R11
	ADDQ $292, R12
	ADDQ $292, R13
	DECQ CX
	JNZ  q5kx4loop
	VZEROUPPER
	RET

// func q5_Kx2AVX2(w, x0, x1 *byte, nblocks int, acc *[2][9]float32)
TEXT ·q5_Kx2AVX2(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ x0+8(FP), DI
	MOVQ x1+16(FP), R11
	MOVQ nblocks+24(FP), CX
	KCONSTS

q5kx2loop:
	Q4KSCALES
	MOVQ    acc+32(FP), R8
	Q5KMIN(DI, 0)
	Q5KMIN(R11, 36)
	Q5KONES
	VMOVDQA Y15, Y13
	VPXOR   Y6, Y6, Y6
	VPXOR   Y10, Y10, Y10
	Q5KX2(0, 0, 1)
	Q5KX2(32, 2, 3)
	Q5KX2(64, 4, 5)
	Q5KX2(96, 6, 7)
	VCVTPH2PS (SI), X3
	KLANES(DI, Y6, 0)
	KLANES(R11, Y10, 36)

	ADDQ $176, SI
	ADDQ $292, DI
	ADDQ $292, R11
	DECQ CX
	JNZ  q5kx2loop
	VZEROUPPER
	RET

// kshiftx and kvaluesIQ4x are kshift and kvaluesIQ4 of kquant2_amd64.s
// (assembler symbols are local to their file).
DATA kshiftx<>+0(SB)/8, $0
DATA kshiftx<>+8(SB)/8, $0
DATA kshiftx<>+16(SB)/8, $0x0000000400000004
DATA kshiftx<>+24(SB)/8, $0x0000000400000004
GLOBL kshiftx<>(SB), RODATA|NOPTR, $32

DATA kvaluesIQ4x<>+0(SB)/8, $0xF6EADDCFBFAD9881
DATA kvaluesIQ4x<>+8(SB)/8, $0x7159453526190D01
GLOBL kvaluesIQ4x<>(SB), RODATA|NOPTR, $16

// IQ4XSW sets Y0 to the 32 values of IQ4_XS sub-block ib (nibbles looked
// up in Y7), Y3 to their absolute values and Y2 to the sub-block's 6-bit
// scale - 32 (low bits the nibble at bit sh of byte so(SI), high bits
// from BX) in every int16, as IQ4XSBLOCK; Y9 holds kshift.
#define IQ4XSW(ib, so, sh) \
	VBROADCASTI128 (8+16*ib)(SI), Y0; \
	VPSRLVD        Y9, Y0, Y0;         \
	VPAND          Y8, Y0, Y0;         \
	VPSHUFB        Y0, Y7, Y0;         \
	VPSIGNB        Y0, Y0, Y3;         \
	MOVBLZX        so(SI), AX;         \
	SHRL           $sh, AX;            \
	ANDL           $15, AX;            \
	MOVL           BX, DX;             \
	SHRL           $(2*ib), DX;        \
	ANDL           $3, DX;             \
	SHLL           $4, DX;             \
	ORL            DX, AX;             \
	SUBL           $32, AX;            \
	VMOVD          AX, X2;             \
	VPBROADCASTW   X2, Y2

// IQ4XSROW adds to the int32 lanes a the products of sub-block ib with
// the activations of row p, the weights' signs moved onto them.
#define IQ4XSROW(ib, p, a) \
	VMOVDQU    (4+32*ib)(p), Y1; \
	VPSIGNB    Y0, Y1, Y1;       \
	VPMADDUBSW Y1, Y3, Y1;       \
	VPMADDWD   Y2, Y1, Y1;       \
	VPADDD     Y1, a, a

#define IQ4XSX4(ib, so, sh) \
	IQ4XSW(ib, so, sh);    \
	IQ4XSROW(ib, DI, Y6);  \
	IQ4XSROW(ib, R11, Y10); \
	IQ4XSROW(ib, R12, Y11); \
	IQ4XSROW(ib, R13, Y12)

#define IQ4XSX2(ib, so, sh) \
	IQ4XSW(ib, so, sh);   \
	IQ4XSROW(ib, DI, Y6); \
	IQ4XSROW(ib, R11, Y10)

// IQ4XSALL multiplies the eight sub-blocks with every row (X, IQ4XSX4 or
// IQ4XSX2).
#define IQ4XSALL(X) \
	X(0, 4, 0); \
	X(1, 4, 4); \
	X(2, 5, 0); \
	X(3, 5, 4); \
	X(4, 6, 0); \
	X(5, 6, 4); \
	X(6, 7, 0); \
	X(7, 7, 4)

// IQ4XSCONSTS sets Y8 to 0x0f in every byte, Y9 to kshift and Y7 to the
// IQ4 values in both halves.
#define IQ4XSCONSTS \
	MOVL           $0x0f0f0f0f, AX;      \
	VMOVD          AX, X8;               \
	VPBROADCASTD   X8, Y8;               \
	VMOVDQU        kshiftx<>(SB), Y9;    \
	VBROADCASTI128 kvaluesIQ4x<>(SB), Y7

// func iq4_XSx4AVX2(w, x0, x1, x2, x3 *byte, nblocks int, acc *[4][8]float32)
TEXT ·iq4_XSx4AVX2(SB), NOSPLIT, $0-56
	MOVQ w+0(FP), SI
	MOVQ x0+8(FP), DI
	MOVQ x1+16(FP), R11
	MOVQ x2+24(FP), R12
	MOVQ x3+32(FP), R13
	MOVQ nblocks+40(FP), CX
	MOVQ acc+48(FP), R8
	IQ4XSCONSTS

iq4xsx4loop:
	MOVWLZX 2(SI), BX
	KCLEAR
	IQ4XSALL(IQ4XSX4)
	VCVTPH2PS (SI), X3
	KLANES(DI, Y6, 0)
	KLANES(R11, Y10, 32)
	KLANES(R12, Y11, 64)
	KLANES(R13, Y12, 96)

	ADDQ $136, SI
	ADDQ $292, DI
	ADDQ $292, R11
	ADDQ $292, R12
	ADDQ $292, R13
	DECQ CX
	JNZ  iq4xsx4loop
	VZEROUPPER
	RET

// func iq4_XSx2AVX2(w, x0, x1 *byte, nblocks int, acc *[2][8]float32)
TEXT ·iq4_XSx2AVX2(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ x0+8(FP), DI
	MOVQ x1+16(FP), R11
	MOVQ nblocks+24(FP), CX
	MOVQ acc+32(FP), R8
	IQ4XSCONSTS

iq4xsx2loop:
	MOVWLZX 2(SI), BX
	VPXOR   Y6, Y6, Y6
	VPXOR   Y10, Y10, Y10
	IQ4XSALL(IQ4XSX2)
	VCVTPH2PS (SI), X3
	KLANES(DI, Y6, 0)
	KLANES(R11, Y10, 32)

	ADDQ $136, SI
	ADDQ $292, DI
	ADDQ $292, R11
	DECQ CX
	JNZ  iq4xsx2loop
	VZEROUPPER
	RET
