//go:build !purego

#include "textflag.h"

// Q8_0 and Q4_0 dot products for arm64 CPUs with the int8 matrix multiply
// extension (FEAT_I8MM: SMMLA) and SDOT, following dotQ8_0Chains and
// dotQ4_0Q8_0Chains (generic_chains.go) bit for bit: per block one exact
// int32 sum of 32 products, times float32(dx·dw), fused-multiply-added
// into the even- or odd-block chain of its row; the result is the first
// chain plus the second. Go's assembler lacks SMMLA, SDOT, SCVTF, FCVTL,
// FMUL and FADDP on vectors, so they are WORDs with the instruction each
// encodes (checked by encodings_test.go).
//
// SMMLA Vd.4S, Vn.16B, Vm.16B adds to lane 2i+j of Vd the sum of the
// eight products of bytes 8i…8i+7 of Vn with bytes 8j…8j+7 of Vm: a 2×8
// by 8×2 matrix product. With one weight row the cross terms are the
// catch: a lane is useful only where its Vn half and its Vm half hold the
// same eight positions of the same block, so at most two of the four lanes
// are, 16 of the 32 products, the same useful count as SDOT. The
// multi-row forms take the two useful lanes in a layout that needs no
// work to unpick: Vn holds eight values of row r in its low half and the
// same eight of row r+1 in its high half (ZIP1/ZIP2 of the two rows'
// 64-bit halves), and Vm holds the same eight weights of block b in its
// low half and zeros in its high half, or zeros and the eight of block b+1
// (made once per block and shared by every pair of rows). Four SMMLAs per
// block over the block's four groups of eight then leave
//
//	[ r·block b, r·block b+1, r+1·block b, r+1·block b+1 ]
//
// in one int32 vector, exactly the lanes of the two rows' two chains: one
// SCVTF, one FMUL of the activation and weight scales and one FMLA per
// pair of rows and pair of blocks, where the SDOT forms take a scale
// product, an SCVTF and an FMLA per row and block, and one FADDP adds the
// chains of two pairs at the end. The zero halves cost nothing but the
// products SMMLA would waste on cross terms anyway. Per row and block the
// eight-row form runs about 8 instructions (29 per pair of rows and pair
// of blocks, plus the weights' share) against 11 in neon-dotprod's
// four-row form: the gain is in the scale and float work, not in the
// multiplies (not measured on hardware: tested under qemu).
// Two weight rows against two activation rows would make all four lanes
// useful, 32 products per SMMLA, but Dots has no form with two weight rows.
//
// A last odd block goes into the even chains with zero scales in the odd
// lanes: fma(0, 0, c) = c, bit for bit, for every chain value c the kernel
// can hold (never -0: chains start at +0, and a fused multiply-add gives
// -0 only when its addend is -0; a NaN chain is quiet and kept as it is).
//
// The single-row form has no second row to pair: it sums each block with
// two SDOTs and two pairwise ADDPs, exactly, and keeps its two chains in
// lanes 0 and 1 of one vector.
//
// Registers of the multi-row forms: R0 weights, R1 R2 R3 R4 R5 R6 R7 R9
// activation rows, R8 out, R10 nblocks, R12 pairs of blocks left. V0–V3
// the two weight blocks, V4–V7 one block of two rows, V8–V11 their zipped
// halves, V12 the pair's int32 sums, V13 its scales, V14 the weight
// scales [dw_b, dw_b+1, dw_b, dw_b+1], V15 zero, V16–V19 the chains of
// row pairs 0–3, V20 V21 the Q4_0 constants, V24–V31 the weight halves.

// WPAIR8 loads two Q8_0 weight blocks: the scales into V14.H[0] and
// V14.H[1], the values into V0 V1 and V2 V3.
#define WPAIR8 \
	VLD1.P 2(R0), V14.H[0];          \
	VLD1.P 32(R0), [V0.B16, V1.B16]; \
	VLD1.P 2(R0), V14.H[1];          \
	VLD1.P 32(R0), [V2.B16, V3.B16]

// WONE8 is WPAIR8 for one block, with V14.H[1] zero.
#define WONE8 \
	VEOR   V14.B16, V14.B16, V14.B16; \
	VLD1.P 2(R0), V14.H[0];           \
	VLD1.P 32(R0), [V0.B16, V1.B16]

// UNPACK sets lo and hi to the low and high nibbles of lo, less 8.
#define UNPACK(lo, hi) \
	VUSHR $4, lo, hi;         \
	VAND  V20.B16, lo, lo;    \
	VSUB  V21.B16, lo, lo;    \
	VSUB  V21.B16, hi, hi

