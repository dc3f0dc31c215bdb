//go:build !purego

#include "textflag.h"
#include "kquant_arm64.h"
#include "multirow_k_arm64.h"

// Multi-row Q4_K and Q6_K dot products with SDOT: one weight row against
// four (or two) Q8_K activation rows. Each weight super-block is decoded
// once per 32 or 64 values and multiplied with every row; each row gets
// the int32 lanes, the operations and the operand order of q4_KDotProd
// and q6_KDotProd (kquant_arm64.s), so each result equals the single-row
// kernel's (and the generic twin's) bit for bit. The int32 lane sums
// wrap, so the order in which they are added does not change them. The
// float32 accumulators of row r live in memory, acc[r], in the layout the
// single-row routines store: one load, fused multiply-add and store per
// super-block. Instructions Go's assembler lacks are WORDs, each with its
// instruction text; an instruction naming a row's registers is passed to
// the macros as a word.
//
// Registers: R0 weights, R11…R14 the activation rows, R2 the super-blocks
// left, R3 the accumulators; R4…R10 are clobbered by KSCALES, R7 holds
// addresses. Row r's int32 lanes 0…3 and 4…7 are in V10/V11, V12/V13,
// V14/V15, V20/V21 (Q4_K) or V12/V13, V14/V15, V18/V22, V23/V28 (Q6_K).

// func q4_Kx4DotProd(w, x0, x1, x2, x3 *byte, nblocks int, acc *[4][12]float32)
TEXT ·q4_Kx4DotProd(SB), NOSPLIT, $0-56
	MOVD  w+0(FP), R0
	MOVD  x0+8(FP), R11
	MOVD  x1+16(FP), R12
	MOVD  x2+24(FP), R13
	MOVD  x3+32(FP), R14
	MOVD  nblocks+40(FP), R2
	MOVD  acc+48(FP), R3
	VMOVI $15, V31.B16

