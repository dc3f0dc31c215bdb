//go:build !purego

#include "textflag.h"
#include "kquant_amd64.h"

// Eight-row Q4_K dot products with AVX-512 (F, BW, VL) and VNNI: one
// weight row against eight Q8_K activation rows stride bytes apart, for
// prefill. Each 64-value chunk of a weight super-block is decoded once
// into a 512-bit register (low nibbles in the lower half, high nibbles in
// the upper half: VPSRLVW shifts only the upper half) and multiplied with
// each row's 64 activations by VPMADDUBSW; VPDPWSSD then multiplies the
// int16 pair sums by the two 32-value groups' scales and adds them to the
// row's int32 lanes in one instruction (AVX2 needs VPMADDWD and VPADDD).
// Lane l of the lower half holds what lane l of q4_KAVX2's Y10 holds for
// the even groups, the upper half for the odd ones; adding the halves gives
// its lanes exactly (int32 sums wrap, so the order of the additions does
// not matter). The float32 work per block and row is q4_KAVX2's, operation
// for operation, so each result equals the single-row kernel's bit for
// bit.
//
// Registers: SI weights; DI, R12 = DI+3·stride, R11 = stride, R13 =
// 3·stride address the eight rows; CX the super-blocks left; Y16–Y23 the
// rows' float32 lanes; Z24–Z31 their int32 lanes; Z12, Z13, Z14, Z6 the
// scales of the four chunks; Z8 0x0f in every byte; Z15 the shift counts.

// q4kx8shift: VPSRLVW counts, 0 for the lower 16 words, 4 for the upper.
DATA q4kx8shift<>+0x00(SB)/8, $0
DATA q4kx8shift<>+0x08(SB)/8, $0
DATA q4kx8shift<>+0x10(SB)/8, $0
DATA q4kx8shift<>+0x18(SB)/8, $0
DATA q4kx8shift<>+0x20(SB)/8, $0x0004000400040004
DATA q4kx8shift<>+0x28(SB)/8, $0x0004000400040004
DATA q4kx8shift<>+0x30(SB)/8, $0x0004000400040004
DATA q4kx8shift<>+0x38(SB)/8, $0x0004000400040004
GLOBL q4kx8shift<>(SB), RODATA|NOPTR, $64

// q4kx8perm: VPERMW indexes of the scales of chunk j, at 64·j: scale 2j in
// the lower 16 words, scale 2j+1 in the upper.
#define PERM(o, lo, hi) \
	DATA q4kx8perm<>+(o+0x00)(SB)/8, $lo; \
	DATA q4kx8perm<>+(o+0x08)(SB)/8, $lo; \
	DATA q4kx8perm<>+(o+0x10)(SB)/8, $lo; \
	DATA q4kx8perm<>+(o+0x18)(SB)/8, $lo; \
	DATA q4kx8perm<>+(o+0x20)(SB)/8, $hi; \
	DATA q4kx8perm<>+(o+0x28)(SB)/8, $hi; \
	DATA q4kx8perm<>+(o+0x30)(SB)/8, $hi; \
	DATA q4kx8perm<>+(o+0x38)(SB)/8, $hi

PERM(0x00, 0x0000000000000000, 0x0001000100010001)
PERM(0x40, 0x0002000200020002, 0x0003000300030003)
PERM(0x80, 0x0004000400040004, 0x0005000500050005)
PERM(0xc0, 0x0006000600060006, 0x0007000700070007)
GLOBL q4kx8perm<>(SB), RODATA|NOPTR, $256

// Q4KX8ROWS adds the products of the chunk in Z10 (scales in s) to the
// int32 lanes of the eight rows; a is the offset of the chunk's 64
// activations in a Q8_K block.
#define Q4KX8ROWS(a, s) \
	VPMADDUBSW a(DI), Z10, Z11;           \
	VPDPWSSD   s, Z11, Z24;               \
	VPMADDUBSW a(DI)(R11*1), Z10, Z0;     \
	VPDPWSSD   s, Z0, Z25;                \
	VPMADDUBSW a(DI)(R11*2), Z10, Z1;     \
	VPDPWSSD   s, Z1, Z26;                \
	VPMADDUBSW a(R12), Z10, Z11;          \
	VPDPWSSD   s, Z11, Z27;               \
	VPMADDUBSW a(DI)(R11*4), Z10, Z0;     \
	VPDPWSSD   s, Z0, Z28;                \
	VPMADDUBSW a(R12)(R11*2), Z10, Z1;    \
	VPDPWSSD   s, Z1, Z29;                \
	VPMADDUBSW a(R12)(R13*1), Z10, Z11;   \
	VPDPWSSD   s, Z11, Z30;               \
	VPMADDUBSW a(R12)(R11*4), Z10, Z0;    \
	VPDPWSSD   s, Z0, Z31

