//go:build !purego

#include "textflag.h"

// Quantized dot products with AVX2, FMA and F16C. Go has no vector integer
// intrinsics, hence assembly. Per 32-value block, the int8 products are
// summed exactly into eight int32 lanes, converted to float32
// (VCVTDQ2PS, exact: |lane| < 2^24) and accumulated with VFMADD231PS
// times the broadcast product of the two fp16 scales (VPBROADCASTW +
// VCVTPH2PS). Two accumulators alternate between blocks to hide the FMA
// latency. Only the float summation order differs from the generic kernel.

// ONES16 sets Y10 to 1 in every int16 lane.
#define CONSTS \
	MOVL         $0x00010001, AX; \
	VMOVD        AX, X10;         \
	VPBROADCASTD X10, Y10;        \
	MOVL         $0x0f0f0f0f, AX; \
	VMOVD        AX, X8;          \
	VPBROADCASTD X8, Y8;          \
	MOVL         $0x08080808, AX; \
	VMOVD        AX, X9;          \
	VPBROADCASTD X9, Y9

// SCALE sets Y4 to the product of the fp16 scales at wo(SI) and xo(DI).
#define SCALE(wo, xo) \
	VPBROADCASTW wo(SI), X4; \
	VPBROADCASTW xo(DI), X5; \
	VCVTPH2PS    X4, Y4;     \
	VCVTPH2PS    X5, Y5;     \
	VMULPS       Y5, Y4, Y4

// Q8BLOCK adds the Q8_0 block at o(SI) · the block at o(DI) to acc.
// The int8 values are sign-extended to int16 (VPMOVSXBW) and multiplied
// with VPMADDWD, which is exact for every int8 including -128 (the
// VPSIGNB/VPMADDUBSW trick is not when an activation is -128).
#define Q8BLOCK(o, acc) \
	VPMOVSXBW   (o+2)(SI), Y0;  \
	VPMOVSXBW   (o+18)(SI), Y1; \
	VPMOVSXBW   (o+2)(DI), Y2;  \
	VPMOVSXBW   (o+18)(DI), Y3; \
	VPMADDWD    Y2, Y0, Y0;     \
	VPMADDWD    Y3, Y1, Y1;     \
	VPADDD      Y1, Y0, Y0;     \
	VCVTDQ2PS   Y0, Y0;         \
	SCALE(o, o);                \
	VFMADD231PS Y4, Y0, acc

// Q4BLOCK adds the Q4_0 block at wo(SI) · the Q8_0 block at xo(DI) to acc.
// The nibbles q (0..15) are the unsigned operand of VPMADDUBSW, so that
// Σ(q-8)·x = Σq·x - Σ8·x is exact for every int8 x; both pair sums and
// their difference fit in int16.
#define Q4BLOCK(wo, xo, acc) \
	VMOVDQU     (wo+2)(SI), X0;  \
	VPSRLW      $4, X0, X1;      \
	VINSERTI128 $1, X1, Y0, Y0;  \
	VPAND       Y8, Y0, Y0;      \
	VMOVDQU     (xo+2)(DI), Y2;  \
	VPMADDUBSW  Y2, Y0, Y0;      \
	VPMADDUBSW  Y2, Y9, Y3;      \
	VPSUBW      Y3, Y0, Y0;      \
	VPMADDWD    Y10, Y0, Y0;     \
	VCVTDQ2PS   Y0, Y0;          \
	SCALE(wo, xo);               \
	VFMADD231PS Y4, Y0, acc

// HSUM sets X6 to the sum of the eight lanes of Y6 and Y7.
#define HSUM \
	VADDPS       Y7, Y6, Y6; \
	VEXTRACTF128 $1, Y6, X7; \
	VADDPS       X7, X6, X6; \
	VHADDPS      X6, X6, X6; \
	VHADDPS      X6, X6, X6

// func q8_0AVX2(w, x *byte, nblocks int) float32
TEXT ·q8_0AVX2(SB), NOSPLIT, $0-28
	MOVQ   w+0(FP), SI
	MOVQ   x+8(FP), DI
	MOVQ   nblocks+16(FP), CX
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	CMPQ   CX, $2
	JL     q8tail

q8loop:
	Q8BLOCK(0, Y6)
	Q8BLOCK(34, Y7)
	ADDQ $68, SI
	ADDQ $68, DI
	SUBQ $2, CX
	CMPQ CX, $2
	JGE  q8loop

q8tail:
	TESTQ CX, CX
	JZ    q8done
	Q8BLOCK(0, Y6)

q8done:
	HSUM
	VZEROUPPER
	MOVSS X6, ret+24(FP)
	RET

// func q4_0Q8_0AVX2(w, x *byte, nblocks int) float32
TEXT ·q4_0Q8_0AVX2(SB), NOSPLIT, $0-28
	MOVQ   w+0(FP), SI
	MOVQ   x+8(FP), DI
	MOVQ   nblocks+16(FP), CX
	CONSTS
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	CMPQ   CX, $2
	JL     q4tail

q4loop:
	Q4BLOCK(0, 0, Y6)
	Q4BLOCK(18, 34, Y7)
	ADDQ $36, SI
	ADDQ $68, DI
	SUBQ $2, CX
	CMPQ CX, $2
	JGE  q4loop

q4tail:
	TESTQ CX, CX
	JZ    q4done
	Q4BLOCK(0, 0, Y6)

q4done:
	HSUM
	VZEROUPPER
	MOVSS X6, ret+24(FP)
	RET