// WPAIR4 and WONE4 are WPAIR8 and WONE8 for Q4_0 blocks.
#define WPAIR4 \
	VLD1.P 2(R0), V14.H[0];  \
	VLD1.P 16(R0), [V0.B16]; \
	VLD1.P 2(R0), V14.H[1];  \
	VLD1.P 16(R0), [V2.B16]; \
	UNPACK(V0.B16, V1.B16);  \
	UNPACK(V2.B16, V3.B16)

#define WONE4 \
	VEOR   V14.B16, V14.B16, V14.B16; \
	VLD1.P 2(R0), V14.H[0];           \
	VLD1.P 16(R0), [V0.B16];          \
	UNPACK(V0.B16, V1.B16)

// WSCALES sets V14 to the weight scales as float32, the two blocks' twice.
#define WSCALES \
	WORD  $0x0e2179ce; /* fcvtl v14.4s, v14.4h */ \
	VZIP1 V14.D2, V14.D2, V14.D2

// HALVES0 sets V24–V27 to block b's four groups of eight weights, each
// over zeros; HALVES1 sets V28–V31 to zeros under block b+1's groups.
#define HALVES0 \
	VZIP1 V15.D2, V0.D2, V24.D2; \
	VZIP2 V15.D2, V0.D2, V25.D2; \
	VZIP1 V15.D2, V1.D2, V26.D2; \
	VZIP2 V15.D2, V1.D2, V27.D2

#define HALVES1 \
	VZIP1 V2.D2, V15.D2, V28.D2; \
	VZIP2 V2.D2, V15.D2, V29.D2; \
	VZIP1 V3.D2, V15.D2, V30.D2; \
	VZIP2 V3.D2, V15.D2, V31.D2

// LOADS loads the next block of rows ra and rb, its scales into lanes la
// and lb of V13, and sets V8–V11 to its groups of eight, ra's in the low
// halves and rb's in the high ones.
#define LOADS(ra, rb, la, lb) \
	VLD1.P 2(ra), V13.H[la];         \
	VLD1.P 32(ra), [V4.B16, V5.B16]; \
	VLD1.P 2(rb), V13.H[lb];         \
	VLD1.P 32(rb), [V6.B16, V7.B16]; \
	VZIP1  V6.D2, V4.D2, V8.D2;      \
	VZIP2  V6.D2, V4.D2, V9.D2;      \
	VZIP1  V7.D2, V5.D2, V10.D2;     \
	VZIP2  V7.D2, V5.D2, V11.D2

#define SMMLA0 \
	WORD $0x4e98a50c; /* smmla v12.4s, v8.16b, v24.16b */  \
	WORD $0x4e99a52c; /* smmla v12.4s, v9.16b, v25.16b */  \
	WORD $0x4e9aa54c; /* smmla v12.4s, v10.16b, v26.16b */ \
	WORD $0x4e9ba56c  /* smmla v12.4s, v11.16b, v27.16b */

#define SMMLA1 \
	WORD $0x4e9ca50c; /* smmla v12.4s, v8.16b, v28.16b */  \
	WORD $0x4e9da52c; /* smmla v12.4s, v9.16b, v29.16b */  \
	WORD $0x4e9ea54c; /* smmla v12.4s, v10.16b, v30.16b */ \
	WORD $0x4e9fa56c  /* smmla v12.4s, v11.16b, v31.16b */

// CHAINS adds float32(V12) times the scales (V13 activation, V14 weight)
// to the chains acc.
#define CHAINS(acc) \
	WORD  $0x0e2179ad; /* fcvtl v13.4s, v13.4h */          \
	WORD  $0x6e2eddad; /* fmul v13.4s, v13.4s, v14.4s */   \
	WORD  $0x4e21d98c; /* scvtf v12.4s, v12.4s */          \
	VFMLA V13.S4, V12.S4, acc

// PAIR adds two blocks of rows ra and rb to their chains acc.
#define PAIR(ra, rb, acc) \
	VEOR V12.B16, V12.B16, V12.B16; \
	LOADS(ra, rb, 0, 2);            \
	SMMLA0;                         \
	LOADS(ra, rb, 1, 3);            \
	SMMLA1;                         \
	CHAINS(acc)

// PAIR1 adds one block of rows ra and rb to their even chains.
#define PAIR1(ra, rb, acc) \
	VEOR V12.B16, V12.B16, V12.B16; \
	VEOR V13.B16, V13.B16, V13.B16; \
	LOADS(ra, rb, 0, 2);            \
	SMMLA0;                         \
	CHAINS(acc)

