//go:build !purego

#include "textflag.h"
#include "kquant_amd64.h"
#include "kquant_avx512_amd64.h"

// Four- and two-row Q4_K, Q6_K and Q5_K dot products with AVX-512 (F, BW,
// VL) and VNNI: one weight row against four or two Q8_K activation rows at
// unrelated addresses, for batched decode (2…4 sequences) and the
// remainders of prefill. Each 64-value chunk of a weight super-block is
// decoded once into a 512-bit register exactly as q4_Kx8AVX512,
// q6_Kx8AVX512 and q5_Kx8AVX512 decode it, and multiplied with each row's
// 64 activations by VPMADDUBSW and VPMADDWD or VPDPWSSD; the float32 work
// of each lane is the eight-row forms' (and so the single-row AVX2
// kernels'): the same operations on the same operands, so each result
// equals dotQ4_KAVX2's, dotQ6_KAVX2's or dotQ5_KAVX2's bit for bit.
//
// Registers: SI weights; DI, R11, R12, R13 the rows (R12, R13 four rows
// only); CX the super-blocks left; Z24–Z27 the rows' int32 lanes; Z16
// the float32 lanes of rows 0–1 (row 0 in lanes 0–7, row 1 in 8–15), Z17
// those of rows 2–3; Z20 the minimum lanes (row k in 4k…4k+3); Z18, Z19,
// Z21, Z28 the VPERMW indexes of the four chunks' scales; Z12, Z13, Z14,
// Z6 the block's scales; Z3 its d and Z2 its dmin in every lane (Q6_K: Z2
// its sixteen scales as int16 in both halves); Z9 the eight mins four
// times (Q6_K: 0x30 in every byte); Z8 0x0f in every byte; Z15 the
// nibble shift counts; Z7 1 in every int16 (Q5_K: 0x10 in every byte,
// Q6_K: the right shifts of the high bit pairs); K1 lanes 8–15, K2 4–7,
// K3 8–11, K4 12–15. KSCALES clobbers AX, BX, DX, R8, R9, R10.

// The float32 steps of the eight-row forms (kquant_avx512_amd64.s keeps
// its own copies of these; the preprocessor has no cross-file macros but
// those of the shared header).

// KX4ROWS multiplies the chunk in Z10 (scales in s) with the 64
// activations at offset a of each of the four rows' Q8_K blocks; op is
// VPMADDWD to set the rows' int32 lanes, VPDPWSSD to add to them.
#define KX4ROWS(a, s, op) \
	VPMADDUBSW a(DI), Z10, Z11;  \
	op         s, Z11, Z24;      \
	VPMADDUBSW a(R11), Z10, Z0;  \
	op         s, Z0, Z25;       \
	VPMADDUBSW a(R12), Z10, Z1;  \
	op         s, Z1, Z26;       \
	VPMADDUBSW a(R13), Z10, Z11; \
	op         s, Z11, Z27

// KX2ROWS is KX4ROWS for the two rows at DI and R11.
#define KX2ROWS(a, s, op) \
	VPMADDUBSW a(DI), Z10, Z11; \
	op         s, Z11, Z24;     \
	VPMADDUBSW a(R11), Z10, Z0; \
	op         s, Z0, Z25

// Q4KNIBBLES decodes the 32 nibble bytes at o(SI) into Z10 (low nibbles in
// the lower half, high nibbles in the upper half).
#define Q4KNIBBLES(o) \
	VBROADCASTI64X4 (o)(SI), Z10; \
	VPSRLVW         Z15, Z10, Z10; \
	VPANDD          Z8, Z10, Z10

// Q5KCHUNK builds chunk j of a Q5_K block (nibbles at (48+o)(SI), fifth
// bits 2j and 2j+1 of the 32 bytes at 16(SI)) in Z10 as q5_Kx8AVX512
// does; shift is VPSLLVW or VPSRLVW. Z7 holds 0x10 in every byte; Z5 is
// clobbered.
#define Q5KCHUNK(o, shift) \
	Q4KNIBBLES(48+o);                         \
	VBROADCASTI64X4 16(SI), Z5;               \
	shift           q5kx4cnt<>+(2*o)(SB), Z5, Z5; \
	VPTERNLOGD      $0xf8, Z7, Z5, Z10