// Q4KX8CHUNK decodes the 32 nibble bytes at (16+o)(SI) into Z10 and
// multiplies them with every row.
#define Q4KX8CHUNK(o, s) \
	VBROADCASTI64X4 (16+o)(SI), Z10; \
	VPSRLVW         Z15, Z10, Z10;   \
	VPANDD          Z8, Z10, Z10;    \
	Q4KX8ROWS(4+2*o, s)

// Q4KX8END finishes the block for the row whose Q8_K block is at p, int32
// lanes zi, float32 lanes yf, minimum lanes at off(AX): as KLANES and
// Q4KMIN of the four-row kernel. Y3 holds y.d and X2 y.dmin in every lane.
#define Q4KX8END(p, zi, yi, yf, off) \
	VEXTRACTI64X4 $1, zi, Y0;     \
	VPADDD        Y0, yi, yi;     \
	VCVTDQ2PS     yi, yi;         \
	VMULPS.BCST   p, Y3, Y1;      \
	VFMADD231PS   yi, Y1, yf;     \
	VPXORD        zi, zi, zi;     \
	VMOVDQU       260 p, X5;      \
	VPHADDW       276 p, X5, X5;  \
	VPMADDWD      X9, X5, X5;     \
	VCVTDQ2PS     X5, X5;         \
	VMULPS.BCST   p, X2, X0;      \
	VMOVUPS       (off+32)(AX), X1; \
	VFNMADD231PS  X5, X0, X1;     \
	VMOVUPS       X1, (off+32)(AX)

