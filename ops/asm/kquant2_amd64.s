//go:build !purego

#include "textflag.h"
#include "kquant_amd64.h"

// Q2_K, Q3_K and IQ4_XS dot products with Q8_K activations, with AVX2,
// FMA and F16C, following llama.cpp's AVX2 loops (ggml_vec_dot_q2_K_q8_K,
// _q3_K_q8_K, _iq4_xs_q8_K) like kquant_amd64.s: exact int32 lanes per
// super-block, one fused multiply-add per lane, results equal to the
// generic twins bit for bit.

// kshift holds the per-dword shift counts that turn 16 bytes of nibbles
// broadcast to both halves into the low nibbles (low half) and the high
// nibbles (high half).
DATA kshift<>+0(SB)/8, $0
DATA kshift<>+8(SB)/8, $0
DATA kshift<>+16(SB)/8, $0x0000000400000004
DATA kshift<>+24(SB)/8, $0x0000000400000004
GLOBL kshift<>(SB), RODATA|NOPTR, $32

// kvaluesIQ4 are the int8 values IQ4_NL and IQ4_XS nibbles stand for.
DATA kvaluesIQ4<>+0(SB)/8, $0xF6EADDCFBFAD9881
DATA kvaluesIQ4<>+8(SB)/8, $0x7159453526190D01
GLOBL kvaluesIQ4<>(SB), RODATA|NOPTR, $16

// KCHUNK adds to Y10 the lane sums of the 32 values whose unsigned weights
// are in Y0 and whose int8 activations are at q8(DI), times the two int16
// scales Y7 and Y13 pick (one per 16 values); Y1 holds what to subtract
// from the weights (Q3_K's 4 where the high bit is clear) or is zero.
#define KCHUNK(q8) \
	VMOVDQU    q8(DI), Y2;    \
	VPMADDUBSW Y2, Y0, Y0;    \
	VPMADDUBSW Y2, Y1, Y1;    \
	VPSUBW     Y1, Y0, Y0;    \
	VPSHUFB    Y13, Y7, Y3;   \
	VPADDB     Y14, Y13, Y13; \
	VPMADDWD   Y3, Y0, Y0;    \
	VPADDD     Y0, Y10, Y10

// Q2KCHUNK is KCHUNK for the 2-bit values at bits 2s of Y12.
#define Q2KCHUNK(s, q8) \
	VPSRLW $(2*s), Y12, Y0; \
	VPAND  Y8, Y0, Y0;      \
	VPXOR  Y1, Y1, Y1;      \
	KCHUNK(q8)

// func q2_KAVX2(w, x *byte, nblocks int, acc *[8]float32)
TEXT ·q2_KAVX2(SB), NOSPLIT, $0-32
	MOVQ   w+0(FP), SI
	MOVQ   x+8(FP), DI
	MOVQ   nblocks+16(FP), CX
	MOVQ   acc+24(FP), R11
	BCAST(0x03030303, X8, Y8)
	BCAST(0x0f0f0f0f, X9, Y9)
	SCALEMASK
	VXORPS Y11, Y11, Y11

q2kloop:
	// d = y.d·x.d, dmin = y.d·x.dmin (the last four bytes of the block);
	// the minimums go first, subtracted with VFNMADD231PS.
	MOVL         80(SI), AX
	VMOVD        AX, X1
	VCVTPH2PS    X1, X1
	VMOVSS       (DI), X0
	VMULSS       X1, X0, X2
	VBROADCASTSS X2, Y6
	VMOVSHDUP    X1, X3
	VMULSS       X3, X0, X3
	VBROADCASTSS X3, Y3

	VMOVDQU      (SI), X0
	VPSRLW       $4, X0, X1
	VPAND        X9, X1, X1
	VPMOVZXBW    X1, Y1
	VPMADDWD     260(DI), Y1, Y1
	VCVTDQ2PS    Y1, Y1
	VFNMADD231PS Y1, Y3, Y11
	VPAND        X9, X0, X0
	VPMOVZXBW    X0, Y4

	VPXOR   Y10, Y10, Y10
	VMOVDQU 16(SI), Y12
	VPERMQ  $0x44, Y4, Y7
	VMOVDQA Y15, Y13
	Q2KCHUNK(0, 4)
	Q2KCHUNK(1, 36)
	Q2KCHUNK(2, 68)
	Q2KCHUNK(3, 100)
	VMOVDQU 48(SI), Y12
	VPERMQ  $0xEE, Y4, Y7
	VMOVDQA Y15, Y13
	Q2KCHUNK(0, 132)
	Q2KCHUNK(1, 164)
	Q2KCHUNK(2, 196)
	Q2KCHUNK(3, 228)
	VCVTDQ2PS   Y10, Y10
	VFMADD231PS Y10, Y6, Y11

	ADDQ $84, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q2kloop

	VMOVUPS Y11, (R11)
	VZEROUPPER
	RET

