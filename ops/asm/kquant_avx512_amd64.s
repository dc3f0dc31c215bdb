//go:build !purego

#include "textflag.h"
#include "kquant_amd64.h"
#include "kquant_avx512_amd64.h"

// Eight-row Q4_K dot products with AVX-512 (F, BW, VL) and VNNI: one
// weight row against eight Q8_K activation rows stride bytes apart, for
// prefill. Each 64-value chunk of a weight super-block is decoded once
// into a 512-bit register (low nibbles in the lower half, high nibbles in
// the upper half: VPSRLVW shifts only the upper half) and multiplied with
// each row's 64 activations by VPMADDUBSW; VPMADDWD (first chunk) or
// VPDPWSSD (the others) multiplies the int16 pair sums by the two 32-value
// groups' scales and sets or adds them to the row's int32 lanes, so no
// lanes need zeroing between blocks. Lane l of the lower half holds what
// lane l of q4_KAVX2's Y10 holds for the even groups, the upper half for
// the odd ones; adding the halves gives its lanes exactly (int32 sums
// wrap, so the order of the additions does not matter).
//
// The float32 work is done for two rows in one register (row 2i in lanes
// 0–7, row 2i+1 in lanes 8–15) and the minimums for four (row 4i+k in
// lanes 4k…4k+3); each lane gets q4_KAVX2's operations on the same
// operands (d·y.d times the converted sums added by one FMA; dmin·y.d
// times the converted mins·bsums subtracted by one FNMADD), so each result
// equals the single-row kernel's bit for bit. The int16 pair sums of the
// bsums wrap as VPHADDW's do: VPMADDWD by ones, then VPMOVDW truncates.
//
// Registers: SI weights; DI, R12 = DI+3·stride, R11 = stride, R13 =
// 3·stride address the eight rows; CX the super-blocks left; Z24–Z31 the
// rows' int32 lanes; Z16–Z19 the float32 lanes of rows 0–1, 2–3, 4–5,
// 6–7; Z20, Z21 the minimum lanes of rows 0–3, 4–7; Z12, Z13, Z14, Z6 the
// scales of the four chunks; Z9 the block's eight mins four times; Z3 x.d
// and Z2 x.dmin in every lane; Z8 0x0f in every byte; Z15 the shift
// counts; Z7 1 in every int16; K1 lanes 8–15, K2 4–7, K3 8–11, K4 12–15.

// Q4KX8ROWS multiplies the chunk in Z10 (scales in s) with the 64
// activations at offset a of each row's Q8_K block; op is VPMADDWD to set
// the rows' int32 lanes, VPDPWSSD to add to them.
#define Q4KX8ROWS(a, s, op) \
	VPMADDUBSW a(DI), Z10, Z11;           \
	op         s, Z11, Z24;               \
	VPMADDUBSW a(DI)(R11*1), Z10, Z0;     \
	op         s, Z0, Z25;                \
	VPMADDUBSW a(DI)(R11*2), Z10, Z1;     \
	op         s, Z1, Z26;                \
	VPMADDUBSW a(R12), Z10, Z11;          \
	op         s, Z11, Z27;               \
	VPMADDUBSW a(DI)(R11*4), Z10, Z0;     \
	op         s, Z0, Z28;                \
	VPMADDUBSW a(R12)(R11*2), Z10, Z1;    \
	op         s, Z1, Z29;                \
	VPMADDUBSW a(R12)(R13*1), Z10, Z11;   \
	op         s, Z11, Z30;               \
	VPMADDUBSW a(R12)(R11*4), Z10, Z0;    \
	op         s, Z0, Z31

// Q4KX8CHUNK decodes the 32 nibble bytes at (16+o)(SI) into Z10 and
// multiplies them with every row.
#define Q4KX8CHUNK(o, s, op) \
	VBROADCASTI64X4 (16+o)(SI), Z10; \
	VPSRLVW         Z15, Z10, Z10;   \
	VPANDD          Z8, Z10, Z10;    \
	Q4KX8ROWS(4+2*o, s, op)