// ZERO clears V15 and the chains and sets the Q4_0 constants.
#define ZERO \
	VEOR  V15.B16, V15.B16, V15.B16; \
	VEOR  V16.B16, V16.B16, V16.B16; \
	VEOR  V17.B16, V17.B16, V17.B16; \
	VEOR  V18.B16, V18.B16, V18.B16; \
	VEOR  V19.B16, V19.B16, V19.B16; \
	VMOVI $15, V20.B16;              \
	VMOVI $8, V21.B16

// BLOCKS2 adds two weight blocks, loaded by wpair, to every pair of rows
// (pairs); BLOCK1 adds one, loaded by wone (pairs1).
#define BLOCKS2(wpair, pairs) \
	wpair;   \
	WSCALES; \
	HALVES0; \
	HALVES1; \
	pairs

#define BLOCK1(wone, pairs1) \
	wone;    \
	WSCALES; \
	HALVES0; \
	pairs1

#define PAIRS8 \
	PAIR(R1, R2, V16.S4); \
	PAIR(R3, R4, V17.S4); \
	PAIR(R5, R6, V18.S4); \
	PAIR(R7, R9, V19.S4)

#define PAIRS8_1 \
	PAIR1(R1, R2, V16.S4); \
	PAIR1(R3, R4, V17.S4); \
	PAIR1(R5, R6, V18.S4); \
	PAIR1(R7, R9, V19.S4)

#define PAIRS4 \
	PAIR(R1, R2, V16.S4); \
	PAIR(R3, R4, V17.S4)

#define PAIRS4_1 \
	PAIR1(R1, R2, V16.S4); \
	PAIR1(R3, R4, V17.S4)

// ROWS8 sets R1 R2 … R7 R9 to the eight rows stride (R11) apart from x.
#define ROWS8 \
	ADD R11, R1, R2; \
	ADD R11, R2, R3; \
	ADD R11, R3, R4; \
	ADD R11, R4, R5; \
	ADD R11, R5, R6; \
	ADD R11, R6, R7; \
	ADD R11, R7, R9

// OUT8, OUT4 and OUT2 add each row's two chains and store the sums.
#define OUT8 \
	WORD $0x6e31d610; /* faddp v16.4s, v16.4s, v17.4s */ \
	WORD $0x6e33d651; /* faddp v17.4s, v18.4s, v19.4s */ \
	VST1 [V16.S4, V17.S4], (R8)

#define OUT4 \
	WORD $0x6e31d610; /* faddp v16.4s, v16.4s, v17.4s */ \
	VST1 [V16.S4], (R8)

#define OUT2 \
	WORD  $0x6e30d610; /* faddp v16.4s, v16.4s, v16.4s */ \
	FMOVD F16, (R8)

// The single-row forms: R0 weights, R1 activations, R2 nblocks, R3 pairs
// of blocks left; V8 and V9 the weight and activation scales of two blocks
// in lanes 0 and 1 (lanes 2 and 3 stay zero), V16 and V17 their int32
// sums, V20 the chains in lanes 0 and 1, V30 V31 the Q4_0 constants.

// X1LOAD8 and X1LOAD4 load the next weight block and activation block:
// the scales into lane l of V8 and V9, the values into wa wb and xa xb.
#define X1LOAD8(l, wa, wb, xa, xb) \
	VLD1.P 2(R0), V8.H[l];   \
	VLD1.P 32(R0), [wa, wb]; \
	VLD1.P 2(R1), V9.H[l];   \
	VLD1.P 32(R1), [xa, xb]

#define X1LOAD4(l, wa, wb, xa, xb) \
	VLD1.P 2(R0), V8.H[l];   \
	VLD1.P 16(R0), [wa];     \
	VUSHR  $4, wa, wb;       \
	VAND   V30.B16, wa, wa;  \
	VSUB   V31.B16, wa, wa;  \
	VSUB   V31.B16, wb, wb;  \
	VLD1.P 2(R1), V9.H[l];   \
	VLD1.P 32(R1), [xa, xb]

