//go:build !purego

#include "textflag.h"

// Q4_1, Q5_0, Q5_1 and IQ4_NL dot products with AVX2, FMA and F16C,
// following llama.cpp's AVX2 loops (ggml_vec_dot_q4_1_q8_1, _q5_0_q8_0,
// _q5_1_q8_1, _iq4_nl_q8_0): per 32-value block eight exact int32 lanes,
// one fused multiply-add per lane in ggml's order, results equal to the
// generic twins bit for bit. Q5_0 and IQ4_NL weights are signed: their
// signs move onto the activations (VPSIGNB) for VPMADDUBSW, exact for
// activations in [-127, 127], which the Q8_0 quantizer guarantees.

// qshift: per-dword shift counts, 0 in the low half and 4 in the high
// half, that turn 16 bytes of nibbles broadcast to both halves into the
// low nibbles (bytes 0…15) and the high nibbles (bytes 16…31).
DATA qshift<>+0(SB)/8, $0
DATA qshift<>+8(SB)/8, $0
DATA qshift<>+16(SB)/8, $0x0000000400000004
DATA qshift<>+24(SB)/8, $0x0000000400000004
GLOBL qshift<>(SB), RODATA|NOPTR, $32

// bitsShuf spreads byte k/8 of a broadcast dword to byte k; bitsMask sets
// every bit but bit k%8 of byte k (ggml's bytes_from_bits_32).
DATA bitsShuf<>+0(SB)/8, $0x0000000000000000
DATA bitsShuf<>+8(SB)/8, $0x0101010101010101
DATA bitsShuf<>+16(SB)/8, $0x0202020202020202
DATA bitsShuf<>+24(SB)/8, $0x0303030303030303
GLOBL bitsShuf<>(SB), RODATA|NOPTR, $32

DATA bitsMask<>+0(SB)/8, $0x7fbfdfeff7fbfdfe
DATA bitsMask<>+8(SB)/8, $0x7fbfdfeff7fbfdfe
DATA bitsMask<>+16(SB)/8, $0x7fbfdfeff7fbfdfe
DATA bitsMask<>+24(SB)/8, $0x7fbfdfeff7fbfdfe
GLOBL bitsMask<>(SB), RODATA|NOPTR, $32

DATA kvaluesNL<>+0(SB)/8, $0xF6EADDCFBFAD9881
DATA kvaluesNL<>+8(SB)/8, $0x7159453526190D01
GLOBL kvaluesNL<>(SB), RODATA|NOPTR, $16

// QCONSTS sets Y8 to 0x0f in every byte, Y9 to all ones, Y10 to 1 in every
// int16, Y13 to the qshift counts, Y14 to bitsShuf and Y15 to bitsMask.
#define QCONSTS \
	MOVL         $0x0f0f0f0f, AX;  \
	VMOVD        AX, X8;           \
	VPBROADCASTD X8, Y8;           \
	VPCMPEQB     Y9, Y9, Y9;       \
	MOVL         $0x00010001, AX;  \
	VMOVD        AX, X10;          \
	VPBROADCASTD X10, Y10;         \
	VMOVDQU      qshift<>(SB), Y13; \
	VMOVDQU      bitsShuf<>(SB), Y14; \
	VMOVDQU      bitsMask<>(SB), Y15

// NIBBLES sets y to the 32 nibbles of the 16 bytes at o(SI), low nibbles
// first.
#define NIBBLES(o, y) \
	VBROADCASTI128 o(SI), y; \
	VPSRLVD        Y13, y, y; \
	VPAND          Y8, y, y

// HIGHBITS sets y to 0xff in byte k where bit k of the dword at o(SI) is
// set, 0 elsewhere.
#define HIGHBITS(o, y) \
	VPBROADCASTD o(SI), y;  \
	VPSHUFB      Y14, y, y; \
	VPOR         Y15, y, y; \
	VPCMPEQB     Y9, y, y

// LANES sets the float32 lanes y to the exact int32 sums of four
// products of the unsigned bytes y with the int8 activations at o(DI).
#define LANES(o, y) \
	VPMADDUBSW o(DI), y, y; \
	VPMADDWD   Y10, y, y;   \
	VCVTDQ2PS  y, y

// SIGNEDLANES is LANES for signed weights y, using t.
#define SIGNEDLANES(o, y, t) \
	VMOVDQU    o(DI), t;  \
	VPSIGNB    y, t, t;   \
	VPSIGNB    y, y, y;   \
	VPMADDUBSW t, y, y;   \
	VPMADDWD   Y10, y, y; \
	VCVTDQ2PS  y, y

// MINSCALES sets Y5 to dw·dx (broadcast) and adds m·s to X12 with a fused
// multiply-add, for the Q4_1 or Q5_1 block at SI and the Q8_1 block at DI.
#define MINSCALES \
	VCVTPH2PS    (SI), X1;    \
	VCVTPH2PS    (DI), X2;    \
	VMOVSHDUP    X1, X3;      \
	VMOVSHDUP    X2, X4;      \
	VFMADD231SS  X4, X3, X12; \
	VMULSS       X2, X1, X5;  \
	VBROADCASTSS X5, Y5