// KX4PERMS loads the VPERMW indexes of table p into Z18, Z19, Z21, Z28.
#define KX4PERMS(p) \
	VMOVDQU64 p+0x00(SB), Z18; \
	VMOVDQU64 p+0x40(SB), Z19; \
	VMOVDQU64 p+0x80(SB), Z21; \
	VMOVDQU64 p+0xc0(SB), Z28

// KX4SCALES spreads the int16 scales in z over the four chunks' registers.
#define KX4SCALES(z) \
	VPERMW z, Z18, Z12; \
	VPERMW z, Z19, Z13; \
	VPERMW z, Z21, Z14; \
	VPERMW z, Z28, Z6

// KX4MSCALES is KSCALES with the block's scales spread over the chunks'
// registers and its eight mins four times in Z9.
#define KX4MSCALES \
	KSCALES;                       \
	VSHUFI64X2 $0x55, Z4, Z4, Z9;  \
	KX4SCALES(Z4)

// KX4DMIN broadcasts the block's d to Z3 and dmin to Z2.
#define KX4DMIN \
	VCVTPH2PS    (SI), X3; \
	VMOVSHDUP    X3, X2;   \
	VBROADCASTSS X2, Z2;   \
	VBROADCASTSS X3, Z3

// KX2MINSUMS sets the lanes 0–3 and 4–7 of Y22 to the int32 mins·bsums of
// the rows at DI and R11, four lanes a row, as KX8MINSUMS makes them
// (ones: 1 in every int16). Y23 is left alone.
#define KX2MINSUMS(ones) \
	VMOVDQU16    260(DI), Y22;          \
	VINSERTI64X4 $1, 260(R11), Z22, Z22; \
	VPMADDWD     ones, Z22, Z22;        \
	VPMOVDW      Z22, Y22;              \
	VPMADDWD     Y9, Y22, Y22

// KX2MINFMA converts Y22 and subtracts it times Z2 times y.d of the rows
// at DI (lanes 0–3) and R11 (lanes 4–7) from Y20 in one FNMADD; Y5 is
// clobbered.
#define KX2MINFMA \
	VCVTDQ2PS    Y22, Y22;          \
	VMULPS.BCST  (DI), Y2, Y5;      \
	VMULPS.BCST  (R11), Y2, K2, Y5; \
	VFNMADD231PS Y22, Y5, Y20

// KX4OUT stores lanes 0, 4, 8, 12 of Z22 to the four float32 at out+48(FP).
#define KX4OUT \
	VMOVDQU32 kx8gather<>(SB), Z23; \
	VPERMPS   Z22, Z23, Z22;        \
	MOVQ      out+48(FP), AX;       \
	VMOVUPS   X22, (AX)

// KX2OUT stores lanes 0 and 4 of Z22 to the two float32 at out+32(FP).
#define KX2OUT \
	VMOVDQU32 kx8gather<>(SB), Z23; \
	VPERMPS   Z22, Z23, Z22;        \
	MOVQ      out+32(FP), AX;       \
	VMOVQ     X22, (AX)

// KX4ARGS loads the arguments of a four-row routine.
#define KX4ARGS \
	MOVQ w+0(FP), SI;        \
	MOVQ x0+8(FP), DI;       \
	MOVQ x1+16(FP), R11;     \
	MOVQ x2+24(FP), R12;     \
	MOVQ x3+32(FP), R13;     \
	MOVQ nblocks+40(FP), CX

// KX2ARGS loads the arguments of a two-row routine.
#define KX2ARGS \
	MOVQ w+0(FP), SI;        \
	MOVQ x0+8(FP), DI;       \
	MOVQ x1+16(FP), R11;     \
	MOVQ nblocks+24(FP), CX

// KX4NEXT moves the four rows to their next Q8_K blocks.
#define KX4NEXT \
	ADDQ $292, DI;  \
	ADDQ $292, R11; \
	ADDQ $292, R12; \
	ADDQ $292, R13