// X1SUMS sets lanes 0 and 1 of V16 to the exact sums of the blocks in V0
// V1 · V2 V3 and V4 V5 · V6 V7: four sums of eight each (SDOT), added
// pairwise twice.
#define X1SUMS \
	VEOR  V16.B16, V16.B16, V16.B16;                       \
	VEOR  V17.B16, V17.B16, V17.B16;                       \
	WORD  $0x4e829410; /* sdot v16.4s, v0.16b, v2.16b */   \
	WORD  $0x4e839430; /* sdot v16.4s, v1.16b, v3.16b */   \
	WORD  $0x4e869491; /* sdot v17.4s, v4.16b, v6.16b */   \
	WORD  $0x4e8794b1; /* sdot v17.4s, v5.16b, v7.16b */   \
	VADDP V17.S4, V16.S4, V16.S4;                          \
	VADDP V16.S4, V16.S4, V16.S4

// X1CHAINS adds float32(V16) times float32(V9·V8) to the chains in V20,
// with the operands in the order of the multi-row forms' CHAINS.
#define X1CHAINS \
	WORD  $0x0e21790a; /* fcvtl v10.4s, v8.4h */         \
	WORD  $0x0e21792b; /* fcvtl v11.4s, v9.4h */         \
	WORD  $0x6e2add6b; /* fmul v11.4s, v11.4s, v10.4s */ \
	WORD  $0x4e21da10; /* scvtf v16.4s, v16.4s */        \
	VFMLA V11.S4, V16.S4, V20.S4

// X1START zeroes the chains and the scale lanes and sets R3 to the pairs
// of blocks.
#define X1START \
	MOVD  w+0(FP), R0;              \
	MOVD  x+8(FP), R1;              \
	MOVD  nblocks+16(FP), R2;       \
	VEOR  V20.B16, V20.B16, V20.B16; \
	VEOR  V8.B16, V8.B16, V8.B16;   \
	VEOR  V9.B16, V9.B16, V9.B16;   \
	VMOVI $15, V30.B16;             \
	VMOVI $8, V31.B16;              \
	LSR   $1, R2, R3

// X1END adds the two chains and returns the sum.
#define X1END \
	WORD  $0x7e30da94; /* faddp s20, v20.2s */ \
	FMOVS F20, ret+24(FP);                     \
	RET


// func q8_0x8I8MM(w, x *byte, stride, nblocks int, out *[8]float32)
TEXT ·q8_0x8I8MM(SB), NOSPLIT, $0-40
	MOVD w+0(FP), R0
	MOVD x+8(FP), R1
	MOVD stride+16(FP), R11
	MOVD nblocks+24(FP), R10
	MOVD out+32(FP), R8
	ROWS8
	ZERO
	LSR  $1, R10, R12
	CBZ  R12, q8x8tail

q8x8loop:
	BLOCKS2(WPAIR8, PAIRS8)
	SUBS $1, R12, R12
	BNE  q8x8loop

q8x8tail:
	TBZ $0, R10, q8x8done
	BLOCK1(WONE8, PAIRS8_1)

q8x8done:
	OUT8
	RET

// func q4_0Q8_0x8I8MM(w, x *byte, stride, nblocks int, out *[8]float32)
TEXT ·q4_0Q8_0x8I8MM(SB), NOSPLIT, $0-40
	MOVD w+0(FP), R0
	MOVD x+8(FP), R1
	MOVD stride+16(FP), R11
	MOVD nblocks+24(FP), R10
	MOVD out+32(FP), R8
	ROWS8
	ZERO
	LSR  $1, R10, R12
	CBZ  R12, q4x8tail

q4x8loop:
	BLOCKS2(WPAIR4, PAIRS8)
	SUBS $1, R12, R12
	BNE  q4x8loop

q4x8tail:
	TBZ $0, R10, q4x8done
	BLOCK1(WONE4, PAIRS8_1)

q4x8done:
	OUT8
	RET

// func q8_0x4I8MM(w, x0, x1, x2, x3 *byte, nblocks int, out *[4]float32)
TEXT ·q8_0x4I8MM(SB), NOSPLIT, $0-56
	MOVD w+0(FP), R0
	MOVD x0+8(FP), R1
	MOVD x1+16(FP), R2
	MOVD x2+24(FP), R3
	MOVD x3+32(FP), R4
	MOVD nblocks+40(FP), R10
	MOVD out+48(FP), R8
	ZERO
	LSR  $1, R10, R12
	CBZ  R12, q8x4tail

q8x4loop:
	BLOCKS2(WPAIR8, PAIRS4)
	SUBS $1, R12, R12
	BNE  q8x4loop

q8x4tail:
	TBZ $0, R10, q8x4done
	BLOCK1(WONE8, PAIRS4_1)

q8x4done:
	OUT4
	RET

