//go:build !purego

#include "textflag.h"
#include "kquant_amd64.h"
#include "kquant_avx512_amd64.h"

// Four-row Q4_K dot product for decode with AVX-512 (F, BW, VL) and VNNI:
// four weight rows stride bytes apart against one Q8_K activation row,
// whose 256 values are loaded once per super-block into Z0–Z3 (chunk j:
// the 64 values of groups 2j and 2j+1). Each row's chunks are decoded and
// multiplied as in q4_Kx8AVX512 (low nibbles in the lower half, high in
// the upper; VPMADDUBSW, then VPMADDWD or VPDPWSSD with the groups'
// scales), so after the halves are added its int32 lanes are q4_KAVX2's
// Y10; the bsums' pair sums are shared by the rows. The float32 work per
// lane is q4_KAVX2's (y.d·d times the converted sums by one FMA, y.d·dmin
// times the converted mins·bsums by one FNMADD) and the lanes are reduced
// as hsum8 and hsum4 do, so each result equals dotQ4_KAVX2's bit for bit.
//
// Registers: SI the block of the current row, R11 = stride, R13 =
// 3·stride, R14 the prefetch address eight rows ahead; DI activations; CX
// the super-blocks left; Z24–Z27 the rows' int32 lanes; Z20, Z21 the
// float32 lanes of rows 0–1 and 2–3 (row 2i in lanes 0–7, 2i+1 in 8–15);
// Z28 the minimum lanes (row r in 4r…4r+3); Z29, Z30 the x.d of rows 0–1
// and 2–3 as Z20, Z21 hold them, Z31 the x.dmin of row r in lanes
// 4r…4r+3; Z9 the mins of row r in int16 8r…8r+7; Z16–Z19 the VPERMW
// indexes of the chunks' scales; Z12, Z13, Z14, Z6 the current row's
// scales; Z8 0x0f in every byte; Z15 the shift counts; Z7 1 in every
// int16; K5 lanes 0–7, K1 8–15; K6, K2, K3, K4 lanes 0–3, 4–7, 8–11,
// 12–15.

// Q4KR4CHUNK decodes the 32 nibble bytes at (16+o)(SI) into Z10 and adds
// (op VPDPWSSD) or sets (op VPMADDWD) their products with the activations
// in za, scales s, to the int32 lanes zi.
#define Q4KR4CHUNK(o, za, s, op, zi) \
	VBROADCASTI64X4 (16+o)(SI), Z10; \
	VPSRLVW         Z15, Z10, Z10;   \
	VPANDD          Z8, Z10, Z10;    \
	VPMADDUBSW      za, Z10, Z11;    \
	op              s, Z11, zi

// Q4KR4ROW multiplies the block at SI (row r) with the activations into
// zi, puts its mins in the int16 8r…8r+7 of Z9, its x.d in the lanes km
// of zd and its x.dmin in the lanes kmin of Z31.
#define Q4KR4ROW(r, zi, km, zd, kmin) \
	KSCALES;                              \
	VPERMW        Z4, Z16, Z12;           \
	VPERMW        Z4, Z17, Z13;           \
	VPERMW        Z4, Z18, Z14;           \
	VPERMW        Z4, Z19, Z6;            \
	VEXTRACTI128  $1, Y4, X5;             \
	VINSERTI32X4  $r, X5, Z9, Z9;         \
	VCVTPH2PS     (SI), X5;               \
	VBROADCASTSS  X5, km, zd;             \
	VMOVSHDUP     X5, X5;                 \
	VBROADCASTSS  X5, kmin, Z31;          \
	Q4KR4CHUNK(0, Z0, Z12, VPMADDWD, zi); \
	Q4KR4CHUNK(32, Z1, Z13, VPDPWSSD, zi); \
	Q4KR4CHUNK(64, Z2, Z14, VPDPWSSD, zi); \
	Q4KR4CHUNK(96, Z3, Z6, VPDPWSSD, zi)

