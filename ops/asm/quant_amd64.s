//go:build !purego

#include "textflag.h"

// Quantized dot products with AVX2, FMA and F16C. Go has no vector integer
// intrinsics, hence assembly. Per 32-value block, the int8 products are
// summed exactly into eight int32 lanes, converted to float32
// (VCVTDQ2PS, exact: |lane| < 2^24) and accumulated with VFMADD231PS
// times the broadcast float32 product of the two fp16 scales. The loops
// take two blocks per iteration into two accumulators, to hide the FMA
// latency. Only the float summation order differs from the generic kernel.
//
// The scales are converted by a 128-bit VCVTPH2PS straight from memory:
// it reads the scale and the three fp16 words after it (still inside the
// block) and only lane 0 is used, so that the product needs no broadcast
// from memory nor a 256-bit conversion.

// q4shift holds the per-dword shift counts that turn a 16-byte Q4_0
// payload broadcast to both halves into its low nibbles (low half) and
// high nibbles (high half).
DATA q4shift<>+0(SB)/8, $0
DATA q4shift<>+8(SB)/8, $0
DATA q4shift<>+16(SB)/8, $0x0000000400000004
DATA q4shift<>+24(SB)/8, $0x0000000400000004
GLOBL q4shift<>(SB), RODATA|NOPTR, $32

// CONSTS sets Y8 to 0x0f in every byte, Y9 to 8 in every byte, Y10 to 1
// in every int16 and Y12 to the q4shift counts.
#define CONSTS \
	MOVL         $0x00010001, AX; \
	VMOVD        AX, X10;         \
	VPBROADCASTD X10, Y10;        \
	MOVL         $0x0f0f0f0f, AX; \
	VMOVD        AX, X8;          \
	VPBROADCASTD X8, Y8;          \
	MOVL         $0x08080808, AX; \
	VMOVD        AX, X9;          \
	VPBROADCASTD X9, Y9;          \
	VMOVDQU      q4shift<>(SB), Y12

// SCALE sets d (xd its low half) to the float32 product of the fp16 scales
// at wo(SI) and xo(DI), rounded once as in the generic kernel; t is
// clobbered.
#define SCALE(wo, xo, d, xd, t) \
	VCVTPH2PS    wo(SI), xd; \
	VCVTPH2PS    xo(DI), t;  \
	VMULSS       t, xd, xd;  \
	VBROADCASTSS xd, d

// Q8INT sets the float32 lanes f to the exact int32 lane sums of the
// Q8_0 block at o(SI) · the block at o(DI), using t and u, as ggml's
// mul_sum_i8_pairs: VPMADDUBSW of |w| (unsigned, up to 128) with x·sign(w)
// (signed), then VPMADDWD with ones (Y14). Exact because quantized
// activations lie in [-127, 127] (Traits.Quantize): x·sign(w) does not
// overflow and a pair sums to at most 2·128·127 < 2^15. Needs ONES.
#define Q8INT(o, f, t, u, v) \
	VMOVDQU    (o+2)(SI), t; \
	VMOVDQU    (o+2)(DI), u; \
	VPSIGNB    t, u, u;      \
	VPABSB     t, t;         \
	VPMADDUBSW u, t, f;      \
	VPMADDWD   Y14, f, f;    \
	VCVTDQ2PS  f, f

// ONES sets Y14 to 1 in every int16.
#define ONES \
	MOVL         $0x00010001, AX; \
	VMOVD        AX, X14;         \
	VPBROADCASTD X14, Y14