// func q4_0Q8_0x4I8MM(w, x0, x1, x2, x3 *byte, nblocks int, out *[4]float32)
TEXT ·q4_0Q8_0x4I8MM(SB), NOSPLIT, $0-56
	MOVD w+0(FP), R0
	MOVD x0+8(FP), R1
	MOVD x1+16(FP), R2
	MOVD x2+24(FP), R3
	MOVD x3+32(FP), R4
	MOVD nblocks+40(FP), R10
	MOVD out+48(FP), R8
	ZERO
	LSR  $1, R10, R12
	CBZ  R12, q4x4tail

q4x4loop:
	BLOCKS2(WPAIR4, PAIRS4)
	SUBS $1, R12, R12
	BNE  q4x4loop

q4x4tail:
	TBZ $0, R10, q4x4done
	BLOCK1(WONE4, PAIRS4_1)

q4x4done:
	OUT4
	RET

// func q8_0x2I8MM(w, x0, x1 *byte, nblocks int, out *[2]float32)
TEXT ·q8_0x2I8MM(SB), NOSPLIT, $0-40
	MOVD w+0(FP), R0
	MOVD x0+8(FP), R1
	MOVD x1+16(FP), R2
	MOVD nblocks+24(FP), R10
	MOVD out+32(FP), R8
	ZERO
	LSR  $1, R10, R12
	CBZ  R12, q8x2tail

q8x2loop:
	BLOCKS2(WPAIR8, PAIR(R1, R2, V16.S4))
	SUBS $1, R12, R12
	BNE  q8x2loop

q8x2tail:
	TBZ $0, R10, q8x2done
	BLOCK1(WONE8, PAIR1(R1, R2, V16.S4))

q8x2done:
	OUT2
	RET

// func q4_0Q8_0x2I8MM(w, x0, x1 *byte, nblocks int, out *[2]float32)
TEXT ·q4_0Q8_0x2I8MM(SB), NOSPLIT, $0-40
	MOVD w+0(FP), R0
	MOVD x0+8(FP), R1
	MOVD x1+16(FP), R2
	MOVD nblocks+24(FP), R10
	MOVD out+32(FP), R8
	ZERO
	LSR  $1, R10, R12
	CBZ  R12, q4x2tail

q4x2loop:
	BLOCKS2(WPAIR4, PAIR(R1, R2, V16.S4))
	SUBS $1, R12, R12
	BNE  q4x2loop

q4x2tail:
	TBZ $0, R10, q4x2done
	BLOCK1(WONE4, PAIR1(R1, R2, V16.S4))

q4x2done:
	OUT2
	RET

// func q8_0I8MM(w, x *byte, nblocks int) float32
TEXT ·q8_0I8MM(SB), NOSPLIT, $0-28
	X1START
	CBZ R3, q8x1tail

q8x1loop:
	X1LOAD8(0, V0.B16, V1.B16, V2.B16, V3.B16)
	X1LOAD8(1, V4.B16, V5.B16, V6.B16, V7.B16)
	X1SUMS
	X1CHAINS
	SUBS $1, R3, R3
	BNE  q8x1loop

q8x1tail:
	TBZ  $0, R2, q8x1done
	VEOR V8.B16, V8.B16, V8.B16
	VEOR V9.B16, V9.B16, V9.B16
	VEOR V4.B16, V4.B16, V4.B16
	VEOR V5.B16, V5.B16, V5.B16
	X1LOAD8(0, V0.B16, V1.B16, V2.B16, V3.B16)
	X1SUMS
	X1CHAINS

q8x1done:
	X1END

// func q4_0Q8_0I8MM(w, x *byte, nblocks int) float32
TEXT ·q4_0Q8_0I8MM(SB), NOSPLIT, $0-28
	X1START
	CBZ R3, q4x1tail

q4x1loop:
	X1LOAD4(0, V0.B16, V1.B16, V2.B16, V3.B16)
	X1LOAD4(1, V4.B16, V5.B16, V6.B16, V7.B16)
	X1SUMS
	X1CHAINS
	SUBS $1, R3, R3
	BNE  q4x1loop

q4x1tail:
	TBZ  $0, R2, q4x1done
	VEOR V8.B16, V8.B16, V8.B16
	VEOR V9.B16, V9.B16, V9.B16
	VEOR V4.B16, V4.B16, V4.B16
	VEOR V5.B16, V5.B16, V5.B16
	X1LOAD4(0, V0.B16, V1.B16, V2.B16, V3.B16)
	X1SUMS
	X1CHAINS

q4x1done:
	X1END