// func q4_KR4AVX512(w *byte, stride int, x *byte, nblocks int, out *[4]float32)
TEXT ·q4_KR4AVX512(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ stride+8(FP), R11
	MOVQ x+16(FP), DI
	MOVQ nblocks+24(FP), CX
	LEAQ (R11)(R11*2), R13
	LEAQ (SI)(R11*8), R14
	MOVL $0x0f0f0f0f, AX
	VPBROADCASTD AX, Z8
	MOVL $0x00010001, AX
	VPBROADCASTD AX, Z7
	VMOVDQU64 q4kx8shift<>(SB), Z15
	VMOVDQU64 q4kx8perm<>+0x00(SB), Z16
	VMOVDQU64 q4kx8perm<>+0x40(SB), Z17
	VMOVDQU64 q4kx8perm<>+0x80(SB), Z18
	VMOVDQU64 q4kx8perm<>+0xc0(SB), Z19
	MOVL  $0xff00, AX
	KMOVW AX, K1
	MOVL  $0x00f0, AX
	KMOVW AX, K2
	MOVL  $0x0f00, AX
	KMOVW AX, K3
	MOVL  $0xf000, AX
	KMOVW AX, K4
	MOVL  $0x00ff, AX
	KMOVW AX, K5
	MOVL  $0x000f, AX
	KMOVW AX, K6
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z28, Z28, Z28

q4kr4loop:
	PREFETCHT0 (R14)
	PREFETCHT0 64(R14)
	PREFETCHT0 128(R14)
	PREFETCHT0 192(R14)
	PREFETCHT0 256(R14)
	PREFETCHT0 320(R14)
	PREFETCHT0 384(R14)
	PREFETCHT0 448(R14)
	PREFETCHT0 512(R14)
	ADDQ       $576, R14
	VMOVDQU64  4(DI), Z0
	VMOVDQU64  68(DI), Z1
	VMOVDQU64  132(DI), Z2
	VMOVDQU64  196(DI), Z3
	Q4KR4ROW(0, Z24, K5, Z29, K6)
	ADDQ R11, SI
	Q4KR4ROW(1, Z25, K1, Z29, K2)
	ADDQ R11, SI
	Q4KR4ROW(2, Z26, K5, Z30, K3)
	ADDQ R11, SI
	Q4KR4ROW(3, Z27, K1, Z30, K4)
	SUBQ R13, SI

	// Sums: rows 0–1 into Z20, 2–3 into Z21.
	KX8HALVES(Z24, Z25)
	VCVTDQ2PS    Z22, Z22
	VMULPS.BCST  (DI), Z29, Z5
	VFMADD231PS  Z22, Z5, Z20
	KX8HALVES(Z26, Z27)
	VCVTDQ2PS    Z22, Z22
	VMULPS.BCST  (DI), Z30, Z5
	VFMADD231PS  Z22, Z5, Z21

	// Minimums: the bsums' int16 pair sums (wrapping as VPHADDW's) in
	// every 128-bit lane, times each row's mins.
	VMOVDQU16    260(DI), Y5
	VPMADDWD     Y7, Y5, Y5
	VPMOVDW      Y5, X5
	VSHUFI64X2   $0, Z5, Z5, Z5
	VPMADDWD     Z9, Z5, Z5
	VCVTDQ2PS    Z5, Z5
	VMULPS.BCST  (DI), Z31, Z22
	VFNMADD231PS Z5, Z22, Z28

	ADDQ $144, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q4kr4loop

	KX8HALF4(Z20, Z21, Z22, Z23)
	KX8HSUM4(Z22, Z23)
	KX8HSUM4(Z28, Z23)
	VADDPS    Z28, Z22, Z22
	VMOVDQU32 kx8gather<>(SB), Z23
	VPERMPS   Z22, Z23, Z22
	MOVQ      out+32(FP), AX
	VMOVUPS   X22, (AX)
	VZEROUPPER
	RET

// Four-row Q6_K dot product for decode: the activations in Z0–Z3 as for
// Q4_K (chunk c: offsets 4+64c), each row's chunks built and multiplied
// as in q6_Kx8AVX512, then its lanes less 32·(scales·bsums), converted and
// multiplied by y.d·d in one FMA as q6_KAVX2 does, and reduced as hsum8.
//
// Registers: SI, R11, R13, R14, DI, CX as for Q4_K; Z24–Z27 the rows'
// int32 lanes; Z20, Z21 the float32 lanes of rows 0–1 and 2–3; Z28, Z29
// the sixteen int16 scales of rows 0 and 1 (lower and upper half), 2 and
// 3; Z30, Z31 the x.d of rows 0–1 and 2–3; Z16–Z19 the VPERMW indexes of
// the chunks' scales; Z12, Z13, Z14, Z6 the current row's; Z8 0x0f, Z9
// 0x30 in every byte; Z15, Z7 the shift counts of the high bit pairs.

// Q6KR4ROW multiplies the block at SI (row r) with the activations into
// zi, puts its scales in half h of zsc and its x.d in the lanes km of zd.
#define Q6KR4ROW(h, zi, zsc, km, zd) \
	VPMOVSXBW    192(SI), Y4;        \
	VPERMW       Z4, Z16, Z12;       \
	VPERMW       Z4, Z17, Z13;       \
	VPERMW       Z4, Z18, Z14;       \
	VPERMW       Z4, Z19, Z6;        \
	VINSERTI64X4 $h, Y4, zsc, zsc;   \
	MOVWLZX      208(SI), AX;        \
	VMOVD        AX, X5;             \
	VCVTPH2PS    X5, X5;             \
	VBROADCASTSS X5, km, zd;         \
	Q6KX8EVEN(0, 128);               \
	VPMADDUBSW   Z0, Z10, Z11;       \
	VPMADDWD     Z12, Z11, zi;       \
	Q6KX8ODD(0, 128);                \
	VPMADDUBSW   Z1, Z10, Z11;       \
	VPDPWSSD     Z13, Z11, zi;       \
	Q6KX8EVEN(64, 160);              \
	VPMADDUBSW   Z2, Z10, Z11;       \
	VPDPWSSD     Z14, Z11, zi;       \
	Q6KX8ODD(64, 160);               \
	VPMADDUBSW   Z3, Z10, Z11;       \
	VPDPWSSD     Z6, Z11, zi

// Q6KR4PAIR finishes the block for the rows in za, zb (scales zsc, x.d
// zd) into zf; Z5 holds the bsums in both halves.
#define Q6KR4PAIR(za, zb, zsc, zd, zf) \
	KX8HALVES(za, zb);          \
	VPMADDWD    zsc, Z5, Z23;   \
	VPSLLD      $5, Z23, Z23;   \
	VPSUBD      Z23, Z22, Z22;  \
	VCVTDQ2PS   Z22, Z22;       \
	VMULPS.BCST (DI), zd, Z11;  \
	VFMADD231PS Z22, Z11, zf

// func q6_KR4AVX512(w *byte, stride int, x *byte, nblocks int, out *[4]float32)
TEXT ·q6_KR4AVX512(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ stride+8(FP), R11
	MOVQ x+16(FP), DI
	MOVQ nblocks+24(FP), CX
	LEAQ (R11)(R11*2), R13
	LEAQ (SI)(R11*8), R14
	MOVL $0x0f0f0f0f, AX
	VPBROADCASTD AX, Z8
	MOVL $0x30303030, AX
	VPBROADCASTD AX, Z9
	VMOVDQU64 q6kx8sll<>(SB), Z15
	VMOVDQU64 q6kx8srl<>(SB), Z7
	VMOVDQU64 q6kx8perm<>+0x00(SB), Z16
	VMOVDQU64 q6kx8perm<>+0x40(SB), Z17
	VMOVDQU64 q6kx8perm<>+0x80(SB), Z18
	VMOVDQU64 q6kx8perm<>+0xc0(SB), Z19
	MOVL  $0xff00, AX
	KMOVW AX, K1
	MOVL  $0x00ff, AX
	KMOVW AX, K5
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21

q6kr4loop:
	PREFETCHT0 (R14)
	PREFETCHT0 64(R14)
	PREFETCHT0 128(R14)
	PREFETCHT0 192(R14)
	PREFETCHT0 256(R14)
	PREFETCHT0 320(R14)
	PREFETCHT0 384(R14)
	PREFETCHT0 448(R14)
	PREFETCHT0 512(R14)
	PREFETCHT0 576(R14)
	PREFETCHT0 640(R14)
	PREFETCHT0 704(R14)
	PREFETCHT0 768(R14)
	PREFETCHT0 832(R14)
	ADDQ       $840, R14
	VMOVDQU64  4(DI), Z0
	VMOVDQU64  68(DI), Z1
	VMOVDQU64  132(DI), Z2
	VMOVDQU64  196(DI), Z3
	Q6KR4ROW(0, Z24, Z28, K5, Z30)
	ADDQ R11, SI
	Q6KR4ROW(1, Z25, Z28, K1, Z30)
	ADDQ R11, SI
	Q6KR4ROW(0, Z26, Z29, K5, Z31)
	ADDQ R11, SI
	Q6KR4ROW(1, Z27, Z29, K1, Z31)
	SUBQ R13, SI

	VBROADCASTI64X4 260(DI), Z5
	Q6KR4PAIR(Z24, Z25, Z28, Z30, Z20)
	Q6KR4PAIR(Z26, Z27, Z29, Z31, Z21)

	ADDQ $210, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q6kr4loop

	KX8HALF4(Z20, Z21, Z22, Z23)
	KX8HSUM4(Z22, Z23)
	VMOVDQU32 kx8gather<>(SB), Z23
	VPERMPS   Z22, Z23, Z22
	MOVQ      out+32(FP), AX
	VMOVUPS   X22, (AX)
	VZEROUPPER
	RET