q4kx4dotprodloop:
	KSCALES
	Q4KD
	Q4KMIN(R11, 0)
	Q4KMIN(R12, 48)
	Q4KMIN(R13, 96)
	Q4KMIN(R14, 144)
	VEOR V10.B16, V10.B16, V10.B16
	VEOR V11.B16, V11.B16, V11.B16
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	VEOR V14.B16, V14.B16, V14.B16
	VEOR V15.B16, V15.B16, V15.B16
	VEOR V20.B16, V20.B16, V20.B16
	VEOR V21.B16, V21.B16, V21.B16
	ADD   $16, R0, R5
	Q4KW
	Q4KROW(4, R11, 0x6f9d00ca, 0x6f9d00eb, 0x6fbd010a, 0x6fbd012b) // = mla v10.4s, v6.4s, v29.s[0]; mla v11.4s, v7.4s, v29.s[0]; mla v10.4s, v8.4s, v29.s[1]; mla v11.4s, v9.4s, v29.s[1]
	Q4KROW(4, R12, 0x6f9d00cc, 0x6f9d00ed, 0x6fbd010c, 0x6fbd012d) // = mla v12.4s, v6.4s, v29.s[0]; mla v13.4s, v7.4s, v29.s[0]; mla v12.4s, v8.4s, v29.s[1]; mla v13.4s, v9.4s, v29.s[1]
	Q4KROW(4, R13, 0x6f9d00ce, 0x6f9d00ef, 0x6fbd010e, 0x6fbd012f) // = mla v14.4s, v6.4s, v29.s[0]; mla v15.4s, v7.4s, v29.s[0]; mla v14.4s, v8.4s, v29.s[1]; mla v15.4s, v9.4s, v29.s[1]
	Q4KROW(4, R14, 0x6f9d00d4, 0x6f9d00f5, 0x6fbd0114, 0x6fbd0135) // = mla v20.4s, v6.4s, v29.s[0]; mla v21.4s, v7.4s, v29.s[0]; mla v20.4s, v8.4s, v29.s[1]; mla v21.4s, v9.4s, v29.s[1]
	Q4KW
	Q4KROW(68, R11, 0x6f9d08ca, 0x6f9d08eb, 0x6fbd090a, 0x6fbd092b) // = mla v10.4s, v6.4s, v29.s[2]; mla v11.4s, v7.4s, v29.s[2]; mla v10.4s, v8.4s, v29.s[3]; mla v11.4s, v9.4s, v29.s[3]
	Q4KROW(68, R12, 0x6f9d08cc, 0x6f9d08ed, 0x6fbd090c, 0x6fbd092d) // = mla v12.4s, v6.4s, v29.s[2]; mla v13.4s, v7.4s, v29.s[2]; mla v12.4s, v8.4s, v29.s[3]; mla v13.4s, v9.4s, v29.s[3]
	Q4KROW(68, R13, 0x6f9d08ce, 0x6f9d08ef, 0x6fbd090e, 0x6fbd092f) // = mla v14.4s, v6.4s, v29.s[2]; mla v15.4s, v7.4s, v29.s[2]; mla v14.4s, v8.4s, v29.s[3]; mla v15.4s, v9.4s, v29.s[3]
	Q4KROW(68, R14, 0x6f9d08d4, 0x6f9d08f5, 0x6fbd0914, 0x6fbd0935) // = mla v20.4s, v6.4s, v29.s[2]; mla v21.4s, v7.4s, v29.s[2]; mla v20.4s, v8.4s, v29.s[3]; mla v21.4s, v9.4s, v29.s[3]
	Q4KW
	Q4KROW(132, R11, 0x6f9e00ca, 0x6f9e00eb, 0x6fbe010a, 0x6fbe012b) // = mla v10.4s, v6.4s, v30.s[0]; mla v11.4s, v7.4s, v30.s[0]; mla v10.4s, v8.4s, v30.s[1]; mla v11.4s, v9.4s, v30.s[1]
	Q4KROW(132, R12, 0x6f9e00cc, 0x6f9e00ed, 0x6fbe010c, 0x6fbe012d) // = mla v12.4s, v6.4s, v30.s[0]; mla v13.4s, v7.4s, v30.s[0]; mla v12.4s, v8.4s, v30.s[1]; mla v13.4s, v9.4s, v30.s[1]
	Q4KROW(132, R13, 0x6f9e00ce, 0x6f9e00ef, 0x6fbe010e, 0x6fbe012f) // = mla v14.4s, v6.4s, v30.s[0]; mla v15.4s, v7.4s, v30.s[0]; mla v14.4s, v8.4s, v30.s[1]; mla v15.4s, v9.4s, v30.s[1]
	Q4KROW(132, R14, 0x6f9e00d4, 0x6f9e00f5, 0x6fbe0114, 0x6fbe0135) // = mla v20.4s, v6.4s, v30.s[0]; mla v21.4s, v7.4s, v30.s[0]; mla v20.4s, v8.4s, v30.s[1]; mla v21.4s, v9.4s, v30.s[1]
	Q4KW
	Q4KROW(196, R11, 0x6f9e08ca, 0x6f9e08eb, 0x6fbe090a, 0x6fbe092b) // = mla v10.4s, v6.4s, v30.s[2]; mla v11.4s, v7.4s, v30.s[2]; mla v10.4s, v8.4s, v30.s[3]; mla v11.4s, v9.4s, v30.s[3]
	Q4KROW(196, R12, 0x6f9e08cc, 0x6f9e08ed, 0x6fbe090c, 0x6fbe092d) // = mla v12.4s, v6.4s, v30.s[2]; mla v13.4s, v7.4s, v30.s[2]; mla v12.4s, v8.4s, v30.s[3]; mla v13.4s, v9.4s, v30.s[3]
	Q4KROW(196, R13, 0x6f9e08ce, 0x6f9e08ef, 0x6fbe090e, 0x6fbe092f) // = mla v14.4s, v6.4s, v30.s[2]; mla v15.4s, v7.4s, v30.s[2]; mla v14.4s, v8.4s, v30.s[3]; mla v15.4s, v9.4s, v30.s[3]
	Q4KROW(196, R14, 0x6f9e08d4, 0x6f9e08f5, 0x6fbe0914, 0x6fbe0935) // = mla v20.4s, v6.4s, v30.s[2]; mla v21.4s, v7.4s, v30.s[2]; mla v20.4s, v8.4s, v30.s[3]; mla v21.4s, v9.4s, v30.s[3]
	KLANES(R11, 0, F25, 0x4e21d94a, 0x4e21d96b, 0x4f981148, 0x4f981169) // = scvtf v10.4s, v10.4s; scvtf v11.4s, v11.4s; fmla v8.4s, v10.4s, v24.s[0]; fmla v9.4s, v11.4s, v24.s[0]
	KLANES(R12, 48, F25, 0x4e21d98c, 0x4e21d9ad, 0x4f981188, 0x4f9811a9) // = scvtf v12.4s, v12.4s; scvtf v13.4s, v13.4s; fmla v8.4s, v12.4s, v24.s[0]; fmla v9.4s, v13.4s, v24.s[0]
	KLANES(R13, 96, F25, 0x4e21d9ce, 0x4e21d9ef, 0x4f9811c8, 0x4f9811e9) // = scvtf v14.4s, v14.4s; scvtf v15.4s, v15.4s; fmla v8.4s, v14.4s, v24.s[0]; fmla v9.4s, v15.4s, v24.s[0]
	KLANES(R14, 144, F25, 0x4e21da94, 0x4e21dab5, 0x4f981288, 0x4f9812a9) // = scvtf v20.4s, v20.4s; scvtf v21.4s, v21.4s; fmla v8.4s, v20.4s, v24.s[0]; fmla v9.4s, v21.4s, v24.s[0]

	ADD  $144, R0
	ADD  $292, R11
	ADD  $292, R12
	ADD  $292, R13
	ADD  $292, R14
	SUBS $1, R2, R2
	BNE  q4kx4dotprodloop
	RET