// Q4INT sets the float32 lanes f to the exact int32 lane sums of the Q4_0
// block at wo(SI) · the Q8_0 block at xo(DI), using t. The nibbles q
// (0..15) are the unsigned operand of VPMADDUBSW, so that
// Σ(q-8)·x = Σq·x - Σ8·x is exact for every int8 x; both pair sums and
// their difference fit in int16. Needs CONSTS.
#define Q4INT(wo, xo, f, t) \
	VBROADCASTI128 (wo+2)(SI), f;   \
	VPSRLVD        Y12, f, f;       \
	VPAND          Y8, f, f;        \
	VPMADDUBSW     (xo+2)(DI), Y9, t; \
	VPMADDUBSW     (xo+2)(DI), f, f;  \
	VPSUBW         t, f, f;         \
	VPMADDWD       Y10, f, f;       \
	VCVTDQ2PS      f, f

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
	ONES
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	SUBQ   $4, CX
	JL     q8pair

q8loop4:
	SCALE(0, 0, Y4, X4, X5)
	SCALE(34, 34, Y12, X12, X13)
	Q8INT(0, Y0, Y1, Y2, Y3)
	Q8INT(34, Y8, Y9, Y10, Y11)
	VFMADD231PS Y4, Y0, Y6
	VFMADD231PS Y12, Y8, Y7
	SCALE(68, 68, Y4, X4, X5)
	SCALE(102, 102, Y12, X12, X13)
	Q8INT(68, Y0, Y1, Y2, Y3)
	Q8INT(102, Y8, Y9, Y10, Y11)
	VFMADD231PS Y4, Y0, Y6
	VFMADD231PS Y12, Y8, Y7
	ADDQ        $136, SI
	ADDQ        $136, DI
	SUBQ        $4, CX
	JGE         q8loop4

q8pair:
	ADDQ $2, CX
	JL   q8tail

q8loop:
	SCALE(0, 0, Y4, X4, X5)
	SCALE(34, 34, Y12, X12, X13)
	Q8INT(0, Y0, Y1, Y2, Y3)
	Q8INT(34, Y8, Y9, Y10, Y11)
	VFMADD231PS Y4, Y0, Y6
	VFMADD231PS Y12, Y8, Y7
	ADDQ        $68, SI
	ADDQ        $68, DI
	SUBQ        $2, CX
	JGE         q8loop

q8tail:
	ADDQ $2, CX
	JZ   q8done
	SCALE(0, 0, Y4, X4, X5)
	Q8INT(0, Y0, Y1, Y2, Y3)
	VFMADD231PS Y4, Y0, Y6

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
	SUBQ   $4, CX
	JL     q4pair

q4loop4:
	SCALE(0, 0, Y4, X4, X5)
	SCALE(18, 34, Y11, X11, X13)
	Q4INT(0, 0, Y0, Y1)
	Q4INT(18, 34, Y2, Y3)
	VFMADD231PS Y4, Y0, Y6
	VFMADD231PS Y11, Y2, Y7
	SCALE(36, 68, Y4, X4, X5)
	SCALE(54, 102, Y11, X11, X13)
	Q4INT(36, 68, Y0, Y1)
	Q4INT(54, 102, Y2, Y3)
	VFMADD231PS Y4, Y0, Y6
	VFMADD231PS Y11, Y2, Y7
	ADDQ        $72, SI
	ADDQ        $136, DI
	SUBQ        $4, CX
	JGE         q4loop4

q4pair:
	ADDQ $2, CX
	JL   q4tail

q4loop:
	SCALE(0, 0, Y4, X4, X5)
	SCALE(18, 34, Y11, X11, X13)
	Q4INT(0, 0, Y0, Y1)
	Q4INT(18, 34, Y2, Y3)
	VFMADD231PS Y4, Y0, Y6
	VFMADD231PS Y11, Y2, Y7
	ADDQ        $36, SI
	ADDQ        $68, DI
	SUBQ        $2, CX
	JGE         q4loop

q4tail:
	ADDQ $2, CX
	JZ   q4done
	SCALE(0, 0, Y4, X4, X5)
	Q4INT(0, 0, Y0, Y1)
	VFMADD231PS Y4, Y0, Y6

q4done:
	HSUM
	VZEROUPPER
	MOVSS X6, ret+24(FP)
	RET
