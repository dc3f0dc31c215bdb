//go:build !purego

#include "textflag.h"
#include "kquant_amd64.h"

// Q4_K, Q5_K and Q6_K dot products with Q8_K activations, with AVX2, FMA and
// F16C: llama.cpp's AVX2 loops (ggml_vec_dot_q4_K_q8_K, _q5_K_q8_K, _q6_K_q8_K), whose
// lane order the generic twins follow, so the results are equal bit for
// bit. Go has no vector integer intrinsics, hence assembly. Per
// super-block the weights (unsigned: nibbles, or 6-bit values) multiply the
// int8 activations with VPMADDUBSW (exact: the pair sums stay below 2^15),
// VPMADDWD applies each 16- or 32-value group's scale, and the eight int32
// lanes are converted and accumulated with one VFMADD231PS. The routines
// return their float32 lanes; the Go wrappers reduce them in ggml's order.

// Q4KSTEP adds to Y10 the scaled lane sums of the 64 values whose nibbles
// are the 32 bytes at (16+o)(SI) (low nibbles first) and whose activations
// are at (4+2·o)(DI). Y7 holds the eight int16 scales in both halves, Y13
// the VPSHUFB mask of the next scale.
#define Q4KSTEP(o) \
	VMOVDQU    (16+o)(SI), Y0;      \
	VPSRLW     $4, Y0, Y1;          \
	VPAND      Y8, Y0, Y0;          \
	VPAND      Y8, Y1, Y1;          \
	VPMADDUBSW (4+2*o)(DI), Y0, Y0; \
	VPMADDUBSW (36+2*o)(DI), Y1, Y1; \
	VPSHUFB    Y13, Y7, Y2;         \
	VPADDB     Y14, Y13, Y13;       \
	VPSHUFB    Y13, Y7, Y3;         \
	VPADDB     Y14, Y13, Y13;       \
	VPMADDWD   Y2, Y0, Y0;          \
	VPMADDWD   Y3, Y1, Y1;          \
	VPADDD     Y0, Y10, Y10;        \
	VPADDD     Y1, Y10, Y10

// KMINS sets X5 to the four int32 lanes of the minimums (Y4's upper half)
// times the bsums of the Q8_K block at DI summed in pairs (VPHADDW), as
// ggml's AVX2 Q4_K and Q5_K loops do; X1 is clobbered.
#define KMINS \
	VMOVDQU      260(DI), Y5; \
	VEXTRACTI128 $1, Y5, X1;  \
	VPHADDW      X1, X5, X5;  \
	VEXTRACTI128 $1, Y4, X1;  \
	VPMADDWD     X1, X5, X5

// KD sets Y6 to y.d·x.d and X3 to y.d·x.dmin (broadcast) for the Q4_K or
// Q5_K block at SI and the Q8_K block at DI; X0, X1 and X2 are clobbered.
#define KD \
	VCVTPH2PS    (SI), X1;   \
	VMOVSS       (DI), X0;   \
	VMULSS       X1, X0, X2; \
	VBROADCASTSS X2, Y6;     \
	VMOVSHDUP    X1, X3;     \
	VMULSS       X3, X0, X3; \
	VBROADCASTSS X3, X3

// func q4_KAVX2(w, x *byte, nblocks int, acc *[12]float32)
TEXT ·q4_KAVX2(SB), NOSPLIT, $0-32
	MOVQ   w+0(FP), SI
	MOVQ   x+8(FP), DI
	MOVQ   nblocks+16(FP), CX
	MOVQ   acc+24(FP), R11
	KCONSTS
	VXORPS Y11, Y11, Y11 // the eight lanes of d·sums
	VXORPS X12, X12, X12 // the four lanes of dmin·(mins·bsums)