// func q4_Kx2DotProd(w, x0, x1 *byte, nblocks int, acc *[2][12]float32)
TEXT ·q4_Kx2DotProd(SB), NOSPLIT, $0-40
	MOVD  w+0(FP), R0
	MOVD  x0+8(FP), R11
	MOVD  x1+16(FP), R12
	MOVD  nblocks+24(FP), R2
	MOVD  acc+32(FP), R3
	VMOVI $15, V31.B16

q4kx2dotprodloop:
	KSCALES
	Q4KD
	Q4KMIN(R11, 0)
	Q4KMIN(R12, 48)
	VEOR V10.B16, V10.B16, V10.B16
	VEOR V11.B16, V11.B16, V11.B16
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	ADD   $16, R0, R5
	Q4KW
	Q4KROW(4, R11, 0x6f9d00ca, 0x6f9d00eb, 0x6fbd010a, 0x6fbd012b) // = mla v10.4s, v6.4s, v29.s[0]; mla v11.4s, v7.4s, v29.s[0]; mla v10.4s, v8.4s, v29.s[1]; mla v11.4s, v9.4s, v29.s[1]
	Q4KROW(4, R12, 0x6f9d00cc, 0x6f9d00ed, 0x6fbd010c, 0x6fbd012d) // = mla v12.4s, v6.4s, v29.s[0]; mla v13.4s, v7.4s, v29.s[0]; mla v12.4s, v8.4s, v29.s[1]; mla v13.4s, v9.4s, v29.s[1]
	Q4KW
	Q4KROW(68, R11, 0x6f9d08ca, 0x6f9d08eb, 0x6fbd090a, 0x6fbd092b) // = mla v10.4s, v6.4s, v29.s[2]; mla v11.4s, v7.4s, v29.s[2]; mla v10.4s, v8.4s, v29.s[3]; mla v11.4s, v9.4s, v29.s[3]
	Q4KROW(68, R12, 0x6f9d08cc, 0x6f9d08ed, 0x6fbd090c, 0x6fbd092d) // = mla v12.4s, v6.4s, v29.s[2]; mla v13.4s, v7.4s, v29.s[2]; mla v12.4s, v8.4s, v29.s[3]; mla v13.4s, v9.4s, v29.s[3]
	Q4KW
	Q4KROW(132, R11, 0x6f9e00ca, 0x6f9e00eb, 0x6fbe010a, 0x6fbe012b) // = mla v10.4s, v6.4s, v30.s[0]; mla v11.4s, v7.4s, v30.s[0]; mla v10.4s, v8.4s, v30.s[1]; mla v11.4s, v9.4s, v30.s[1]
	Q4KROW(132, R12, 0x6f9e00cc, 0x6f9e00ed, 0x6fbe010c, 0x6fbe012d) // = mla v12.4s, v6.4s, v30.s[0]; mla v13.4s, v7.4s, v30.s[0]; mla v12.4s, v8.4s, v30.s[1]; mla v13.4s, v9.4s, v30.s[1]
	Q4KW
	Q4KROW(196, R11, 0x6f9e08ca, 0x6f9e08eb, 0x6fbe090a, 0x6fbe092b) // = mla v10.4s, v6.4s, v30.s[2]; mla v11.4s, v7.4s, v30.s[2]; mla v10.4s, v8.4s, v30.s[3]; mla v11.4s, v9.4s, v30.s[3]
	Q4KROW(196, R12, 0x6f9e08cc, 0x6f9e08ed, 0x6fbe090c, 0x6fbe092d) // = mla v12.4s, v6.4s, v30.s[2]; mla v13.4s, v7.4s, v30.s[2]; mla v12.4s, v8.4s, v30.s[3]; mla v13.4s, v9.4s, v30.s[3]
	KLANES(R11, 0, F25, 0x4e21d94a, 0x4e21d96b, 0x4f981148, 0x4f981169) // = scvtf v10.4s, v10.4s; scvtf v11.4s, v11.4s; fmla v8.4s, v10.4s, v24.s[0]; fmla v9.4s, v11.4s, v24.s[0]
	KLANES(R12, 48, F25, 0x4e21d98c, 0x4e21d9ad, 0x4f981188, 0x4f9811a9) // = scvtf v12.4s, v12.4s; scvtf v13.4s, v13.4s; fmla v8.4s, v12.4s, v24.s[0]; fmla v9.4s, v13.4s, v24.s[0]

	ADD  $144, R0
	ADD  $292, R11
	ADD  $292, R12
	SUBS $1, R2, R2
	BNE  q4kx2dotprodloop
	RET