// func q4_Kx4AVX512(w, x0, x1, x2, x3 *byte, nblocks int, out *[4]float32)
TEXT ·q4_Kx4AVX512(SB), NOSPLIT, $0-56
	KX4ARGS
	MOVL $0x0f0f0f0f, AX
	VPBROADCASTD AX, Z8
	MOVL $0x00010001, AX
	VPBROADCASTD AX, Z7
	VMOVDQU64 q4kx8shift<>(SB), Z15
	KX4PERMS(q4kx8perm<>)
	KX8MASKS
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z20, Z20, Z20

q4kx4loop:
	KX4MSCALES
	Q4KNIBBLES(16)
	KX4ROWS(4, Z12, VPMADDWD)
	Q4KNIBBLES(48)
	KX4ROWS(68, Z13, VPDPWSSD)
	Q4KNIBBLES(80)
	KX4ROWS(132, Z14, VPDPWSSD)
	Q4KNIBBLES(112)
	KX4ROWS(196, Z6, VPDPWSSD)

	KX4DMIN
	KX8SUMS((DI), (R11), Z24, Z25, Z16)
	KX8SUMS((R12), (R13), Z26, Z27, Z17)
	KX8MINSUMS((DI), (R11), (R12), (R13), Z7)
	KX8MINFMA((DI), (R11), (R12), (R13), Z20)

	ADDQ $144, SI
	KX4NEXT
	DECQ CX
	JNZ  q4kx4loop

	KX8HALF4(Z16, Z17, Z22, Z23)
	KX8HSUM4(Z22, Z23)
	KX8HSUM4(Z20, Z23)
	VADDPS Z20, Z22, Z22
	KX4OUT
	VZEROUPPER
	RET

// func q4_Kx2AVX512(w, x0, x1 *byte, nblocks int, out *[2]float32)
TEXT ·q4_Kx2AVX512(SB), NOSPLIT, $0-40
	KX2ARGS
	MOVL $0x0f0f0f0f, AX
	VPBROADCASTD AX, Z8
	MOVL $0x00010001, AX
	VPBROADCASTD AX, Z7
	VMOVDQU64 q4kx8shift<>(SB), Z15
	KX4PERMS(q4kx8perm<>)
	KX8MASKS
	VPXORD Z16, Z16, Z16
	VPXORD Z20, Z20, Z20

q4kx2loop:
	KX4MSCALES
	Q4KNIBBLES(16)
	KX2ROWS(4, Z12, VPMADDWD)
	Q4KNIBBLES(48)
	KX2ROWS(68, Z13, VPDPWSSD)
	Q4KNIBBLES(80)
	KX2ROWS(132, Z14, VPDPWSSD)
	Q4KNIBBLES(112)
	KX2ROWS(196, Z6, VPDPWSSD)

	KX4DMIN
	KX8SUMS((DI), (R11), Z24, Z25, Z16)
	KX2MINSUMS(Z7)
	KX2MINFMA

	ADDQ $144, SI
	ADDQ $292, DI
	ADDQ $292, R11
	DECQ CX
	JNZ  q4kx2loop

	KX8HALF4(Z16, Z16, Z22, Z23)
	KX8HSUM4(Z22, Z23)
	KX8HSUM4(Z20, Z23)
	VADDPS Z20, Z22, Z22
	KX2OUT
	VZEROUPPER
	RET

// Q6KCHUNKS builds the four chunks of the Q6_K block at SI in turn and
// multiplies each with the rows by rows (KX4ROWS or KX2ROWS).
#define Q6KCHUNKS(rows) \
	Q6KX8EVEN(0, 128);           \
	rows(4, Z12, VPMADDWD);      \
	Q6KX8ODD(0, 128);            \
	rows(68, Z13, VPDPWSSD);     \
	Q6KX8EVEN(64, 160);          \
	rows(132, Z14, VPDPWSSD);    \
	Q6KX8ODD(64, 160);           \
	rows(196, Z6, VPDPWSSD)

// Q6KSCALES sets Z2 to the block's sixteen scales as int16 in both halves
// and spreads them over the chunks' registers.
#define Q6KSCALES \
	VPMOVSXBW  192(SI), Y2;       \
	VSHUFI64X2 $0x44, Z2, Z2, Z2; \
	KX4SCALES(Z2)