// Q4KX8MINS subtracts y.d·dmin·(mins·bsums) of rows a, b, c, d from the
// lanes 0–3, 4–7, 8–11, 12–15 of zm. Z5, Z22 and Z23 are clobbered.
#define Q4KX8MINS(pa, pb, pc, pd, zm) \
	KX8MINSUMS(pa, pb, pc, pd, Z7); \
	KX8MINFMA(pa, pb, pc, pd, zm)

// KX8ZERO zeroes the float32 lanes Z16–Z21.
#define KX8ZERO \
	VPXORD Z16, Z16, Z16; \
	VPXORD Z17, Z17, Z17; \
	VPXORD Z18, Z18, Z18; \
	VPXORD Z19, Z19, Z19; \
	VPXORD Z20, Z20, Z20; \
	VPXORD Z21, Z21, Z21

// KX8OUT stores lanes 0, 4, 8, 12 of Z22 (rows 0–3) and of Z24 (rows 4–7)
// to the eight float32 at AX; Z26 is clobbered.
#define KX8OUT \
	VMOVDQU32 kx8gather<>(SB), Z26; \
	VPERMT2PS Z24, Z26, Z22;        \
	VMOVUPS   Y22, (AX)

// KX8HSUM8 sets lane 4k of Z22 to hsum8 of row k's eight float32 lanes
// (Z16, Z17) and lane 4k of Z24 to that of row 4+k's (Z18, Z19): as
// ggml's x86 code reduces a __m256, (r0+r2)+(r1+r3) with r_i =
// a_i+a_(i+4). Z23 and Z25 are clobbered.
#define KX8HSUM8 \
	KX8HALF4(Z16, Z17, Z22, Z23); \
	KX8HSUM4(Z22, Z23);           \
	KX8HALF4(Z18, Z19, Z24, Z25); \
	KX8HSUM4(Z24, Z25)