// Q6KLOAD loads the 64 bytes of low nibbles of half a super-block from
// (R5) into V0…V3 and its 32 bytes of high bit pairs from (R6) into V4,
// V5.
#define Q6KLOAD \
	VLD1.P 64(R5), [V0.B16, V1.B16, V2.B16, V3.B16]; \
	VLD1.P 32(R6), [V4.B16, V5.B16]

// Q6KHIGH sets V10 and V11 to the two bits at bit sh of V4 and V5, moved
// to bits 4 and 5, and ORs them into the values V6 and V7.
#define Q6KHIGH(sh) \
	VUSHR $sh, V4.B16, V10.B16;       \
	VUSHR $sh, V5.B16, V11.B16;       \
	VAND  V30.B16, V10.B16, V10.B16;  \
	VAND  V30.B16, V11.B16, V11.B16;  \
	VSHL  $4, V10.B16, V10.B16;       \
	VSHL  $4, V11.B16, V11.B16;       \
	VORR  V10.B16, V6.B16, V6.B16;    \
	VORR  V11.B16, V7.B16, V7.B16

// Q6KHIGH0 is Q6KHIGH for bit 0.
#define Q6KHIGH0 \
	VAND  V30.B16, V4.B16, V10.B16;   \
	VAND  V30.B16, V5.B16, V11.B16;   \
	VSHL  $4, V10.B16, V10.B16;       \
	VSHL  $4, V11.B16, V11.B16;       \
	VORR  V10.B16, V6.B16, V6.B16;    \
	VORR  V11.B16, V7.B16, V7.B16

// Q6KROW adds to a row's int32 lanes the products of the 32 values V6, V7
// with the activations at off(xp), scaled by the MLA words (as KCHUNK16).
#define Q6KROW(off, xp, mlalo, mlahi) \
	ADD  $off, xp, R7;                 \
	VLD1 (R7), [V16.B16, V17.B16];     \
	VEOR V8.B16, V8.B16, V8.B16;       \
	VEOR V9.B16, V9.B16, V9.B16;       \
	WORD $0x4e9094c8 /* sdot v8.4s, v6.16b, v16.16b */; \
	WORD $0x4e9194e9 /* sdot v9.4s, v7.16b, v17.16b */; \
	WORD $mlalo;                       \
	WORD $mlahi

// Q6KSTART sets a row's int32 lanes to -32·(scale·bsum) of two groups
// per lane of the activations at xp, the correction q6_KDotProd takes off
// at the end (the int16 scales are in V20, V21); the words add the pairs
// into the row's registers, shift and negate them.
#define Q6KSTART(xp, addplo, addphi, shllo, shlhi, neglo, neghi) \
	ADD  $260, xp, R7;                   \
	VLD1 (R7), [V16.H8, V17.H8];         \
	WORD $0x0e74c208 /* smull v8.4s, v16.4h, v20.4h */;  \
	WORD $0x4e74c209 /* smull2 v9.4s, v16.8h, v20.8h */; \
	WORD $addplo;                        \
	WORD $0x0e75c228 /* smull v8.4s, v17.4h, v21.4h */;  \
	WORD $0x4e75c229 /* smull2 v9.4s, v17.8h, v21.8h */; \
	WORD $addphi;                        \
	WORD $shllo;                         \
	WORD $shlhi;                         \
	WORD $neglo;                         \
	WORD $neghi

// Q6KSCALES loads the int8 scales of the block at R0, widened to int16
// in V20, V21 and to int32 in V24…V27 (as KSCALES16), and F29 to the
// weights' float d.
#define Q6KSCALES \
	ADD    $192, R0, R4;              \
	VLD1   (R4), [V19.B16];           \
	WORD $0x0f08a674 /* sxtl v20.8h, v19.8b */;       \
	WORD $0x4f08a675 /* sxtl2 v21.8h, v19.16b */;     \
	WORD $0x0f10a698 /* sxtl v24.4s, v20.4h */;       \
	WORD $0x4f10a699 /* sxtl2 v25.4s, v20.8h */;      \
	WORD $0x0f10a6ba /* sxtl v26.4s, v21.4h */;       \
	WORD $0x4f10a6bb /* sxtl2 v27.4s, v21.8h */;      \
	MOVHU  208(R0), R4;               \
	VMOV   R4, V29.H[0];              \
	FCVTHS F29, F29