// func q4_Kx8AVX512(w, x *byte, stride, nblocks int, acc *[8][12]float32)
TEXT ·q4_Kx8AVX512(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ stride+16(FP), R11
	MOVQ nblocks+24(FP), CX
	LEAQ (R11)(R11*2), R13
	LEAQ (DI)(R13*1), R12
	MOVL $0x0f0f0f0f, AX
	VPBROADCASTD AX, Z8
	VMOVDQU64 q4kx8shift<>(SB), Z15
	VPXORD Z24, Z24, Z24
	VPXORD Z25, Z25, Z25
	VPXORD Z26, Z26, Z26
	VPXORD Z27, Z27, Z27
	VPXORD Z28, Z28, Z28
	VPXORD Z29, Z29, Z29
	VPXORD Z30, Z30, Z30
	VPXORD Z31, Z31, Z31
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23

q4kx8loop:
	KSCALES
	VEXTRACTI128 $1, Y4, X9
	VMOVDQU64    q4kx8perm<>+0x00(SB), Z0
	VPERMW       Z4, Z0, Z12
	VMOVDQU64    q4kx8perm<>+0x40(SB), Z0
	VPERMW       Z4, Z0, Z13
	VMOVDQU64    q4kx8perm<>+0x80(SB), Z0
	VPERMW       Z4, Z0, Z14
	VMOVDQU64    q4kx8perm<>+0xc0(SB), Z0
	VPERMW       Z4, Z0, Z6
	Q4KX8CHUNK(0, Z12)
	Q4KX8CHUNK(32, Z13)
	Q4KX8CHUNK(64, Z14)
	Q4KX8CHUNK(96, Z6)

	VCVTPH2PS    (SI), X3
	VMOVSHDUP    X3, X2
	VBROADCASTSS X2, X2
	VBROADCASTSS X3, Y3
	MOVQ         acc+32(FP), AX
	Q4KX8END((DI), Z24, Y24, Y16, 0)
	Q4KX8END((DI)(R11*1), Z25, Y25, Y17, 48)
	Q4KX8END((DI)(R11*2), Z26, Y26, Y18, 96)
	Q4KX8END((R12), Z27, Y27, Y19, 144)
	Q4KX8END((DI)(R11*4), Z28, Y28, Y20, 192)
	Q4KX8END((R12)(R11*2), Z29, Y29, Y21, 240)
	Q4KX8END((R12)(R13*1), Z30, Y30, Y22, 288)
	Q4KX8END((R12)(R11*4), Z31, Y31, Y23, 336)

	ADDQ $144, SI
	ADDQ $292, DI
	ADDQ $292, R12
	DECQ CX
	JNZ  q4kx8loop

	VMOVUPS Y16, 0(AX)
	VMOVUPS Y17, 48(AX)
	VMOVUPS Y18, 96(AX)
	VMOVUPS Y19, 144(AX)
	VMOVUPS Y20, 192(AX)
	VMOVUPS Y21, 240(AX)
	VMOVUPS Y22, 288(AX)
	VMOVUPS Y23, 336(AX)
	VZEROUPPER
	RET

// Eight-row Q6_K: each 64-value chunk (two 32-value groups, four 16-value
// scales) is built in Z10 from 64 bytes of low bits (the nibbles of one
// half block, shifted for the odd chunks) and 32 bytes of high bit pairs
// (broadcast to both halves and shifted to bits 4 and 5 by VPSLLVW or
// VPSRLVW), merged by VPTERNLOGD; each row then takes VPMADDUBSW and
// VPDPWSSD as for Q4_K. The block's lanes, 32·(scales·bsums) subtracted,
// are q6_KAVX2's Y10 exactly, and its float32 work is q6_KAVX2's.

// q6kx8sll: VPSLLVW counts moving bit pairs 0–1 (lower half) and 2–3
// (upper half) to bits 4–5; q6kx8srl: VPSRLVW counts for pairs 4–5 and 6–7.
DATA q6kx8sll<>+0x00(SB)/8, $0x0004000400040004
DATA q6kx8sll<>+0x08(SB)/8, $0x0004000400040004
DATA q6kx8sll<>+0x10(SB)/8, $0x0004000400040004
DATA q6kx8sll<>+0x18(SB)/8, $0x0004000400040004
DATA q6kx8sll<>+0x20(SB)/8, $0x0002000200020002
DATA q6kx8sll<>+0x28(SB)/8, $0x0002000200020002
DATA q6kx8sll<>+0x30(SB)/8, $0x0002000200020002
DATA q6kx8sll<>+0x38(SB)/8, $0x0002000200020002
GLOBL q6kx8sll<>(SB), RODATA|NOPTR, $64

DATA q6kx8srl<>+0x00(SB)/8, $0
DATA q6kx8srl<>+0x08(SB)/8, $0
DATA q6kx8srl<>+0x10(SB)/8, $0
DATA q6kx8srl<>+0x18(SB)/8, $0
DATA q6kx8srl<>+0x20(SB)/8, $0x0002000200020002
DATA q6kx8srl<>+0x28(SB)/8, $0x0002000200020002
DATA q6kx8srl<>+0x30(SB)/8, $0x0002000200020002
DATA q6kx8srl<>+0x38(SB)/8, $0x0002000200020002
GLOBL q6kx8srl<>(SB), RODATA|NOPTR, $64

// q6kx8perm: VPERMW indexes of the scales of chunk c, at 64·c: scales
// 4c…4c+3, each over eight words.
#define PERM6(o, a, b, c, d) \
	DATA q6kx8perm<>+(o+0x00)(SB)/8, $a; \
	DATA q6kx8perm<>+(o+0x08)(SB)/8, $a; \
	DATA q6kx8perm<>+(o+0x10)(SB)/8, $b; \
	DATA q6kx8perm<>+(o+0x18)(SB)/8, $b; \
	DATA q6kx8perm<>+(o+0x20)(SB)/8, $c; \
	DATA q6kx8perm<>+(o+0x28)(SB)/8, $c; \
	DATA q6kx8perm<>+(o+0x30)(SB)/8, $d; \
	DATA q6kx8perm<>+(o+0x38)(SB)/8, $d

PERM6(0x00, 0x0000000000000000, 0x0001000100010001, 0x0002000200020002, 0x0003000300030003)
PERM6(0x40, 0x0004000400040004, 0x0005000500050005, 0x0006000600060006, 0x0007000700070007)
PERM6(0x80, 0x0008000800080008, 0x0009000900090009, 0x000a000a000a000a, 0x000b000b000b000b)
PERM6(0xc0, 0x000c000c000c000c, 0x000d000d000d000d, 0x000e000e000e000e, 0x000f000f000f000f)
GLOBL q6kx8perm<>(SB), RODATA|NOPTR, $256

// Q6KX8EVEN and Q6KX8ODD build in Z10 the chunk of the low (high) nibbles
// of the 64 bytes at ql(SI) with the bit pairs 0–1, 2–3 (4–5, 6–7) of the
// 32 bytes at qh(SI); Z9 holds 0x30 in every byte.
#define Q6KX8EVEN(ql, qh) \
	VPANDD          ql(SI), Z8, Z10;   \
	VBROADCASTI64X4 qh(SI), Z5;        \
	VPSLLVW         Z15, Z5, Z5;       \
	VPTERNLOGD      $0xf8, Z9, Z5, Z10

#define Q6KX8ODD(ql, qh) \
	VMOVDQU64       ql(SI), Z10;       \
	VPSRLW          $4, Z10, Z10;      \
	VPANDD          Z8, Z10, Z10;      \
	VBROADCASTI64X4 qh(SI), Z5;        \
	VPSRLVW         Z7, Z5, Z5;        \
	VPTERNLOGD      $0xf8, Z9, Z5, Z10

// Q6KX8END finishes the block for the row whose Q8_K block is at p, int32
// lanes zi, float32 lanes yf, as q6_KAVX2: Y2 holds the sixteen scales as
// int16, Y3 y.d in every lane.
#define Q6KX8END(p, zi, yi, yf) \
	VEXTRACTI64X4 $1, zi, Y0;     \
	VPADDD        Y0, yi, yi;     \
	VPMADDWD      260 p, Y2, Y1;  \
	VPSLLD        $5, Y1, Y1;     \
	VPSUBD        Y1, yi, yi;     \
	VCVTDQ2PS     yi, yi;         \
	VMULPS.BCST   p, Y3, Y1;      \
	VFMADD231PS   yi, Y1, yf;     \
	VPXORD        zi, zi, zi

// func q6_Kx8AVX512(w, x *byte, stride, nblocks int, acc *[8][8]float32)
TEXT ·q6_Kx8AVX512(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ stride+16(FP), R11
	MOVQ nblocks+24(FP), CX
	LEAQ (R11)(R11*2), R13
	LEAQ (DI)(R13*1), R12
	MOVL $0x0f0f0f0f, AX
	VPBROADCASTD AX, Z8
	MOVL $0x30303030, AX
	VPBROADCASTD AX, Z9
	VMOVDQU64 q6kx8sll<>(SB), Z15
	VMOVDQU64 q6kx8srl<>(SB), Z7
	VPXORD Z24, Z24, Z24
	VPXORD Z25, Z25, Z25
	VPXORD Z26, Z26, Z26
	VPXORD Z27, Z27, Z27
	VPXORD Z28, Z28, Z28
	VPXORD Z29, Z29, Z29
	VPXORD Z30, Z30, Z30
	VPXORD Z31, Z31, Z31
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23

q6kx8loop:
	VPMOVSXBW    192(SI), Y2
	VMOVDQU64    q6kx8perm<>+0x00(SB), Z0
	VPERMW       Z2, Z0, Z12
	VMOVDQU64    q6kx8perm<>+0x40(SB), Z0
	VPERMW       Z2, Z0, Z13
	VMOVDQU64    q6kx8perm<>+0x80(SB), Z0
	VPERMW       Z2, Z0, Z14
	VMOVDQU64    q6kx8perm<>+0xc0(SB), Z0
	VPERMW       Z2, Z0, Z6
	Q6KX8EVEN(0, 128)
	Q4KX8ROWS(4, Z12)
	Q6KX8ODD(0, 128)
	Q4KX8ROWS(68, Z13)
	Q6KX8EVEN(64, 160)
	Q4KX8ROWS(132, Z14)
	Q6KX8ODD(64, 160)
	Q4KX8ROWS(196, Z6)

	MOVWLZX      208(SI), AX
	VMOVD        AX, X3
	VCVTPH2PS    X3, X3
	VBROADCASTSS X3, Y3
	Q6KX8END((DI), Z24, Y24, Y16)
	Q6KX8END((DI)(R11*1), Z25, Y25, Y17)
	Q6KX8END((DI)(R11*2), Z26, Y26, Y18)
	Q6KX8END((R12), Z27, Y27, Y19)
	Q6KX8END((DI)(R11*4), Z28, Y28, Y20)
	Q6KX8END((R12)(R11*2), Z29, Y29, Y21)
	Q6KX8END((R12)(R13*1), Z30, Y30, Y22)
	Q6KX8END((R12)(R11*4), Z31, Y31, Y23)

	ADDQ $210, SI
	ADDQ $292, DI
	ADDQ $292, R12
	DECQ CX
	JNZ  q6kx8loop

	MOVQ    acc+32(FP), AX
	VMOVUPS Y16, 0(AX)
	VMOVUPS Y17, 32(AX)
	VMOVUPS Y18, 64(AX)
	VMOVUPS Y19, 96(AX)
	VMOVUPS Y20, 128(AX)
	VMOVUPS Y21, 160(AX)
	VMOVUPS Y22, 192(AX)
	VMOVUPS Y23, 224(AX)
	VZEROUPPER
	RET

// Eight-row Q5_K: the Q4_K chunks with the fifth bits, bits 2j and 2j+1
// of the 32 bytes at 16(SI) for chunk j, broadcast to both halves, moved
// to bit 4 by a variable shift and merged by VPTERNLOGD; the minimums are
// q5_KAVX2's one float32 sum per row.

// q5kx8cnt: per chunk j at 64·j, the word shift counts moving bits 2j
// (lower half) and 2j+1 (upper half) to bit 4: left for chunks 0 and 1,
// right for 2 and 3.
#define CNT5(o, lo, hi) \
	DATA q5kx8cnt<>+(o+0x00)(SB)/8, $lo; \
	DATA q5kx8cnt<>+(o+0x08)(SB)/8, $lo; \
	DATA q5kx8cnt<>+(o+0x10)(SB)/8, $lo; \
	DATA q5kx8cnt<>+(o+0x18)(SB)/8, $lo; \
	DATA q5kx8cnt<>+(o+0x20)(SB)/8, $hi; \
	DATA q5kx8cnt<>+(o+0x28)(SB)/8, $hi; \
	DATA q5kx8cnt<>+(o+0x30)(SB)/8, $hi; \
	DATA q5kx8cnt<>+(o+0x38)(SB)/8, $hi

CNT5(0x00, 0x0004000400040004, 0x0003000300030003)
CNT5(0x40, 0x0002000200020002, 0x0001000100010001)
CNT5(0x80, 0x0000000000000000, 0x0001000100010001)
CNT5(0xc0, 0x0002000200020002, 0x0003000300030003)
GLOBL q5kx8cnt<>(SB), RODATA|NOPTR, $256

// Q5KX8CHUNK builds chunk j (nibbles at (48+o)(SI)) in Z10 and multiplies
// it with every row; shift is VPSLLVW or VPSRLVW. Z7 holds 0x10 in every
// byte.
#define Q5KX8CHUNK(o, shift, s) \
	VBROADCASTI64X4 (48+o)(SI), Z10;          \
	VPSRLVW         Z15, Z10, Z10;            \
	VPANDD          Z8, Z10, Z10;             \
	VBROADCASTI64X4 16(SI), Z5;               \
	shift           q5kx8cnt<>+(2*o)(SB), Z5, Z5; \
	VPTERNLOGD      $0xf8, Z7, Z5, Z10;       \
	Q4KX8ROWS(4+2*o, s)

// Q5KX8END finishes the block for the row whose Q8_K block is at p, as
// Q4KX8END with q5_KAVX2's minimums: one float32 at (off+32)(AX).
#define Q5KX8END(p, zi, yi, yf, off) \
	VEXTRACTI64X4 $1, zi, Y0;     \
	VPADDD        Y0, yi, yi;     \
	VCVTDQ2PS     yi, yi;         \
	VMULPS.BCST   p, Y3, Y1;      \
	VFMADD231PS   yi, Y1, yf;     \
	VPXORD        zi, zi, zi;     \
	VMOVDQU       260 p, X5;      \
	VPHADDW       276 p, X5, X5;  \
	VPMADDWD      X9, X5, X5;     \
	VPHADDD       X5, X5, X5;     \
	VPHADDD       X5, X5, X5;     \
	VCVTDQ2PS     X5, X5;         \
	VMULPS.BCST   p, X2, X0;      \
	VMOVSS        (off+32)(AX), X1; \
	VFNMADD231SS  X5, X0, X1;     \
	VMOVSS        X1, (off+32)(AX)

// func q5_Kx8AVX512(w, x *byte, stride, nblocks int, acc *[8][9]float32)
TEXT ·q5_Kx8AVX512(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ stride+16(FP), R11
	MOVQ nblocks+24(FP), CX
	LEAQ (R11)(R11*2), R13
	LEAQ (DI)(R13*1), R12
	MOVL $0x0f0f0f0f, AX
	VPBROADCASTD AX, Z8
	MOVL $0x10101010, AX
	VPBROADCASTD AX, Z7
	VMOVDQU64 q4kx8shift<>(SB), Z15
	VPXORD Z24, Z24, Z24
	VPXORD Z25, Z25, Z25
	VPXORD Z26, Z26, Z26
	VPXORD Z27, Z27, Z27
	VPXORD Z28, Z28, Z28
	VPXORD Z29, Z29, Z29
	VPXORD Z30, Z30, Z30
	VPXORD Z31, Z31, Z31
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23

q5kx8loop:
	KSCALES
	VEXTRACTI128 $1, Y4, X9
	VMOVDQU64    q4kx8perm<>+0x00(SB), Z0
	VPERMW       Z4, Z0, Z12
	VMOVDQU64    q4kx8perm<>+0x40(SB), Z0
	VPERMW       Z4, Z0, Z13
	VMOVDQU64    q4kx8perm<>+0x80(SB), Z0
	VPERMW       Z4, Z0, Z14
	VMOVDQU64    q4kx8perm<>+0xc0(SB), Z0
	VPERMW       Z4, Z0, Z6
	Q5KX8CHUNK(0, VPSLLVW, Z12)
	Q5KX8CHUNK(32, VPSLLVW, Z13)
	Q5KX8CHUNK(64, VPSRLVW, Z14)
	Q5KX8CHUNK(96, VPSRLVW, Z6)

	VCVTPH2PS    (SI), X3
	VMOVSHDUP    X3, X2
	VBROADCASTSS X2, X2
	VBROADCASTSS X3, Y3
	MOVQ         acc+32(FP), AX
	Q5KX8END((DI), Z24, Y24, Y16, 0)
	Q5KX8END((DI)(R11*1), Z25, Y25, Y17, 36)
	Q5KX8END((DI)(R11*2), Z26, Y26, Y18, 72)
	Q5KX8END((R12), Z27, Y27, Y19, 108)
	Q5KX8END((DI)(R11*4), Z28, Y28, Y20, 144)
	Q5KX8END((R12)(R11*2), Z29, Y29, Y21, 180)
	Q5KX8END((R12)(R13*1), Z30, Y30, Y22, 216)
	Q5KX8END((R12)(R11*4), Z31, Y31, Y23, 252)

	ADDQ $176, SI
	ADDQ $292, DI
	ADDQ $292, R12
	DECQ CX
	JNZ  q5kx8loop

	VMOVUPS Y16, 0(AX)
	VMOVUPS Y17, 36(AX)
	VMOVUPS Y18, 72(AX)
	VMOVUPS Y19, 108(AX)
	VMOVUPS Y20, 144(AX)
	VMOVUPS Y21, 180(AX)
	VMOVUPS Y22, 216(AX)
	VMOVUPS Y23, 252(AX)
	VZEROUPPER
	RET