// func q4_Kx8AVX512(w, x *byte, stride, nblocks int, out *[8]float32)
TEXT ·q4_Kx8AVX512(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ stride+16(FP), R11
	MOVQ nblocks+24(FP), CX
	LEAQ (R11)(R11*2), R13
	LEAQ (DI)(R13*1), R12
	MOVL $0x0f0f0f0f, AX
	VPBROADCASTD AX, Z8
	MOVL $0x00010001, AX
	VPBROADCASTD AX, Z7
	VMOVDQU64 q4kx8shift<>(SB), Z15
	KX8MASKS
	KX8ZERO

q4kx8loop:
	KSCALES
	VSHUFI64X2   $0x55, Z4, Z4, Z9
	VMOVDQU64    q4kx8perm<>+0x00(SB), Z0
	VPERMW       Z4, Z0, Z12
	VMOVDQU64    q4kx8perm<>+0x40(SB), Z0
	VPERMW       Z4, Z0, Z13
	VMOVDQU64    q4kx8perm<>+0x80(SB), Z0
	VPERMW       Z4, Z0, Z14
	VMOVDQU64    q4kx8perm<>+0xc0(SB), Z0
	VPERMW       Z4, Z0, Z6
	Q4KX8CHUNK(0, Z12, VPMADDWD)
	Q4KX8CHUNK(32, Z13, VPDPWSSD)
	Q4KX8CHUNK(64, Z14, VPDPWSSD)
	Q4KX8CHUNK(96, Z6, VPDPWSSD)

	VCVTPH2PS    (SI), X3
	VMOVSHDUP    X3, X2
	VBROADCASTSS X2, Z2
	VBROADCASTSS X3, Z3
	KX8SUMS((DI), (DI)(R11*1), Z24, Z25, Z16)
	KX8SUMS((DI)(R11*2), (R12), Z26, Z27, Z17)
	KX8SUMS((DI)(R11*4), (R12)(R11*2), Z28, Z29, Z18)
	KX8SUMS((R12)(R13*1), (R12)(R11*4), Z30, Z31, Z19)
	Q4KX8MINS((DI), (DI)(R11*1), (DI)(R11*2), (R12), Z20)
	Q4KX8MINS((DI)(R11*4), (R12)(R11*2), (R12)(R13*1), (R12)(R11*4), Z21)

	ADDQ $144, SI
	ADDQ $292, DI
	ADDQ $292, R12
	DECQ CX
	JNZ  q4kx8loop

	KX8HSUM8
	KX8HSUM4(Z20, Z23)
	KX8HSUM4(Z21, Z25)
	VADDPS Z20, Z22, Z22
	VADDPS Z21, Z24, Z24
	MOVQ   out+32(FP), AX
	KX8OUT
	VZEROUPPER
	RET

// Eight-row Q6_K: each 64-value chunk (two 32-value groups, four 16-value
// scales) is built in Z10 from 64 bytes of low bits (the nibbles of one
// half block, shifted for the odd chunks) and 32 bytes of high bit pairs
// (broadcast to both halves and shifted to bits 4 and 5 by VPSLLVW or
// VPSRLVW), merged by VPTERNLOGD; each row then takes VPMADDUBSW and
// VPDPWSSD as for Q4_K. The block's lanes, 32·(scales·bsums) subtracted,
// are q6_KAVX2's Y10 exactly, and its float32 work is q6_KAVX2's.

// func q6_Kx8AVX512(w, x *byte, stride, nblocks int, out *[8]float32)
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
	KX8MASKS
	KX8ZERO

q6kx8loop:
	VPMOVSXBW    192(SI), Y2
	VSHUFI64X2   $0x44, Z2, Z2, Z2
	VMOVDQU64    q6kx8perm<>+0x00(SB), Z0
	VPERMW       Z2, Z0, Z12
	VMOVDQU64    q6kx8perm<>+0x40(SB), Z0
	VPERMW       Z2, Z0, Z13
	VMOVDQU64    q6kx8perm<>+0x80(SB), Z0
	VPERMW       Z2, Z0, Z14
	VMOVDQU64    q6kx8perm<>+0xc0(SB), Z0
	VPERMW       Z2, Z0, Z6
	Q6KX8EVEN(0, 128)
	Q4KX8ROWS(4, Z12, VPMADDWD)
	Q6KX8ODD(0, 128)
	Q4KX8ROWS(68, Z13, VPDPWSSD)
	Q6KX8EVEN(64, 160)
	Q4KX8ROWS(132, Z14, VPDPWSSD)
	Q6KX8ODD(64, 160)
	Q4KX8ROWS(196, Z6, VPDPWSSD)

	MOVWLZX      208(SI), AX
	VMOVD        AX, X3
	VCVTPH2PS    X3, X3
	VBROADCASTSS X3, Z3
	Q6KX8PAIR((DI), (DI)(R11*1), Z24, Z25, Z16)
	Q6KX8PAIR((DI)(R11*2), (R12), Z26, Z27, Z17)
	Q6KX8PAIR((DI)(R11*4), (R12)(R11*2), Z28, Z29, Z18)
	Q6KX8PAIR((R12)(R13*1), (R12)(R11*4), Z30, Z31, Z19)

	ADDQ $210, SI
	ADDQ $292, DI
	ADDQ $292, R12
	DECQ CX
	JNZ  q6kx8loop

	KX8HSUM8
	MOVQ out+32(FP), AX
	KX8OUT
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
#define Q5KX8CHUNK(o, shift, s, op) \
	VBROADCASTI64X4 (48+o)(SI), Z10;          \
	VPSRLVW         Z15, Z10, Z10;            \
	VPANDD          Z8, Z10, Z10;             \
	VBROADCASTI64X4 16(SI), Z5;               \
	shift           q5kx8cnt<>+(2*o)(SB), Z5, Z5; \
	VPTERNLOGD      $0xf8, Z7, Z5, Z10;       \
	Q4KX8ROWS(4+2*o, s, op)

// kx8ones: 1 in every int16.
DATA kx8ones<>+0x00(SB)/8, $0x0001000100010001
DATA kx8ones<>+0x08(SB)/8, $0x0001000100010001
DATA kx8ones<>+0x10(SB)/8, $0x0001000100010001
DATA kx8ones<>+0x18(SB)/8, $0x0001000100010001
DATA kx8ones<>+0x20(SB)/8, $0x0001000100010001
DATA kx8ones<>+0x28(SB)/8, $0x0001000100010001
DATA kx8ones<>+0x30(SB)/8, $0x0001000100010001
DATA kx8ones<>+0x38(SB)/8, $0x0001000100010001
GLOBL kx8ones<>(SB), RODATA|NOPTR, $64

// Q5KX8MINS subtracts y.d·dmin·(mins·bsums) of rows a, b, c, d from every
// lane of 0–3, 4–7, 8–11, 12–15 of zm: q5_KAVX2's one sum a row, its four
// int32 added within each 128-bit lane (int32 sums wrap, so the order of
// the additions does not matter). Z5, Z22 and Z23 are clobbered.
#define Q5KX8MINS(pa, pb, pc, pd, zm) \
	KX8MINSUMS(pa, pb, pc, pd, kx8ones<>(SB)); \
	VPSHUFD $0x4e, Z22, Z23;                   \
	VPADDD  Z23, Z22, Z22;                     \
	VPSHUFD $0xb1, Z22, Z23;                   \
	VPADDD  Z23, Z22, Z22;                     \
	KX8MINFMA(pa, pb, pc, pd, zm)

// func q5_Kx8AVX512(w, x *byte, stride, nblocks int, out *[8]float32)
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
	KX8MASKS
	KX8ZERO

q5kx8loop:
	KSCALES
	VSHUFI64X2   $0x55, Z4, Z4, Z9
	VMOVDQU64    q4kx8perm<>+0x00(SB), Z0
	VPERMW       Z4, Z0, Z12
	VMOVDQU64    q4kx8perm<>+0x40(SB), Z0
	VPERMW       Z4, Z0, Z13
	VMOVDQU64    q4kx8perm<>+0x80(SB), Z0
	VPERMW       Z4, Z0, Z14
	VMOVDQU64    q4kx8perm<>+0xc0(SB), Z0
	VPERMW       Z4, Z0, Z6
	Q5KX8CHUNK(0, VPSLLVW, Z12, VPMADDWD)
	Q5KX8CHUNK(32, VPSLLVW, Z13, VPDPWSSD)
	Q5KX8CHUNK(64, VPSRLVW, Z14, VPDPWSSD)
	Q5KX8CHUNK(96, VPSRLVW, Z6, VPDPWSSD)

	VCVTPH2PS    (SI), X3
	VMOVSHDUP    X3, X2
	VBROADCASTSS X2, Z2
	VBROADCASTSS X3, Z3
	KX8SUMS((DI), (DI)(R11*1), Z24, Z25, Z16)
	KX8SUMS((DI)(R11*2), (R12), Z26, Z27, Z17)
	KX8SUMS((DI)(R11*4), (R12)(R11*2), Z28, Z29, Z18)
	KX8SUMS((R12)(R13*1), (R12)(R11*4), Z30, Z31, Z19)
	Q5KX8MINS((DI), (DI)(R11*1), (DI)(R11*2), (R12), Z20)
	Q5KX8MINS((DI)(R11*4), (R12)(R11*2), (R12)(R13*1), (R12)(R11*4), Z21)

	ADDQ $176, SI
	ADDQ $292, DI
	ADDQ $292, R12
	DECQ CX
	JNZ  q5kx8loop

	KX8HSUM8
	VADDPS Z20, Z22, Z22
	VADDPS Z21, Z24, Z24
	MOVQ   out+32(FP), AX
	KX8OUT
	VZEROUPPER
	RET