// func q6_Kx4DotProd(w, x0, x1, x2, x3 *byte, nblocks int, acc *[4][8]float32)
TEXT ·q6_Kx4DotProd(SB), NOSPLIT, $0-56
	MOVD  w+0(FP), R0
	MOVD  x0+8(FP), R11
	MOVD  x1+16(FP), R12
	MOVD  x2+24(FP), R13
	MOVD  x3+32(FP), R14
	MOVD  nblocks+40(FP), R2
	MOVD  acc+48(FP), R3
	VMOVI $15, V31.B16
	VMOVI $3, V30.B16

q6kx4dotprodloop:
	Q6KSCALES
	Q6KSTART(R11, 0x4ea9bd0c, 0x4ea9bd0d, 0x4f25558c, 0x4f2555ad, 0x6ea0b98c, 0x6ea0b9ad) // = addp v12.4s, v8.4s, v9.4s; addp v13.4s, v8.4s, v9.4s; shl v12.4s, v12.4s, #5; shl v13.4s, v13.4s, #5; neg v12.4s, v12.4s; neg v13.4s, v13.4s
	Q6KSTART(R12, 0x4ea9bd0e, 0x4ea9bd0f, 0x4f2555ce, 0x4f2555ef, 0x6ea0b9ce, 0x6ea0b9ef) // = addp v14.4s, v8.4s, v9.4s; addp v15.4s, v8.4s, v9.4s; shl v14.4s, v14.4s, #5; shl v15.4s, v15.4s, #5; neg v14.4s, v14.4s; neg v15.4s, v15.4s
	Q6KSTART(R13, 0x4ea9bd12, 0x4ea9bd16, 0x4f255652, 0x4f2556d6, 0x6ea0ba52, 0x6ea0bad6) // = addp v18.4s, v8.4s, v9.4s; addp v22.4s, v8.4s, v9.4s; shl v18.4s, v18.4s, #5; shl v22.4s, v22.4s, #5; neg v18.4s, v18.4s; neg v22.4s, v22.4s
	Q6KSTART(R14, 0x4ea9bd17, 0x4ea9bd1c, 0x4f2556f7, 0x4f25579c, 0x6ea0baf7, 0x6ea0bb9c) // = addp v23.4s, v8.4s, v9.4s; addp v28.4s, v8.4s, v9.4s; shl v23.4s, v23.4s, #5; shl v28.4s, v28.4s, #5; neg v23.4s, v23.4s; neg v28.4s, v28.4s
	MOVD  R0, R5
	ADD   $128, R0, R6
	Q6KLOAD
	VAND   V31.B16, V0.B16, V6.B16
	VAND   V31.B16, V1.B16, V7.B16
	Q6KHIGH0
	Q6KROW(4, R11, 0x6f98010c, 0x6fb8012d) // = mla v12.4s, v8.4s, v24.s[0]; mla v13.4s, v9.4s, v24.s[1]
	Q6KROW(4, R12, 0x6f98010e, 0x6fb8012f) // = mla v14.4s, v8.4s, v24.s[0]; mla v15.4s, v9.4s, v24.s[1]
	Q6KROW(4, R13, 0x6f980112, 0x6fb80136) // = mla v18.4s, v8.4s, v24.s[0]; mla v22.4s, v9.4s, v24.s[1]
	Q6KROW(4, R14, 0x6f980117, 0x6fb8013c) // = mla v23.4s, v8.4s, v24.s[0]; mla v28.4s, v9.4s, v24.s[1]
	VAND   V31.B16, V2.B16, V6.B16
	VAND   V31.B16, V3.B16, V7.B16
	Q6KHIGH(2)
	Q6KROW(36, R11, 0x6f98090c, 0x6fb8092d) // = mla v12.4s, v8.4s, v24.s[2]; mla v13.4s, v9.4s, v24.s[3]
	Q6KROW(36, R12, 0x6f98090e, 0x6fb8092f) // = mla v14.4s, v8.4s, v24.s[2]; mla v15.4s, v9.4s, v24.s[3]
	Q6KROW(36, R13, 0x6f980912, 0x6fb80936) // = mla v18.4s, v8.4s, v24.s[2]; mla v22.4s, v9.4s, v24.s[3]
	Q6KROW(36, R14, 0x6f980917, 0x6fb8093c) // = mla v23.4s, v8.4s, v24.s[2]; mla v28.4s, v9.4s, v24.s[3]
	VUSHR  $4, V0.B16, V6.B16
	VUSHR  $4, V1.B16, V7.B16
	Q6KHIGH(4)
	Q6KROW(68, R11, 0x6f99010c, 0x6fb9012d) // = mla v12.4s, v8.4s, v25.s[0]; mla v13.4s, v9.4s, v25.s[1]
	Q6KROW(68, R12, 0x6f99010e, 0x6fb9012f) // = mla v14.4s, v8.4s, v25.s[0]; mla v15.4s, v9.4s, v25.s[1]
	Q6KROW(68, R13, 0x6f990112, 0x6fb90136) // = mla v18.4s, v8.4s, v25.s[0]; mla v22.4s, v9.4s, v25.s[1]
	Q6KROW(68, R14, 0x6f990117, 0x6fb9013c) // = mla v23.4s, v8.4s, v25.s[0]; mla v28.4s, v9.4s, v25.s[1]
	VUSHR  $4, V2.B16, V6.B16
	VUSHR  $4, V3.B16, V7.B16
	Q6KHIGH(6)
	Q6KROW(100, R11, 0x6f99090c, 0x6fb9092d) // = mla v12.4s, v8.4s, v25.s[2]; mla v13.4s, v9.4s, v25.s[3]
	Q6KROW(100, R12, 0x6f99090e, 0x6fb9092f) // = mla v14.4s, v8.4s, v25.s[2]; mla v15.4s, v9.4s, v25.s[3]
	Q6KROW(100, R13, 0x6f990912, 0x6fb90936) // = mla v18.4s, v8.4s, v25.s[2]; mla v22.4s, v9.4s, v25.s[3]
	Q6KROW(100, R14, 0x6f990917, 0x6fb9093c) // = mla v23.4s, v8.4s, v25.s[2]; mla v28.4s, v9.4s, v25.s[3]
	Q6KLOAD
	VAND   V31.B16, V0.B16, V6.B16
	VAND   V31.B16, V1.B16, V7.B16
	Q6KHIGH0
	Q6KROW(132, R11, 0x6f9a010c, 0x6fba012d) // = mla v12.4s, v8.4s, v26.s[0]; mla v13.4s, v9.4s, v26.s[1]
	Q6KROW(132, R12, 0x6f9a010e, 0x6fba012f) // = mla v14.4s, v8.4s, v26.s[0]; mla v15.4s, v9.4s, v26.s[1]
	Q6KROW(132, R13, 0x6f9a0112, 0x6fba0136) // = mla v18.4s, v8.4s, v26.s[0]; mla v22.4s, v9.4s, v26.s[1]
	Q6KROW(132, R14, 0x6f9a0117, 0x6fba013c) // = mla v23.4s, v8.4s, v26.s[0]; mla v28.4s, v9.4s, v26.s[1]
	VAND   V31.B16, V2.B16, V6.B16
	VAND   V31.B16, V3.B16, V7.B16
	Q6KHIGH(2)
	Q6KROW(164, R11, 0x6f9a090c, 0x6fba092d) // = mla v12.4s, v8.4s, v26.s[2]; mla v13.4s, v9.4s, v26.s[3]
	Q6KROW(164, R12, 0x6f9a090e, 0x6fba092f) // = mla v14.4s, v8.4s, v26.s[2]; mla v15.4s, v9.4s, v26.s[3]
	Q6KROW(164, R13, 0x6f9a0912, 0x6fba0936) // = mla v18.4s, v8.4s, v26.s[2]; mla v22.4s, v9.4s, v26.s[3]
	Q6KROW(164, R14, 0x6f9a0917, 0x6fba093c) // = mla v23.4s, v8.4s, v26.s[2]; mla v28.4s, v9.4s, v26.s[3]
	VUSHR  $4, V0.B16, V6.B16
	VUSHR  $4, V1.B16, V7.B16
	Q6KHIGH(4)
	Q6KROW(196, R11, 0x6f9b010c, 0x6fbb012d) // = mla v12.4s, v8.4s, v27.s[0]; mla v13.4s, v9.4s, v27.s[1]
	Q6KROW(196, R12, 0x6f9b010e, 0x6fbb012f) // = mla v14.4s, v8.4s, v27.s[0]; mla v15.4s, v9.4s, v27.s[1]
	Q6KROW(196, R13, 0x6f9b0112, 0x6fbb0136) // = mla v18.4s, v8.4s, v27.s[0]; mla v22.4s, v9.4s, v27.s[1]
	Q6KROW(196, R14, 0x6f9b0117, 0x6fbb013c) // = mla v23.4s, v8.4s, v27.s[0]; mla v28.4s, v9.4s, v27.s[1]
	VUSHR  $4, V2.B16, V6.B16
	VUSHR  $4, V3.B16, V7.B16
	Q6KHIGH(6)
	Q6KROW(228, R11, 0x6f9b090c, 0x6fbb092d) // = mla v12.4s, v8.4s, v27.s[2]; mla v13.4s, v9.4s, v27.s[3]
	Q6KROW(228, R12, 0x6f9b090e, 0x6fbb092f) // = mla v14.4s, v8.4s, v27.s[2]; mla v15.4s, v9.4s, v27.s[3]
	Q6KROW(228, R13, 0x6f9b0912, 0x6fbb0936) // = mla v18.4s, v8.4s, v27.s[2]; mla v22.4s, v9.4s, v27.s[3]
	Q6KROW(228, R14, 0x6f9b0917, 0x6fbb093c) // = mla v23.4s, v8.4s, v27.s[2]; mla v28.4s, v9.4s, v27.s[3]
	KLANES(R11, 0, F29, 0x4e21d98c, 0x4e21d9ad, 0x4f981188, 0x4f9811a9) // = scvtf v12.4s, v12.4s; scvtf v13.4s, v13.4s; fmla v8.4s, v12.4s, v24.s[0]; fmla v9.4s, v13.4s, v24.s[0]
	KLANES(R12, 32, F29, 0x4e21d9ce, 0x4e21d9ef, 0x4f9811c8, 0x4f9811e9) // = scvtf v14.4s, v14.4s; scvtf v15.4s, v15.4s; fmla v8.4s, v14.4s, v24.s[0]; fmla v9.4s, v15.4s, v24.s[0]
	KLANES(R13, 64, F29, 0x4e21da52, 0x4e21dad6, 0x4f981248, 0x4f9812c9) // = scvtf v18.4s, v18.4s; scvtf v22.4s, v22.4s; fmla v8.4s, v18.4s, v24.s[0]; fmla v9.4s, v22.4s, v24.s[0]
	KLANES(R14, 96, F29, 0x4e21daf7, 0x4e21db9c, 0x4f9812e8, 0x4f981389) // = scvtf v23.4s, v23.4s; scvtf v28.4s, v28.4s; fmla v8.4s, v23.4s, v24.s[0]; fmla v9.4s, v28.4s, v24.s[0]

	ADD  $210, R0
	ADD  $292, R11
	ADD  $292, R12
	ADD  $292, R13
	ADD  $292, R14
	SUBS $1, R2, R2
	BNE  q6kx4dotprodloop
	RET