// Q6KD broadcasts the block's d to Z3.
#define Q6KD \
	MOVWLZX      208(SI), AX; \
	VMOVD        AX, X3;      \
	VCVTPH2PS    X3, X3;      \
	VBROADCASTSS X3, Z3

// Q6KSETUP loads the constants of the Q6_K routines.
#define Q6KSETUP \
	MOVL $0x0f0f0f0f, AX;           \
	VPBROADCASTD AX, Z8;            \
	MOVL $0x30303030, AX;           \
	VPBROADCASTD AX, Z9;            \
	VMOVDQU64 q6kx8sll<>(SB), Z15;  \
	VMOVDQU64 q6kx8srl<>(SB), Z7;   \
	KX4PERMS(q6kx8perm<>);          \
	KX8MASKS

// func q6_Kx4AVX512(w, x0, x1, x2, x3 *byte, nblocks int, out *[4]float32)
TEXT ·q6_Kx4AVX512(SB), NOSPLIT, $0-56
	KX4ARGS
	Q6KSETUP
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17

q6kx4loop:
	Q6KSCALES
	Q6KCHUNKS(KX4ROWS)
	Q6KD
	Q6KX8PAIR((DI), (R11), Z24, Z25, Z16)
	Q6KX8PAIR((R12), (R13), Z26, Z27, Z17)

	ADDQ $210, SI
	KX4NEXT
	DECQ CX
	JNZ  q6kx4loop

	KX8HALF4(Z16, Z17, Z22, Z23)
	KX8HSUM4(Z22, Z23)
	KX4OUT
	VZEROUPPER
	RET

// func q6_Kx2AVX512(w, x0, x1 *byte, nblocks int, out *[2]float32)
TEXT ·q6_Kx2AVX512(SB), NOSPLIT, $0-40
	KX2ARGS
	Q6KSETUP
	VPXORD Z16, Z16, Z16

q6kx2loop:
	Q6KSCALES
	Q6KCHUNKS(KX2ROWS)
	Q6KD
	Q6KX8PAIR((DI), (R11), Z24, Z25, Z16)

	ADDQ $210, SI
	ADDQ $292, DI
	ADDQ $292, R11
	DECQ CX
	JNZ  q6kx2loop

	KX8HALF4(Z16, Z16, Z22, Z23)
	KX8HSUM4(Z22, Z23)
	KX2OUT
	VZEROUPPER
	RET

// q5kx4cnt: q5_Kx8AVX512's shift counts of the fifth bits (per chunk j at
// 64·j, moving bits 2j and 2j+1 to bit 4: left for chunks 0 and 1, right
// for 2 and 3).
#define CNT5(o, lo, hi) \
	DATA q5kx4cnt<>+(o+0x00)(SB)/8, $lo; \
	DATA q5kx4cnt<>+(o+0x08)(SB)/8, $lo; \
	DATA q5kx4cnt<>+(o+0x10)(SB)/8, $lo; \
	DATA q5kx4cnt<>+(o+0x18)(SB)/8, $lo; \
	DATA q5kx4cnt<>+(o+0x20)(SB)/8, $hi; \
	DATA q5kx4cnt<>+(o+0x28)(SB)/8, $hi; \
	DATA q5kx4cnt<>+(o+0x30)(SB)/8, $hi; \
	DATA q5kx4cnt<>+(o+0x38)(SB)/8, $hi

CNT5(0x00, 0x0004000400040004, 0x0003000300030003)
CNT5(0x40, 0x0002000200020002, 0x0001000100010001)
CNT5(0x80, 0x0000000000000000, 0x0001000100010001)
CNT5(0xc0, 0x0002000200020002, 0x0003000300030003)
GLOBL q5kx4cnt<>(SB), RODATA|NOPTR, $256