q4kloop:
	// d = y.d·x.d and dmin = y.d·x.dmin; the minimums are subtracted
	// with VFNMADD231PS, which rounds -(a·b)+c as fma(-a, b, c) does.
	KD
	KSCALES
	KMINS
	VCVTDQ2PS    X5, X5
	VFNMADD231PS X5, X3, X12

	VPERMQ  $0x44, Y4, Y7
	VMOVDQA Y15, Y13
	VPXOR   Y10, Y10, Y10
	Q4KSTEP(0)
	Q4KSTEP(32)
	Q4KSTEP(64)
	Q4KSTEP(96)
	VCVTDQ2PS   Y10, Y10
	VFMADD231PS Y10, Y6, Y11

	ADDQ $144, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q4kloop

	VMOVUPS Y11, (R11)
	VMOVUPS X12, 32(R11)
	VZEROUPPER
	RET

// Q5KSTEP is Q4KSTEP for Q5_K: nibbles at (48+o)(SI), and bits c0 and c1
// of the bytes of Y4 (the 32 bytes of fifth bits) add 16. Y9 holds 0x01
// in every byte.
#define Q5KSTEP(o, c0, c1) \
	VMOVDQU    (48+o)(SI), Y0;      \
	VPSRLW     $4, Y0, Y1;          \
	VPAND      Y8, Y0, Y0;          \
	VPAND      Y8, Y1, Y1;          \
	VPSRLW     $c0, Y4, Y2;         \
	VPAND      Y9, Y2, Y2;          \
	VPSLLW     $4, Y2, Y2;          \
	VPOR       Y2, Y0, Y0;          \
	VPSRLW     $c1, Y4, Y2;         \
	VPAND      Y9, Y2, Y2;          \
	VPSLLW     $4, Y2, Y2;          \
	VPOR       Y2, Y1, Y1;          \
	VPMADDUBSW (4+2*o)(DI), Y0, Y0; \
	VPMADDUBSW (36+2*o)(DI), Y1, Y1; \
	VPSHUFB    Y13, Y7, Y2;         \
	VPADDB     Y14, Y13, Y13;       \
	VPSHUFB    Y13, Y7, Y3;         \
	VPADDB     Y14, Y13, Y13;       \
	VPMADDWD   Y2, Y0, Y0;          \
	VPMADDWD   Y3, Y1, Y1;          \
	VPADDD     Y0, Y10, Y10;        \
	VPADDD     Y1, Y10, Y10

// func q5_KAVX2(w, x *byte, nblocks int, acc *[9]float32)
TEXT ·q5_KAVX2(SB), NOSPLIT, $0-32
	MOVQ         w+0(FP), SI
	MOVQ         x+8(FP), DI
	MOVQ         nblocks+16(FP), CX
	MOVQ         acc+24(FP), R11
	KCONSTS
	MOVL         $0x01010101, AX
	VMOVD        AX, X9
	VPBROADCASTD X9, Y9
	VXORPS       Y11, Y11, Y11 // the eight lanes of d·sums
	VXORPS       X12, X12, X12 // summs: dmin·(mins·bsums), one float32

q5kloop:
	KD
	KSCALES
	// ggml adds the four minimum lanes as integers (VPHADDD twice) and
	// accumulates dmin times their sum in one float32.
	KMINS
	VPHADDD      X5, X5, X5
	VPHADDD      X5, X5, X5
	VCVTDQ2PS    X5, X5
	VFNMADD231SS X5, X3, X12

	VPERMQ  $0x44, Y4, Y7
	VMOVDQU 16(SI), Y4
	VMOVDQA Y15, Y13
	VPXOR   Y10, Y10, Y10
	Q5KSTEP(0, 0, 1)
	Q5KSTEP(32, 2, 3)
	Q5KSTEP(64, 4, 5)
	Q5KSTEP(96, 6, 7)
	VCVTDQ2PS   Y10, Y10
	VFMADD231PS Y10, Y6, Y11

	ADDQ $176, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q5kloop

	VMOVUPS Y11, (R11)
	VMOVSS  X12, 32(R11)
	VZEROUPPER
	RET

