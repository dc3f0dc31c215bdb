//go:build !purego

#include "textflag.h"
#include "kquant_amd64.h"

// Multi-row Q2_K and Q3_K dot products with AVX2, as those of Q4_K in
// multirow_k_amd64.s (see there): each row gets the int32 lanes, the
// operations and the operand order of q2_KAVX2 and q3_KAVX2
// (kquant2_amd64.s), so each result equals theirs bit for bit. Row r's
// int32 lanes are Y5, Y6, Y10, Y11; its float32 lanes live at acc[r].
// (Q2_K's VPSUBW of zero products is left out: it changes nothing.)

// K2LANES adds d·lanes of row p (int32 lanes a) to the eight float32
// lanes at off(R8), d = x.d · lane 0 of X2.
#define K2LANES(p, a, off) \
	VMOVSS       (p), X0;     \
	VMULSS       X2, X0, X0;  \
	VBROADCASTSS X0, Y0;      \
	VCVTDQ2PS    a, a;        \
	VMOVUPS      off(R8), Y1; \
	VFMADD231PS  a, Y0, Y1;   \
	VMOVUPS      Y1, off(R8)

#define K2CLEAR \
	VPXOR Y5, Y5, Y5;    \
	VPXOR Y6, Y6, Y6;    \
	VPXOR Y10, Y10, Y10; \
	VPXOR Y11, Y11, Y11

// K2SCALE sets Y3 to the two int16 scales of the next 32 values (VPSHUFB
// Y13 of Y7) and steps Y13.
#define K2SCALE \
	VPSHUFB Y13, Y7, Y3; \
	VPADDB  Y14, Y13, Y13

// Q2KW sets Y0 to the 2-bit values at bits 2s of Y12, and Y3 to their
// scales.
#define Q2KW(s) \
	VPSRLW $(2*s), Y12, Y0; \
	VPAND  Y8, Y0, Y0;      \
	K2SCALE

// Q2KROW adds to the int32 lanes a the scaled products of Y0 with the
// activations at q8(p), as KCHUNK.
#define Q2KROW(q8, p, a) \
	VPMADDUBSW q8(p), Y0, Y1; \
	VPMADDWD   Y3, Y1, Y1;    \
	VPADDD     Y1, a, a

#define Q2KX4(s, q8) \
	Q2KW(s);             \
	Q2KROW(q8, DI, Y5);  \
	Q2KROW(q8, R11, Y6); \
	Q2KROW(q8, R12, Y10); \
	Q2KROW(q8, R13, Y11)

#define Q2KX2(s, q8) \
	Q2KW(s);            \
	Q2KROW(q8, DI, Y5); \
	Q2KROW(q8, R11, Y6)

// Q2KHALVES multiplies both halves of the super-block's values with every
// row (X: Q2KX4 or Q2KX2); Y4 holds the scales as int16.
#define Q2KHALVES(X) \
	VMOVDQU 16(SI), Y12;   \
	VPERMQ  $0x44, Y4, Y7; \
	VMOVDQA Y15, Y13;      \
	X(0, 4);               \
	X(1, 36);              \
	X(2, 68);              \
	X(3, 100);             \
	VMOVDQU 48(SI), Y12;   \
	VPERMQ  $0xEE, Y4, Y7; \
	VMOVDQA Y15, Y13;      \
	X(0, 132);             \
	X(1, 164);             \
	X(2, 196);             \
	X(3, 228)

// Q2KSCALES sets Y1 to the minimums and Y4 to the scales of the block at
// SI as int16, X3 (lane 0) to its float dmin and X2 (lane 0) to its d.
#define Q2KSCALES \
	MOVL      80(SI), AX;  \
	VMOVD     AX, X2;      \
	VCVTPH2PS X2, X2;      \
	VMOVSHDUP X2, X3;      \
	VMOVDQU   (SI), X0;    \
	VPSRLW    $4, X0, X1;  \
	VPAND     X9, X1, X1;  \
	VPMOVZXBW X1, Y1;      \
	VPAND     X9, X0, X0;  \
	VPMOVZXBW X0, Y4