// func q4_1AVX2(w, x *byte, nblocks int, acc *[9]float32)
TEXT ·q4_1AVX2(SB), NOSPLIT, $0-32
	MOVQ   w+0(FP), SI
	MOVQ   x+8(FP), DI
	MOVQ   nblocks+16(FP), CX
	MOVQ   acc+24(FP), R11
	QCONSTS
	VXORPS Y11, Y11, Y11
	VXORPS X12, X12, X12

q41loop:
	MINSCALES
	NIBBLES(4, Y0)
	LANES(4, Y0)
	VFMADD231PS Y0, Y5, Y11
	ADDQ        $20, SI
	ADDQ        $36, DI
	DECQ        CX
	JNZ         q41loop

	VMOVUPS Y11, (R11)
	VMOVSS  X12, 32(R11)
	VZEROUPPER
	RET

// func q5_1AVX2(w, x *byte, nblocks int, acc *[9]float32)
TEXT ·q5_1AVX2(SB), NOSPLIT, $0-32
	MOVQ         w+0(FP), SI
	MOVQ         x+8(FP), DI
	MOVQ         nblocks+16(FP), CX
	MOVQ         acc+24(FP), R11
	QCONSTS
	MOVL         $0x10101010, AX
	VMOVD        AX, X7
	VPBROADCASTD X7, Y7
	VXORPS       Y11, Y11, Y11
	VXORPS       X12, X12, X12

q51loop:
	MINSCALES
	NIBBLES(8, Y0)
	HIGHBITS(4, Y1)
	VPAND       Y7, Y1, Y1
	VPOR        Y1, Y0, Y0
	LANES(4, Y0)
	VFMADD231PS Y0, Y5, Y11
	ADDQ        $24, SI
	ADDQ        $36, DI
	DECQ        CX
	JNZ         q51loop

	VMOVUPS Y11, (R11)
	VMOVSS  X12, 32(R11)
	VZEROUPPER
	RET

// func q5_0AVX2(w, x *byte, nblocks int, acc *[8]float32)
TEXT ·q5_0AVX2(SB), NOSPLIT, $0-32
	MOVQ         w+0(FP), SI
	MOVQ         x+8(FP), DI
	MOVQ         nblocks+16(FP), CX
	MOVQ         acc+24(FP), R11
	QCONSTS
	MOVL         $0xf0f0f0f0, AX
	VMOVD        AX, X7
	VPBROADCASTD X7, Y7
	VXORPS       Y11, Y11, Y11

q50loop:
	VCVTPH2PS    (SI), X1
	VCVTPH2PS    (DI), X2
	VMULSS       X2, X1, X5
	VBROADCASTSS X5, Y5
	// Values nibble - 16 where the fifth bit is clear: 0xf0 | nibble.
	NIBBLES(6, Y0)
	HIGHBITS(2, Y1)
	VPANDN       Y7, Y1, Y1
	VPOR         Y1, Y0, Y0
	SIGNEDLANES(2, Y0, Y2)
	VFMADD231PS  Y0, Y5, Y11
	ADDQ         $22, SI
	ADDQ         $34, DI
	DECQ         CX
	JNZ          q50loop

	VMOVUPS Y11, (R11)
	VZEROUPPER
	RET

// IQ4NLBLOCK fmas the lanes of the IQ4_NL block at o(SI) · the Q8_0 block
// at p(DI), times the product of their scales, into acc.
#define IQ4NLBLOCK(o, p, acc) \
	VCVTPH2PS    p(DI), X1;   \
	VCVTPH2PS    o(SI), X2;   \
	VMULSS       X2, X1, X5;  \
	VBROADCASTSS X5, Y5;      \
	NIBBLES(o+2, Y0);         \
	VPSHUFB      Y0, Y7, Y0;  \
	SIGNEDLANES(p+2, Y0, Y2); \
	VFMADD231PS  Y0, Y5, acc

// func iq4_NLAVX2(w, x *byte, npairs int, acc *[16]float32)
TEXT ·iq4_NLAVX2(SB), NOSPLIT, $0-32
	MOVQ           w+0(FP), SI
	MOVQ           x+8(FP), DI
	MOVQ           npairs+16(FP), CX
	MOVQ           acc+24(FP), R11
	QCONSTS
	VBROADCASTI128 kvaluesNL<>(SB), Y7
	VXORPS         Y11, Y11, Y11
	VXORPS         Y12, Y12, Y12

iq4nlloop:
	IQ4NLBLOCK(0, 0, Y11)
	IQ4NLBLOCK(18, 34, Y12)
	ADDQ $36, SI
	ADDQ $68, DI
	DECQ CX
	JNZ  iq4nlloop

	VMOVUPS Y11, (R11)
	VMOVUPS Y12, 32(R11)
	VZEROUPPER
	RET