// func q6_Kx2DotProd(w, x0, x1 *byte, nblocks int, acc *[2][8]float32)
TEXT ·q6_Kx2DotProd(SB), NOSPLIT, $0-40
	MOVD  w+0(FP), R0
	MOVD  x0+8(FP), R11
	MOVD  x1+16(FP), R12
	MOVD  nblocks+24(FP), R2
	MOVD  acc+32(FP), R3
	VMOVI $15, V31.B16
	VMOVI $3, V30.B16

q6kx2dotprodloop:
	Q6KSCALES
	Q6KSTART(R11, 0x4ea9bd0c, 0x4ea9bd0d, 0x4f25558c, 0x4f2555ad, 0x6ea0b98c, 0x6ea0b9ad) // = addp v12.4s, v8.4s, v9.4s; addp v13.4s, v8.4s, v9.4s; shl v12.4s, v12.4s, #5; shl v13.4s, v13.4s, #5; neg v12.4s, v12.4s; neg v13.4s, v13.4s
	Q6KSTART(R12, 0x4ea9bd0e, 0x4ea9bd0f, 0x4f2555ce, 0x4f2555ef, 0x6ea0b9ce, 0x6ea0b9ef) // = addp v14.4s, v8.4s, v9.4s; addp v15.4s, v8.4s, v9.4s; shl v14.4s, v14.4s, #5; shl v15.4s, v15.4s, #5; neg v14.4s, v14.4s; neg v15.4s, v15.4s
	MOVD  R0, R5
	ADD   $128, R0, R6
	Q6KLOAD
	VAND   V31.B16, V0.B16, V6.B16
	VAND   V31.B16, V1.B16, V7.B16
	Q6KHIGH0
	Q6KROW(4, R11, 0x6f98010c, 0x6fb8012d) // = mla v12.4s, v8.4s, v24.s[0]; mla v13.4s, v9.4s, v24.s[1]
	Q6KROW(4, R12, 0x6f98010e, 0x6fb8012f) // = mla v14.4s, v8.4s, v24.s[0]; mla v15.4s, v9.4s, v24.s[1]
	VAND   V31.B16, V2.B16, V6.B16
	VAND   V31.B16, V3.B16, V7.B16
	Q6KHIGH(2)
	Q6KROW(36, R11, 0x6f98090c, 0x6fb8092d) // = mla v12.4s, v8.4s, v24.s[2]; mla v13.4s, v9.4s, v24.s[3]
	Q6KROW(36, R12, 0x6f98090e, 0x6fb8092f) // = mla v14.4s, v8.4s, v24.s[2]; mla v15.4s, v9.4s, v24.s[3]
	VUSHR  $4, V0.B16, V6.B16
	VUSHR  $4, V1.B16, V7.B16
	Q6KHIGH(4)
	Q6KROW(68, R11, 0x6f99010c, 0x6fb9012d) // = mla v12.4s, v8.4s, v25.s[0]; mla v13.4s, v9.4s, v25.s[1]
	Q6KROW(68, R12, 0x6f99010e, 0x6fb9012f) // = mla v14.4s, v8.4s, v25.s[0]; mla v15.4s, v9.4s, v25.s[1]
	VUSHR  $4, V2.B16, V6.B16
	VUSHR  $4, V3.B16, V7.B16
	Q6KHIGH(6)
	Q6KROW(100, R11, 0x6f99090c, 0x6fb9092d) // = mla v12.4s, v8.4s, v25.s[2]; mla v13.4s, v9.4s, v25.s[3]
	Q6KROW(100, R12, 0x6f99090e, 0x6fb9092f) // = mla v14.4s, v8.4s, v25.s[2]; mla v15.4s, v9.4s, v25.s[3]
	Q6KLOAD
	VAND   V31.B16, V0.B16, V6.B16
	VAND   V31.B16, V1.B16, V7.B16
	Q6KHIGH0
	Q6KROW(132, R11, 0x6f9a010c, 0x6fba012d) // = mla v12.4s, v8.4s, v26.s[0]; mla v13.4s, v9.4s, v26.s[1]
	Q6KROW(132, R12, 0x6f9a010e, 0x6fba012f) // = mla v14.4s, v8.4s, v26.s[0]; mla v15.4s, v9.4s, v26.s[1]
	VAND   V31.B16, V2.B16, V6.B16
	VAND   V31.B16, V3.B16, V7.B16
	Q6KHIGH(2)
	Q6KROW(164, R11, 0x6f9a090c, 0x6fba092d) // = mla v12.4s, v8.4s, v26.s[2]; mla v13.4s, v9.4s, v26.s[3]
	Q6KROW(164, R12, 0x6f9a090e, 0x6fba092f) // = mla v14.4s, v8.4s, v26.s[2]; mla v15.4s, v9.4s, v26.s[3]
	VUSHR  $4, V0.B16, V6.B16
	VUSHR  $4, V1.B16, V7.B16
	Q6KHIGH(4)
	Q6KROW(196, R11, 0x6f9b010c, 0x6fbb012d) // = mla v12.4s, v8.4s, v27.s[0]; mla v13.4s, v9.4s, v27.s[1]
	Q6KROW(196, R12, 0x6f9b010e, 0x6fbb012f) // = mla v14.4s, v8.4s, v27.s[0]; mla v15.4s, v9.4s, v27.s[1]
	VUSHR  $4, V2.B16, V6.B16
	VUSHR  $4, V3.B16, V7.B16
	Q6KHIGH(6)
	Q6KROW(228, R11, 0x6f9b090c, 0x6fbb092d) // = mla v12.4s, v8.4s, v27.s[2]; mla v13.4s, v9.4s, v27.s[3]
	Q6KROW(228, R12, 0x6f9b090e, 0x6fbb092f) // = mla v14.4s, v8.4s, v27.s[2]; mla v15.4s, v9.4s, v27.s[3]
	KLANES(R11, 0, F29, 0x4e21d98c, 0x4e21d9ad, 0x4f981188, 0x4f9811a9) // = scvtf v12.4s, v12.4s; scvtf v13.4s, v13.4s; fmla v8.4s, v12.4s, v24.s[0]; fmla v9.4s, v13.4s, v24.s[0]
	KLANES(R12, 32, F29, 0x4e21d9ce, 0x4e21d9ef, 0x4f9811c8, 0x4f9811e9) // = scvtf v14.4s, v14.4s; scvtf v15.4s, v15.4s; fmla v8.4s, v14.4s, v24.s[0]; fmla v9.4s, v15.4s, v24.s[0]

	ADD  $210, R0
	ADD  $292, R11
	ADD  $292, R12
	SUBS $1, R2, R2
	BNE  q6kx2dotprodloop
	RET