// Q6KSCALED multiplies the pair sums in y by the int8 scales VPSHUFB X13
// picks from X7 (one for each 16 values), then steps X13 on.
#define Q6KSCALED(y) \
	VPSHUFB   X13, X7, X5; \
	VPMOVSXBW X5, Y5;      \
	VPADDB    X14, X13, X13; \
	VPMADDWD  Y5, y, y;    \
	VPADDD    y, Y10, Y10

// Q6KHIGH ORs the two bits of Y4 at bit s of each byte, moved to bits 4
// and 5, into y.
#define Q6KHIGH(s, y) \
	VPSRLW $s, Y4, Y5; \
	VPAND  Y9, Y5, Y5; \
	VPSLLW $4, Y5, Y5; \
	VPOR   Y5, y, y

// Q6KHALF adds to Y10 the scaled lane sums of 128 values: low nibbles at
// ql(SI) and (ql+32)(SI), high bit pairs at qh(SI), activations at q8(DI).
#define Q6KHALF(ql, qh, q8) \
	VMOVDQU    ql(SI), Y0;        \
	VMOVDQU    (ql+32)(SI), Y1;   \
	VMOVDQU    qh(SI), Y4;        \
	VPSRLW     $4, Y0, Y2;        \
	VPSRLW     $4, Y1, Y3;        \
	VPAND      Y8, Y0, Y0;        \
	VPAND      Y8, Y1, Y1;        \
	VPAND      Y8, Y2, Y2;        \
	VPAND      Y8, Y3, Y3;        \
	Q6KHIGH(0, Y0);               \
	Q6KHIGH(2, Y1);               \
	Q6KHIGH(4, Y2);               \
	Q6KHIGH(6, Y3);               \
	VPMADDUBSW q8(DI), Y0, Y0;    \
	VPMADDUBSW (q8+32)(DI), Y1, Y1; \
	VPMADDUBSW (q8+64)(DI), Y2, Y2; \
	VPMADDUBSW (q8+96)(DI), Y3, Y3; \
	Q6KSCALED(Y0);                \
	Q6KSCALED(Y1);                \
	Q6KSCALED(Y2);                \
	Q6KSCALED(Y3)

// func q6_KAVX2(w, x *byte, nblocks int, acc *[8]float32)
TEXT ·q6_KAVX2(SB), NOSPLIT, $0-32
	MOVQ   w+0(FP), SI
	MOVQ   x+8(FP), DI
	MOVQ   nblocks+16(FP), CX
	MOVQ   acc+24(FP), R11
	KCONSTS
	// X15: the VPSHUFB mask that spreads int8 scale 0 over bytes 0…7 and
	// scale 1 over bytes 8…15; X14 steps it by two scales.
	MOVQ   $0x0101010101010101, AX
	VMOVQ  AX, X15
	VPSLLDQ $8, X15, X15
	VXORPS Y11, Y11, Y11

q6kloop:
	// d = y.d·x.d (the fp16 x.d is the block's last two bytes).
	MOVWLZX      208(SI), AX
	VMOVD        AX, X0
	VCVTPH2PS    X0, X0
	VMULSS       (DI), X0, X0
	VBROADCASTSS X0, Y6

	// 32·(scale·bsum) of two groups per lane, taken off at the end.
	VMOVDQU   260(DI), Y5
	VPMOVSXBW 192(SI), Y4
	VPMADDWD  Y4, Y5, Y12
	VPSLLD    $5, Y12, Y12

	VMOVDQU 192(SI), X7
	VMOVDQA X15, X13
	VPXOR   Y10, Y10, Y10
	Q6KHALF(0, 128, 4)
	Q6KHALF(64, 160, 132)
	VPSUBD      Y12, Y10, Y10
	VCVTDQ2PS   Y10, Y10
	VFMADD231PS Y10, Y6, Y11

	ADDQ $210, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q6kloop

	VMOVUPS Y11, (R11)
	VZEROUPPER
	RET