// Q2KMIN takes dmin·(mins·bsums) of row p off its float32 lanes at
// off(R8), as q2_KAVX2 does first; Y5 and Y6 are clobbered (before the
// lanes are cleared).
#define Q2KMIN(p, off) \
	VMOVSS       (p), X0;       \
	VMULSS       X3, X0, X0;    \
	VBROADCASTSS X0, Y0;        \
	VPMADDWD     260(p), Y1, Y5; \
	VCVTDQ2PS    Y5, Y5;        \
	VMOVUPS      off(R8), Y6;   \
	VFNMADD231PS Y5, Y0, Y6;    \
	VMOVUPS      Y6, off(R8)

// func q2_Kx4AVX2(w, x0, x1, x2, x3 *byte, nblocks int, acc *[4][8]float32)
TEXT ·q2_Kx4AVX2(SB), NOSPLIT, $0-56
	MOVQ w+0(FP), SI
	MOVQ x0+8(FP), DI
	MOVQ x1+16(FP), R11
	MOVQ x2+24(FP), R12
	MOVQ x3+32(FP), R13
	MOVQ nblocks+40(FP), CX
	MOVQ acc+48(FP), R8
	BCAST(0x03030303, X8, Y8)
	BCAST(0x0f0f0f0f, X9, Y9)
	SCALEMASK

q2kx4loop:
	Q2KSCALES
	Q2KMIN(DI, 0)
	Q2KMIN(R11, 32)
	Q2KMIN(R12, 64)
	Q2KMIN(R13, 96)
	K2CLEAR
	Q2KHALVES(Q2KX4)
	MOVL      80(SI), AX
	VMOVD     AX, X2
	VCVTPH2PS X2, X2
	K2LANES(DI, Y5, 0)
	K2LANES(R11, Y6, 32)
	K2LANES(R12, Y10, 64)
	K2LANES(R13, Y11, 96)

	ADDQ $84, SI
	ADDQ $292, DI
	ADDQ $292, R11
	ADDQ $292, R12
	ADDQ $292, R13
	DECQ CX
	JNZ  q2kx4loop
	VZEROUPPER
	RET