// Q3KCHUNK is KCHUNK for the 2-bit values at bits 2s of Y12, minus 4
// where bit b of the high-bit bytes is clear (Y5 holds them inverted).
#define Q3KCHUNK(s, b, q8) \
	VPSRLW $(2*s), Y12, Y0; \
	VPAND  Y8, Y0, Y0;      \
	VPSRLW $b, Y5, Y1;      \
	VPAND  Y9, Y1, Y1;      \
	VPSLLW $2, Y1, Y1;      \
	KCHUNK(q8)

// func q3_KAVX2(w, x *byte, nblocks int, acc *[8]float32)
TEXT ·q3_KAVX2(SB), NOSPLIT, $0-32
	MOVQ   w+0(FP), SI
	MOVQ   x+8(FP), DI
	MOVQ   nblocks+16(FP), CX
	MOVQ   acc+24(FP), R11
	BCAST(0x03030303, X8, Y8)
	BCAST(0x01010101, X9, Y9)
	SCALEMASK
	VXORPS Y11, Y11, Y11

q3kloop:
	MOVWLZX      108(SI), AX
	VMOVD        AX, X0
	VCVTPH2PS    X0, X0
	VMULSS       (DI), X0, X0
	VBROADCASTSS X0, Y6

	Q3KSCALES

	VMOVDQU (SI), Y5
	VPCMPEQB Y0, Y0, Y0
	VPXOR   Y0, Y5, Y5 // high bits inverted: set where 4 is subtracted

	VPXOR   Y10, Y10, Y10
	VMOVDQU 32(SI), Y12
	VPERMQ  $0x44, Y4, Y7
	VMOVDQA Y15, Y13
	Q3KCHUNK(0, 0, 4)
	Q3KCHUNK(1, 1, 36)
	Q3KCHUNK(2, 2, 68)
	Q3KCHUNK(3, 3, 100)
	VMOVDQU 64(SI), Y12
	VPERMQ  $0xEE, Y4, Y7
	VMOVDQA Y15, Y13
	Q3KCHUNK(0, 4, 132)
	Q3KCHUNK(1, 5, 164)
	Q3KCHUNK(2, 6, 196)
	Q3KCHUNK(3, 7, 228)
	VCVTDQ2PS   Y10, Y10
	VFMADD231PS Y10, Y6, Y11

	ADDQ $110, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q3kloop

	VMOVUPS Y11, (R11)
	VZEROUPPER
	RET

// IQ4XSBLOCK adds to Y10 the lane sums of the 32 values of sub-block ib,
// whose low scale bits are the nibble at bit sh of byte so(SI), times that
// 6-bit scale - 32. The weights' signs move onto the activations
// (VPSIGNB) so that VPMADDUBSW can multiply: exact for activations in
// [-127, 127], which the Q8_K quantizer guarantees. BX holds scales_h.
#define IQ4XSBLOCK(ib, so, sh) \
	VBROADCASTI128 (8+16*ib)(SI), Y0; \
	VPSRLVD        Y12, Y0, Y0;        \
	VPAND          Y8, Y0, Y0;         \
	VPSHUFB        Y0, Y7, Y0;         \
	VMOVDQU        (4+32*ib)(DI), Y1;  \
	VPSIGNB        Y0, Y1, Y1;         \
	VPSIGNB        Y0, Y0, Y0;         \
	VPMADDUBSW     Y1, Y0, Y0;         \
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
	VPBROADCASTW   X2, Y2;             \
	VPMADDWD       Y2, Y0, Y0;         \
	VPADDD         Y0, Y10, Y10

// func iq4_XSAVX2(w, x *byte, nblocks int, acc *[8]float32)
TEXT ·iq4_XSAVX2(SB), NOSPLIT, $0-32
	MOVQ           w+0(FP), SI
	MOVQ           x+8(FP), DI
	MOVQ           nblocks+16(FP), CX
	MOVQ           acc+24(FP), R11
	BCAST(0x0f0f0f0f, X8, Y8)
	VMOVDQU        kshift<>(SB), Y12
	VBROADCASTI128 kvaluesIQ4<>(SB), Y7
	VXORPS         Y11, Y11, Y11

iq4xsloop:
	VCVTPH2PS    (SI), X0
	VMULSS       (DI), X0, X0
	VBROADCASTSS X0, Y6
	MOVWLZX      2(SI), BX

	VPXOR Y10, Y10, Y10
	IQ4XSBLOCK(0, 4, 0)
	IQ4XSBLOCK(1, 4, 4)
	IQ4XSBLOCK(2, 5, 0)
	IQ4XSBLOCK(3, 5, 4)
	IQ4XSBLOCK(4, 6, 0)
	IQ4XSBLOCK(5, 6, 4)
	IQ4XSBLOCK(6, 7, 0)
	IQ4XSBLOCK(7, 7, 4)
	VCVTDQ2PS   Y10, Y10
	VFMADD231PS Y10, Y6, Y11

	ADDQ $136, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  iq4xsloop

	VMOVUPS Y11, (R11)
	VZEROUPPER
	RET