// kx4ones: 1 in every int16.
DATA kx4ones<>+0x00(SB)/8, $0x0001000100010001
DATA kx4ones<>+0x08(SB)/8, $0x0001000100010001
DATA kx4ones<>+0x10(SB)/8, $0x0001000100010001
DATA kx4ones<>+0x18(SB)/8, $0x0001000100010001
DATA kx4ones<>+0x20(SB)/8, $0x0001000100010001
DATA kx4ones<>+0x28(SB)/8, $0x0001000100010001
DATA kx4ones<>+0x30(SB)/8, $0x0001000100010001
DATA kx4ones<>+0x38(SB)/8, $0x0001000100010001
GLOBL kx4ones<>(SB), RODATA|NOPTR, $64

// Q5KSUMS4 adds the four 32-bit lanes of each 128-bit lane of Z22 into
// every one of them: q5_KAVX2's one minimum sum a row (int32 sums wrap,
// so the order does not matter). Z23 is clobbered.
#define Q5KSUMS4 \
	VPSHUFD $0x4e, Z22, Z23; \
	VPADDD  Z23, Z22, Z22;   \
	VPSHUFD $0xb1, Z22, Z23; \
	VPADDD  Z23, Z22, Z22

// Q5KSETUP loads the constants of the Q5_K routines.
#define Q5KSETUP \
	MOVL $0x0f0f0f0f, AX;            \
	VPBROADCASTD AX, Z8;             \
	MOVL $0x10101010, AX;            \
	VPBROADCASTD AX, Z7;             \
	VMOVDQU64 q4kx8shift<>(SB), Z15; \
	KX4PERMS(q4kx8perm<>);           \
	KX8MASKS

// Q5KCHUNKS builds the four chunks of the Q5_K block at SI in turn and
// multiplies each with the rows by rows (KX4ROWS or KX2ROWS).
#define Q5KCHUNKS(rows) \
	Q5KCHUNK(0, VPSLLVW);    \
	rows(4, Z12, VPMADDWD);  \
	Q5KCHUNK(32, VPSLLVW);   \
	rows(68, Z13, VPDPWSSD); \
	Q5KCHUNK(64, VPSRLVW);   \
	rows(132, Z14, VPDPWSSD); \
	Q5KCHUNK(96, VPSRLVW);   \
	rows(196, Z6, VPDPWSSD)

// func q5_Kx4AVX512(w, x0, x1, x2, x3 *byte, nblocks int, out *[4]float32)
TEXT ·q5_Kx4AVX512(SB), NOSPLIT, $0-56
	KX4ARGS
	Q5KSETUP
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z20, Z20, Z20

q5kx4loop:
	KX4MSCALES
	Q5KCHUNKS(KX4ROWS)
	KX4DMIN
	KX8SUMS((DI), (R11), Z24, Z25, Z16)
	KX8SUMS((R12), (R13), Z26, Z27, Z17)
	KX8MINSUMS((DI), (R11), (R12), (R13), kx4ones<>(SB))
	Q5KSUMS4
	KX8MINFMA((DI), (R11), (R12), (R13), Z20)

	ADDQ $176, SI
	KX4NEXT
	DECQ CX
	JNZ  q5kx4loop

	KX8HALF4(Z16, Z17, Z22, Z23)
	KX8HSUM4(Z22, Z23)
	VADDPS Z20, Z22, Z22
	KX4OUT
	VZEROUPPER
	RET

// func q5_Kx2AVX512(w, x0, x1 *byte, nblocks int, out *[2]float32)
TEXT ·q5_Kx2AVX512(SB), NOSPLIT, $0-40
	KX2ARGS
	Q5KSETUP
	VMOVDQU64 kx4ones<>(SB), Z1 // 1 in every int16, for KX2MINSUMS
	VPXORD Z16, Z16, Z16
	VPXORD Z20, Z20, Z20

q5kx2loop:
	KX4MSCALES
	Q5KCHUNKS(KX2ROWS)
	KX4DMIN
	KX8SUMS((DI), (R11), Z24, Z25, Z16)
	KX2MINSUMS(Z1)
	Q5KSUMS4
	KX2MINFMA

	ADDQ $176, SI
	ADDQ $292, DI
	ADDQ $292, R11
	DECQ CX
	JNZ  q5kx2loop

	KX8HALF4(Z16, Z16, Z22, Z23)
	KX8HSUM4(Z22, Z23)
	VADDPS Z20, Z22, Z22
	KX2OUT
	VZEROUPPER
	RET