// func q2_Kx2AVX2(w, x0, x1 *byte, nblocks int, acc *[2][8]float32)
TEXT ·q2_Kx2AVX2(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ x0+8(FP), DI
	MOVQ x1+16(FP), R11
	MOVQ nblocks+24(FP), CX
	MOVQ acc+32(FP), R8
	BCAST(0x03030303, X8, Y8)
	BCAST(0x0f0f0f0f, X9, Y9)
	SCALEMASK

q2kx2loop:
	Q2KSCALES
	Q2KMIN(DI, 0)
	Q2KMIN(R11, 32)
	VPXOR     Y5, Y5, Y5
	VPXOR     Y6, Y6, Y6
	Q2KHALVES(Q2KX2)
	MOVL      80(SI), AX
	VMOVD     AX, X2
	VCVTPH2PS X2, X2
	K2LANES(DI, Y5, 0)
	K2LANES(R11, Y6, 32)

	ADDQ $84, SI
	ADDQ $292, DI
	ADDQ $292, R11
	DECQ CX
	JNZ  q2kx2loop
	VZEROUPPER
	RET

// Q3KW sets Y0 to the 2-bit values at bits 2s of Y12, Y1 to 4 where bit b
// of the high-bit bytes at (SI) is clear (as Q3KCHUNK), and Y3 to their
// scales; Y9 holds 0x01 in every byte.
#define Q3KW(s, b) \
	VPSRLW  $(2*s), Y12, Y0; \
	VPAND   Y8, Y0, Y0;      \
	VMOVDQU (SI), Y1;        \
	VPSRLW  $b, Y1, Y1;      \
	VPAND   Y9, Y1, Y1;      \
	VPXOR   Y9, Y1, Y1;      \
	VPSLLW  $2, Y1, Y1;      \
	K2SCALE

// Q3KROW adds to the int32 lanes a the scaled products of Y0 - Y1 with
// the activations at q8(p), as KCHUNK; Y2 and Y4 are clobbered.
#define Q3KROW(q8, p, a) \
	VPMADDUBSW q8(p), Y0, Y2; \
	VPMADDUBSW q8(p), Y1, Y4; \
	VPSUBW     Y4, Y2, Y2;    \
	VPMADDWD   Y3, Y2, Y2;    \
	VPADDD     Y2, a, a

#define Q3KX4(s, b, q8) \
	Q3KW(s, b);           \
	Q3KROW(q8, DI, Y5);   \
	Q3KROW(q8, R11, Y6);  \
	Q3KROW(q8, R12, Y10); \
	Q3KROW(q8, R13, Y11)

#define Q3KX2(s, b, q8) \
	Q3KW(s, b);         \
	Q3KROW(q8, DI, Y5); \
	Q3KROW(q8, R11, Y6)

// Q3KHALVES multiplies both halves of the super-block's values with every
// row (X: Q3KX4 or Q3KX2). The scales are decoded once per half (Y4 is
// a temporary of the rows); R8 is reloaded from acc+accoff(FP).
#define Q3KHALVES(X, accoff) \
	Q3KSCALES;                  \
	VPERMQ  $0x44, Y4, Y7;      \
	VMOVDQA Y15, Y13;           \
	VMOVDQU 32(SI), Y12;        \
	X(0, 0, 4);                 \
	X(1, 1, 36);                \
	X(2, 2, 68);                \
	X(3, 3, 100);               \
	Q3KSCALES;                  \
	MOVQ    acc+accoff(FP), R8; \
	VPERMQ  $0xEE, Y4, Y7;      \
	VMOVDQA Y15, Y13;           \
	VMOVDQU 64(SI), Y12;        \
	X(0, 4, 132);               \
	X(1, 5, 164);               \
	X(2, 6, 196);               \
	X(3, 7, 228)

// Q3KD sets lane 0 of X2 to the block's float d.
#define Q3KD \
	MOVWLZX   108(SI), AX; \
	VMOVD     AX, X2;      \
	VCVTPH2PS X2, X2

// func q3_Kx4AVX2(w, x0, x1, x2, x3 *byte, nblocks int, acc *[4][8]float32)
TEXT ·q3_Kx4AVX2(SB), NOSPLIT, $0-56
	MOVQ w+0(FP), SI
	MOVQ x0+8(FP), DI
	MOVQ x1+16(FP), R11
	MOVQ x2+24(FP), R12
	MOVQ x3+32(FP), R13
	MOVQ nblocks+40(FP), CX
	BCAST(0x03030303, X8, Y8)
	BCAST(0x01010101, X9, Y9)
	SCALEMASK

q3kx4loop:
	K2CLEAR
	Q3KHALVES(Q3KX4, 48)
	Q3KD
	K2LANES(DI, Y5, 0)
	K2LANES(R11, Y6, 32)
	K2LANES(R12, Y10, 64)
	K2LANES(R13, Y11, 96)

	ADDQ $110, SI
	ADDQ $292, DI
	ADDQ $292, R11
	ADDQ $292, R12
	ADDQ $292, R13
	DECQ CX
	JNZ  q3kx4loop
	VZEROUPPER
	RET

// func q3_Kx2AVX2(w, x0, x1 *byte, nblocks int, acc *[2][8]float32)
TEXT ·q3_Kx2AVX2(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ x0+8(FP), DI
	MOVQ x1+16(FP), R11
	MOVQ nblocks+24(FP), CX
	BCAST(0x03030303, X8, Y8)
	BCAST(0x01010101, X9, Y9)
	SCALEMASK

q3kx2loop:
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	Q3KHALVES(Q3KX2, 32)
	Q3KD
	K2LANES(DI, Y5, 0)
	K2LANES(R11, Y6, 32)

	ADDQ $110, SI
	ADDQ $292, DI
	ADDQ $292, R11
	DECQ CX
	JNZ  q3kx2loop
	VZEROUPPER
	RET
