//go:build !purego

#include "textflag.h"
#include "kquant_arm64.h"
#include "multirow_k_arm64.h"

// Multi-row Q2_K and Q3_K dot products with SDOT, as those of Q4_K in
// multirow_k_arm64.s (see there): each result equals q2_KDotProd's and
// q3_KDotProd's (kquant_arm64.s) bit for bit. The rows are R19…R22, their
// int32 lanes V12/V13, V14/V15, V2/V3, V22/V23.

// K16ROW adds to a row's int32 lanes the products of the 32 values V6, V7
// with the activations at off(xp), scaled by the MLA words (as KCHUNK16).
#define K16ROW(off, xp, mlalo, mlahi) \
	ADD  $off, xp, R7;                 \
	VLD1 (R7), [V16.B16, V17.B16];     \
	VEOR V8.B16, V8.B16, V8.B16;       \
	VEOR V9.B16, V9.B16, V9.B16;       \
	WORD $0x4e9094c8 /* sdot v8.4s, v6.16b, v16.16b */; \
	WORD $0x4e9194e9 /* sdot v9.4s, v7.16b, v17.16b */; \
	WORD $mlalo;                       \
	WORD $mlahi

// Q3KLOW sets V6 and V7 to the 2-bit values at bit sh of V0 and V1
// (Q3KLOW0: at bit 0).
#define Q3KLOW(sh) \
	VUSHR $sh, V0.B16, V6.B16;      \
	VUSHR $sh, V1.B16, V7.B16;      \
	VAND  V30.B16, V6.B16, V6.B16;  \
	VAND  V30.B16, V7.B16, V7.B16

#define Q3KLOW0 \
	VAND V30.B16, V0.B16, V6.B16; \
	VAND V30.B16, V1.B16, V7.B16

// Q3KHIGH adds 4 times bit b of the high-bit bytes V4, V5 to V6, V7 (V28
// holds 1 in every byte) and subtracts 4 (V31), as in kquant_arm64.s
// (Q3KHIGH0: bit 0).
#define Q3KHIGH(b) \
	VUSHR $b, V4.B16, V10.B16;      \
	VUSHR $b, V5.B16, V11.B16;      \
	Q3KHIGHREST

#define Q3KHIGH0 \
	VMOV V4.B16, V10.B16; \
	VMOV V5.B16, V11.B16; \
	Q3KHIGHREST

#define Q3KHIGHREST \
	VAND  V28.B16, V10.B16, V10.B16; \
	VAND  V28.B16, V11.B16, V11.B16; \
	VSHL  $2, V10.B16, V10.B16;      \
	VSHL  $2, V11.B16, V11.B16;      \
	VORR  V10.B16, V6.B16, V6.B16;   \
	VORR  V11.B16, V7.B16, V7.B16;   \
	VSUB  V31.B16, V6.B16, V6.B16;   \
	VSUB  V31.B16, V7.B16, V7.B16

// KSCALES16 widens the sixteen int8 scales in V19 to int16 in V20, V21
// and to int32 in V24…V27.
#define KSCALES16 \
	WORD $0x0f08a674 /* sxtl v20.8h, v19.8b */;   \
	WORD $0x4f08a675 /* sxtl2 v21.8h, v19.16b */; \
	WORD $0x0f10a698 /* sxtl v24.4s, v20.4h */;   \
	WORD $0x4f10a699 /* sxtl2 v25.4s, v20.8h */;  \
	WORD $0x0f10a6ba /* sxtl v26.4s, v21.4h */;   \
	WORD $0x4f10a6bb /* sxtl2 v27.4s, v21.8h */

// Q3KSCALES sets V19 to the sixteen 6-bit scales - 32 of the Q3_K block
// at R0, as ggml's scales128 (V18 holds 32 in every byte); R4…R6, R8…R10
// and R15…R17 are clobbered.
#define Q3KSCALES \
	MOVWU 96(R0), R4;         \
	MOVWU 100(R0), R5;        \
	MOVWU 104(R0), R6;        \
	ANDW  $0x0f0f0f0f, R4, R8; \
	ANDW  $0x03030303, R6, R9; \
	ORRW  R9<<4, R8;          \
	ANDW  $0x0f0f0f0f, R5, R10; \
	LSRW  $2, R6, R9;         \
	ANDW  $0x03030303, R9;    \
	ORRW  R9<<4, R10;         \
	LSRW  $4, R4, R15;        \
	ANDW  $0x0f0f0f0f, R15;   \
	LSRW  $4, R6, R9;         \
	ANDW  $0x03030303, R9;    \
	ORRW  R9<<4, R15;         \
	LSRW  $4, R5, R16;        \
	ANDW  $0x0f0f0f0f, R16;   \
	LSRW  $6, R6, R9;         \
	ANDW  $0x03030303, R9;    \
	ORRW  R9<<4, R16;         \
	VMOV  R8, V19.S[0];       \
	VMOV  R10, V19.S[1];      \
	VMOV  R15, V19.S[2];      \
	VMOV  R16, V19.S[3];      \
	VSUB  V18.B16, V19.B16, V19.B16

// Q2KMIN takes dmin·(mins·bsums) of row xp off its eight float32 lanes at
// off(R3), as q2_KDotProd does first: V20, V21 hold the minimums as
// int16, F25 the weights' float dmin.
#define Q2KMIN(xp, off) \
	ADD   $260, xp, R7;                \
	VLD1  (R7), [V16.H8, V17.H8];      \
	WORD $0x0e74c208 /* smull v8.4s, v16.4h, v20.4h */;  \
	WORD $0x4e74c209 /* smull2 v9.4s, v16.8h, v20.8h */; \
	WORD $0x4ea9bd1c /* addp v28.4s, v8.4s, v9.4s */;    \
	WORD $0x0e75c228 /* smull v8.4s, v17.4h, v21.4h */;  \
	WORD $0x4e75c229 /* smull2 v9.4s, v17.8h, v21.8h */; \
	WORD $0x4ea9bd1d /* addp v29.4s, v8.4s, v9.4s */;    \
	WORD $0x4e21db9c /* scvtf v28.4s, v28.4s */;         \
	WORD $0x4e21dbbd /* scvtf v29.4s, v29.4s */;         \
	FMOVS (xp), F22;                   \
	FMULS F25, F22, F18;               \
	ADD   $off, R3, R7;                \
	VLD1  (R7), [V8.S4, V9.S4];        \
	WORD $0x4f925388 /* fmls v8.4s, v28.4s, v18.s[0] */; \
	WORD $0x4f9253a9 /* fmls v9.4s, v29.4s, v18.s[0] */; \
	VST1  [V8.S4, V9.S4], (R7)


// func q2_Kx4DotProd(w, x0, x1, x2, x3 *byte, nblocks int, acc *[4][8]float32)
TEXT ·q2_Kx4DotProd(SB), NOSPLIT, $0-56
	MOVD  w+0(FP), R0
	MOVD  x0+8(FP), R19
	MOVD  x1+16(FP), R20
	MOVD  x2+24(FP), R21
	MOVD  x3+32(FP), R22
	MOVD  nblocks+40(FP), R2
	MOVD  acc+48(FP), R3
	VMOVI $3, V30.B16
	VMOVI $15, V31.B16

q2kx4dotprodloop:
	VLD1  (R0), [V19.B16]
	VUSHR $4, V19.B16, V18.B16
	VAND  V31.B16, V19.B16, V19.B16
	WORD $0x2f08a654 /* uxtl v20.8h, v18.8b */
	WORD $0x6f08a655 /* uxtl2 v21.8h, v18.16b */
	MOVHU  82(R0), R4
	VMOV   R4, V25.H[0]
	FCVTHS F25, F25
	Q2KMIN(R19, 0)
	Q2KMIN(R20, 32)
	Q2KMIN(R21, 64)
	Q2KMIN(R22, 96)
	KSCALES16
	ADD   $16, R0, R5
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	VEOR V14.B16, V14.B16, V14.B16
	VEOR V15.B16, V15.B16, V15.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	VEOR V22.B16, V22.B16, V22.B16
	VEOR V23.B16, V23.B16, V23.B16
	VLD1.P 32(R5), [V0.B16, V1.B16]
	Q3KLOW0
	K16ROW(4, R19, 0x6f98010c, 0x6fb8012d) // = mla v12.4s, v8.4s, v24.s[0]; mla v13.4s, v9.4s, v24.s[1]
	K16ROW(4, R20, 0x6f98010e, 0x6fb8012f) // = mla v14.4s, v8.4s, v24.s[0]; mla v15.4s, v9.4s, v24.s[1]
	K16ROW(4, R21, 0x6f980102, 0x6fb80123) // = mla v2.4s, v8.4s, v24.s[0]; mla v3.4s, v9.4s, v24.s[1]
	K16ROW(4, R22, 0x6f980116, 0x6fb80137) // = mla v22.4s, v8.4s, v24.s[0]; mla v23.4s, v9.4s, v24.s[1]
	Q3KLOW(2)
	K16ROW(36, R19, 0x6f98090c, 0x6fb8092d) // = mla v12.4s, v8.4s, v24.s[2]; mla v13.4s, v9.4s, v24.s[3]
	K16ROW(36, R20, 0x6f98090e, 0x6fb8092f) // = mla v14.4s, v8.4s, v24.s[2]; mla v15.4s, v9.4s, v24.s[3]
	K16ROW(36, R21, 0x6f980902, 0x6fb80923) // = mla v2.4s, v8.4s, v24.s[2]; mla v3.4s, v9.4s, v24.s[3]
	K16ROW(36, R22, 0x6f980916, 0x6fb80937) // = mla v22.4s, v8.4s, v24.s[2]; mla v23.4s, v9.4s, v24.s[3]
	Q3KLOW(4)
	K16ROW(68, R19, 0x6f99010c, 0x6fb9012d) // = mla v12.4s, v8.4s, v25.s[0]; mla v13.4s, v9.4s, v25.s[1]
	K16ROW(68, R20, 0x6f99010e, 0x6fb9012f) // = mla v14.4s, v8.4s, v25.s[0]; mla v15.4s, v9.4s, v25.s[1]
	K16ROW(68, R21, 0x6f990102, 0x6fb90123) // = mla v2.4s, v8.4s, v25.s[0]; mla v3.4s, v9.4s, v25.s[1]
	K16ROW(68, R22, 0x6f990116, 0x6fb90137) // = mla v22.4s, v8.4s, v25.s[0]; mla v23.4s, v9.4s, v25.s[1]
	Q3KLOW(6)
	K16ROW(100, R19, 0x6f99090c, 0x6fb9092d) // = mla v12.4s, v8.4s, v25.s[2]; mla v13.4s, v9.4s, v25.s[3]
	K16ROW(100, R20, 0x6f99090e, 0x6fb9092f) // = mla v14.4s, v8.4s, v25.s[2]; mla v15.4s, v9.4s, v25.s[3]
	K16ROW(100, R21, 0x6f990902, 0x6fb90923) // = mla v2.4s, v8.4s, v25.s[2]; mla v3.4s, v9.4s, v25.s[3]
	K16ROW(100, R22, 0x6f990916, 0x6fb90937) // = mla v22.4s, v8.4s, v25.s[2]; mla v23.4s, v9.4s, v25.s[3]
	VLD1.P 32(R5), [V0.B16, V1.B16]
	Q3KLOW0
	K16ROW(132, R19, 0x6f9a010c, 0x6fba012d) // = mla v12.4s, v8.4s, v26.s[0]; mla v13.4s, v9.4s, v26.s[1]
	K16ROW(132, R20, 0x6f9a010e, 0x6fba012f) // = mla v14.4s, v8.4s, v26.s[0]; mla v15.4s, v9.4s, v26.s[1]
	K16ROW(132, R21, 0x6f9a0102, 0x6fba0123) // = mla v2.4s, v8.4s, v26.s[0]; mla v3.4s, v9.4s, v26.s[1]
	K16ROW(132, R22, 0x6f9a0116, 0x6fba0137) // = mla v22.4s, v8.4s, v26.s[0]; mla v23.4s, v9.4s, v26.s[1]
	Q3KLOW(2)
	K16ROW(164, R19, 0x6f9a090c, 0x6fba092d) // = mla v12.4s, v8.4s, v26.s[2]; mla v13.4s, v9.4s, v26.s[3]
	K16ROW(164, R20, 0x6f9a090e, 0x6fba092f) // = mla v14.4s, v8.4s, v26.s[2]; mla v15.4s, v9.4s, v26.s[3]
	K16ROW(164, R21, 0x6f9a0902, 0x6fba0923) // = mla v2.4s, v8.4s, v26.s[2]; mla v3.4s, v9.4s, v26.s[3]
	K16ROW(164, R22, 0x6f9a0916, 0x6fba0937) // = mla v22.4s, v8.4s, v26.s[2]; mla v23.4s, v9.4s, v26.s[3]
	Q3KLOW(4)
	K16ROW(196, R19, 0x6f9b010c, 0x6fbb012d) // = mla v12.4s, v8.4s, v27.s[0]; mla v13.4s, v9.4s, v27.s[1]
	K16ROW(196, R20, 0x6f9b010e, 0x6fbb012f) // = mla v14.4s, v8.4s, v27.s[0]; mla v15.4s, v9.4s, v27.s[1]
	K16ROW(196, R21, 0x6f9b0102, 0x6fbb0123) // = mla v2.4s, v8.4s, v27.s[0]; mla v3.4s, v9.4s, v27.s[1]
	K16ROW(196, R22, 0x6f9b0116, 0x6fbb0137) // = mla v22.4s, v8.4s, v27.s[0]; mla v23.4s, v9.4s, v27.s[1]
	Q3KLOW(6)
	K16ROW(228, R19, 0x6f9b090c, 0x6fbb092d) // = mla v12.4s, v8.4s, v27.s[2]; mla v13.4s, v9.4s, v27.s[3]
	K16ROW(228, R20, 0x6f9b090e, 0x6fbb092f) // = mla v14.4s, v8.4s, v27.s[2]; mla v15.4s, v9.4s, v27.s[3]
	K16ROW(228, R21, 0x6f9b0902, 0x6fbb0923) // = mla v2.4s, v8.4s, v27.s[2]; mla v3.4s, v9.4s, v27.s[3]
	K16ROW(228, R22, 0x6f9b0916, 0x6fbb0937) // = mla v22.4s, v8.4s, v27.s[2]; mla v23.4s, v9.4s, v27.s[3]
	MOVHU  80(R0), R4
	VMOV   R4, V29.H[0]
	FCVTHS F29, F29
	KLANES(R19, 0, F29, 0x4e21d98c, 0x4e21d9ad, 0x4f981188, 0x4f9811a9) // = scvtf v12.4s, v12.4s; scvtf v13.4s, v13.4s; fmla v8.4s, v12.4s, v24.s[0]; fmla v9.4s, v13.4s, v24.s[0]
	KLANES(R20, 32, F29, 0x4e21d9ce, 0x4e21d9ef, 0x4f9811c8, 0x4f9811e9) // = scvtf v14.4s, v14.4s; scvtf v15.4s, v15.4s; fmla v8.4s, v14.4s, v24.s[0]; fmla v9.4s, v15.4s, v24.s[0]
	KLANES(R21, 64, F29, 0x4e21d842, 0x4e21d863, 0x4f981048, 0x4f981069) // = scvtf v2.4s, v2.4s; scvtf v3.4s, v3.4s; fmla v8.4s, v2.4s, v24.s[0]; fmla v9.4s, v3.4s, v24.s[0]
	KLANES(R22, 96, F29, 0x4e21dad6, 0x4e21daf7, 0x4f9812c8, 0x4f9812e9) // = scvtf v22.4s, v22.4s; scvtf v23.4s, v23.4s; fmla v8.4s, v22.4s, v24.s[0]; fmla v9.4s, v23.4s, v24.s[0]

	ADD  $84, R0
	ADD  $292, R19
	ADD  $292, R20
	ADD  $292, R21
	ADD  $292, R22
	SUBS $1, R2, R2
	BNE  q2kx4dotprodloop
	RET

// func q2_Kx2DotProd(w, x0, x1 *byte, nblocks int, acc *[2][8]float32)
TEXT ·q2_Kx2DotProd(SB), NOSPLIT, $0-40
	MOVD  w+0(FP), R0
	MOVD  x0+8(FP), R19
	MOVD  x1+16(FP), R20
	MOVD  nblocks+24(FP), R2
	MOVD  acc+32(FP), R3
	VMOVI $3, V30.B16
	VMOVI $15, V31.B16

q2kx2dotprodloop:
	VLD1  (R0), [V19.B16]
	VUSHR $4, V19.B16, V18.B16
	VAND  V31.B16, V19.B16, V19.B16
	WORD $0x2f08a654 /* uxtl v20.8h, v18.8b */
	WORD $0x6f08a655 /* uxtl2 v21.8h, v18.16b */
	MOVHU  82(R0), R4
	VMOV   R4, V25.H[0]
	FCVTHS F25, F25
	Q2KMIN(R19, 0)
	Q2KMIN(R20, 32)
	KSCALES16
	ADD   $16, R0, R5
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	VEOR V14.B16, V14.B16, V14.B16
	VEOR V15.B16, V15.B16, V15.B16
	VLD1.P 32(R5), [V0.B16, V1.B16]
	Q3KLOW0
	K16ROW(4, R19, 0x6f98010c, 0x6fb8012d) // = mla v12.4s, v8.4s, v24.s[0]; mla v13.4s, v9.4s, v24.s[1]
	K16ROW(4, R20, 0x6f98010e, 0x6fb8012f) // = mla v14.4s, v8.4s, v24.s[0]; mla v15.4s, v9.4s, v24.s[1]
	Q3KLOW(2)
	K16ROW(36, R19, 0x6f98090c, 0x6fb8092d) // = mla v12.4s, v8.4s, v24.s[2]; mla v13.4s, v9.4s, v24.s[3]
	K16ROW(36, R20, 0x6f98090e, 0x6fb8092f) // = mla v14.4s, v8.4s, v24.s[2]; mla v15.4s, v9.4s, v24.s[3]
	Q3KLOW(4)
	K16ROW(68, R19, 0x6f99010c, 0x6fb9012d) // = mla v12.4s, v8.4s, v25.s[0]; mla v13.4s, v9.4s, v25.s[1]
	K16ROW(68, R20, 0x6f99010e, 0x6fb9012f) // = mla v14.4s, v8.4s, v25.s[0]; mla v15.4s, v9.4s, v25.s[1]
	Q3KLOW(6)
	K16ROW(100, R19, 0x6f99090c, 0x6fb9092d) // = mla v12.4s, v8.4s, v25.s[2]; mla v13.4s, v9.4s, v25.s[3]
	K16ROW(100, R20, 0x6f99090e, 0x6fb9092f) // = mla v14.4s, v8.4s, v25.s[2]; mla v15.4s, v9.4s, v25.s[3]
	VLD1.P 32(R5), [V0.B16, V1.B16]
	Q3KLOW0
	K16ROW(132, R19, 0x6f9a010c, 0x6fba012d) // = mla v12.4s, v8.4s, v26.s[0]; mla v13.4s, v9.4s, v26.s[1]
	K16ROW(132, R20, 0x6f9a010e, 0x6fba012f) // = mla v14.4s, v8.4s, v26.s[0]; mla v15.4s, v9.4s, v26.s[1]
	Q3KLOW(2)
	K16ROW(164, R19, 0x6f9a090c, 0x6fba092d) // = mla v12.4s, v8.4s, v26.s[2]; mla v13.4s, v9.4s, v26.s[3]
	K16ROW(164, R20, 0x6f9a090e, 0x6fba092f) // = mla v14.4s, v8.4s, v26.s[2]; mla v15.4s, v9.4s, v26.s[3]
	Q3KLOW(4)
	K16ROW(196, R19, 0x6f9b010c, 0x6fbb012d) // = mla v12.4s, v8.4s, v27.s[0]; mla v13.4s, v9.4s, v27.s[1]
	K16ROW(196, R20, 0x6f9b010e, 0x6fbb012f) // = mla v14.4s, v8.4s, v27.s[0]; mla v15.4s, v9.4s, v27.s[1]
	Q3KLOW(6)
	K16ROW(228, R19, 0x6f9b090c, 0x6fbb092d) // = mla v12.4s, v8.4s, v27.s[2]; mla v13.4s, v9.4s, v27.s[3]
	K16ROW(228, R20, 0x6f9b090e, 0x6fbb092f) // = mla v14.4s, v8.4s, v27.s[2]; mla v15.4s, v9.4s, v27.s[3]
	MOVHU  80(R0), R4
	VMOV   R4, V29.H[0]
	FCVTHS F29, F29
	KLANES(R19, 0, F29, 0x4e21d98c, 0x4e21d9ad, 0x4f981188, 0x4f9811a9) // = scvtf v12.4s, v12.4s; scvtf v13.4s, v13.4s; fmla v8.4s, v12.4s, v24.s[0]; fmla v9.4s, v13.4s, v24.s[0]
	KLANES(R20, 32, F29, 0x4e21d9ce, 0x4e21d9ef, 0x4f9811c8, 0x4f9811e9) // = scvtf v14.4s, v14.4s; scvtf v15.4s, v15.4s; fmla v8.4s, v14.4s, v24.s[0]; fmla v9.4s, v15.4s, v24.s[0]

	ADD  $84, R0
	ADD  $292, R19
	ADD  $292, R20
	SUBS $1, R2, R2
	BNE  q2kx2dotprodloop
	RET

// func q3_Kx4DotProd(w, x0, x1, x2, x3 *byte, nblocks int, acc *[4][8]float32)
TEXT ·q3_Kx4DotProd(SB), NOSPLIT, $0-56
	MOVD  w+0(FP), R0
	MOVD  x0+8(FP), R19
	MOVD  x1+16(FP), R20
	MOVD  x2+24(FP), R21
	MOVD  x3+32(FP), R22
	MOVD  nblocks+40(FP), R2
	MOVD  acc+48(FP), R3
	VMOVI $3, V30.B16
	VMOVI $1, V28.B16
	VMOVI $4, V31.B16

q3kx4dotprodloop:
	VMOVI $32, V18.B16
	Q3KSCALES
	KSCALES16
	VLD1  (R0), [V4.B16, V5.B16]
	ADD   $32, R0, R5
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	VEOR V14.B16, V14.B16, V14.B16
	VEOR V15.B16, V15.B16, V15.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	VEOR V22.B16, V22.B16, V22.B16
	VEOR V23.B16, V23.B16, V23.B16
	VLD1.P 32(R5), [V0.B16, V1.B16]
	Q3KLOW0
	Q3KHIGH0
	K16ROW(4, R19, 0x6f98010c, 0x6fb8012d) // = mla v12.4s, v8.4s, v24.s[0]; mla v13.4s, v9.4s, v24.s[1]
	K16ROW(4, R20, 0x6f98010e, 0x6fb8012f) // = mla v14.4s, v8.4s, v24.s[0]; mla v15.4s, v9.4s, v24.s[1]
	K16ROW(4, R21, 0x6f980102, 0x6fb80123) // = mla v2.4s, v8.4s, v24.s[0]; mla v3.4s, v9.4s, v24.s[1]
	K16ROW(4, R22, 0x6f980116, 0x6fb80137) // = mla v22.4s, v8.4s, v24.s[0]; mla v23.4s, v9.4s, v24.s[1]
	Q3KLOW(2)
	Q3KHIGH(1)
	K16ROW(36, R19, 0x6f98090c, 0x6fb8092d) // = mla v12.4s, v8.4s, v24.s[2]; mla v13.4s, v9.4s, v24.s[3]
	K16ROW(36, R20, 0x6f98090e, 0x6fb8092f) // = mla v14.4s, v8.4s, v24.s[2]; mla v15.4s, v9.4s, v24.s[3]
	K16ROW(36, R21, 0x6f980902, 0x6fb80923) // = mla v2.4s, v8.4s, v24.s[2]; mla v3.4s, v9.4s, v24.s[3]
	K16ROW(36, R22, 0x6f980916, 0x6fb80937) // = mla v22.4s, v8.4s, v24.s[2]; mla v23.4s, v9.4s, v24.s[3]
	Q3KLOW(4)
	Q3KHIGH(2)
	K16ROW(68, R19, 0x6f99010c, 0x6fb9012d) // = mla v12.4s, v8.4s, v25.s[0]; mla v13.4s, v9.4s, v25.s[1]
	K16ROW(68, R20, 0x6f99010e, 0x6fb9012f) // = mla v14.4s, v8.4s, v25.s[0]; mla v15.4s, v9.4s, v25.s[1]
	K16ROW(68, R21, 0x6f990102, 0x6fb90123) // = mla v2.4s, v8.4s, v25.s[0]; mla v3.4s, v9.4s, v25.s[1]
	K16ROW(68, R22, 0x6f990116, 0x6fb90137) // = mla v22.4s, v8.4s, v25.s[0]; mla v23.4s, v9.4s, v25.s[1]
	Q3KLOW(6)
	Q3KHIGH(3)
	K16ROW(100, R19, 0x6f99090c, 0x6fb9092d) // = mla v12.4s, v8.4s, v25.s[2]; mla v13.4s, v9.4s, v25.s[3]
	K16ROW(100, R20, 0x6f99090e, 0x6fb9092f) // = mla v14.4s, v8.4s, v25.s[2]; mla v15.4s, v9.4s, v25.s[3]
	K16ROW(100, R21, 0x6f990902, 0x6fb90923) // = mla v2.4s, v8.4s, v25.s[2]; mla v3.4s, v9.4s, v25.s[3]
	K16ROW(100, R22, 0x6f990916, 0x6fb90937) // = mla v22.4s, v8.4s, v25.s[2]; mla v23.4s, v9.4s, v25.s[3]
	VLD1.P 32(R5), [V0.B16, V1.B16]
	Q3KLOW0
	Q3KHIGH(4)
	K16ROW(132, R19, 0x6f9a010c, 0x6fba012d) // = mla v12.4s, v8.4s, v26.s[0]; mla v13.4s, v9.4s, v26.s[1]
	K16ROW(132, R20, 0x6f9a010e, 0x6fba012f) // = mla v14.4s, v8.4s, v26.s[0]; mla v15.4s, v9.4s, v26.s[1]
	K16ROW(132, R21, 0x6f9a0102, 0x6fba0123) // = mla v2.4s, v8.4s, v26.s[0]; mla v3.4s, v9.4s, v26.s[1]
	K16ROW(132, R22, 0x6f9a0116, 0x6fba0137) // = mla v22.4s, v8.4s, v26.s[0]; mla v23.4s, v9.4s, v26.s[1]
	Q3KLOW(2)
	Q3KHIGH(5)
	K16ROW(164, R19, 0x6f9a090c, 0x6fba092d) // = mla v12.4s, v8.4s, v26.s[2]; mla v13.4s, v9.4s, v26.s[3]
	K16ROW(164, R20, 0x6f9a090e, 0x6fba092f) // = mla v14.4s, v8.4s, v26.s[2]; mla v15.4s, v9.4s, v26.s[3]
	K16ROW(164, R21, 0x6f9a0902, 0x6fba0923) // = mla v2.4s, v8.4s, v26.s[2]; mla v3.4s, v9.4s, v26.s[3]
	K16ROW(164, R22, 0x6f9a0916, 0x6fba0937) // = mla v22.4s, v8.4s, v26.s[2]; mla v23.4s, v9.4s, v26.s[3]
	Q3KLOW(4)
	Q3KHIGH(6)
	K16ROW(196, R19, 0x6f9b010c, 0x6fbb012d) // = mla v12.4s, v8.4s, v27.s[0]; mla v13.4s, v9.4s, v27.s[1]
	K16ROW(196, R20, 0x6f9b010e, 0x6fbb012f) // = mla v14.4s, v8.4s, v27.s[0]; mla v15.4s, v9.4s, v27.s[1]
	K16ROW(196, R21, 0x6f9b0102, 0x6fbb0123) // = mla v2.4s, v8.4s, v27.s[0]; mla v3.4s, v9.4s, v27.s[1]
	K16ROW(196, R22, 0x6f9b0116, 0x6fbb0137) // = mla v22.4s, v8.4s, v27.s[0]; mla v23.4s, v9.4s, v27.s[1]
	Q3KLOW(6)
	Q3KHIGH(7)
	K16ROW(228, R19, 0x6f9b090c, 0x6fbb092d) // = mla v12.4s, v8.4s, v27.s[2]; mla v13.4s, v9.4s, v27.s[3]
	K16ROW(228, R20, 0x6f9b090e, 0x6fbb092f) // = mla v14.4s, v8.4s, v27.s[2]; mla v15.4s, v9.4s, v27.s[3]
	K16ROW(228, R21, 0x6f9b0902, 0x6fbb0923) // = mla v2.4s, v8.4s, v27.s[2]; mla v3.4s, v9.4s, v27.s[3]
	K16ROW(228, R22, 0x6f9b0916, 0x6fbb0937) // = mla v22.4s, v8.4s, v27.s[2]; mla v23.4s, v9.4s, v27.s[3]
	MOVHU  108(R0), R4
	VMOV   R4, V29.H[0]
	FCVTHS F29, F29
	KLANES(R19, 0, F29, 0x4e21d98c, 0x4e21d9ad, 0x4f981188, 0x4f9811a9) // = scvtf v12.4s, v12.4s; scvtf v13.4s, v13.4s; fmla v8.4s, v12.4s, v24.s[0]; fmla v9.4s, v13.4s, v24.s[0]
	KLANES(R20, 32, F29, 0x4e21d9ce, 0x4e21d9ef, 0x4f9811c8, 0x4f9811e9) // = scvtf v14.4s, v14.4s; scvtf v15.4s, v15.4s; fmla v8.4s, v14.4s, v24.s[0]; fmla v9.4s, v15.4s, v24.s[0]
	KLANES(R21, 64, F29, 0x4e21d842, 0x4e21d863, 0x4f981048, 0x4f981069) // = scvtf v2.4s, v2.4s; scvtf v3.4s, v3.4s; fmla v8.4s, v2.4s, v24.s[0]; fmla v9.4s, v3.4s, v24.s[0]
	KLANES(R22, 96, F29, 0x4e21dad6, 0x4e21daf7, 0x4f9812c8, 0x4f9812e9) // = scvtf v22.4s, v22.4s; scvtf v23.4s, v23.4s; fmla v8.4s, v22.4s, v24.s[0]; fmla v9.4s, v23.4s, v24.s[0]

	ADD  $110, R0
	ADD  $292, R19
	ADD  $292, R20
	ADD  $292, R21
	ADD  $292, R22
	SUBS $1, R2, R2
	BNE  q3kx4dotprodloop
	RET

// func q3_Kx2DotProd(w, x0, x1 *byte, nblocks int, acc *[2][8]float32)
TEXT ·q3_Kx2DotProd(SB), NOSPLIT, $0-40
	MOVD  w+0(FP), R0
	MOVD  x0+8(FP), R19
	MOVD  x1+16(FP), R20
	MOVD  nblocks+24(FP), R2
	MOVD  acc+32(FP), R3
	VMOVI $3, V30.B16
	VMOVI $1, V28.B16
	VMOVI $4, V31.B16

q3kx2dotprodloop:
	VMOVI $32, V18.B16
	Q3KSCALES
	KSCALES16
	VLD1  (R0), [V4.B16, V5.B16]
	ADD   $32, R0, R5
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	VEOR V14.B16, V14.B16, V14.B16
	VEOR V15.B16, V15.B16, V15.B16
	VLD1.P 32(R5), [V0.B16, V1.B16]
	Q3KLOW0
	Q3KHIGH0
	K16ROW(4, R19, 0x6f98010c, 0x6fb8012d) // = mla v12.4s, v8.4s, v24.s[0]; mla v13.4s, v9.4s, v24.s[1]
	K16ROW(4, R20, 0x6f98010e, 0x6fb8012f) // = mla v14.4s, v8.4s, v24.s[0]; mla v15.4s, v9.4s, v24.s[1]
	Q3KLOW(2)
	Q3KHIGH(1)
	K16ROW(36, R19, 0x6f98090c, 0x6fb8092d) // = mla v12.4s, v8.4s, v24.s[2]; mla v13.4s, v9.4s, v24.s[3]
	K16ROW(36, R20, 0x6f98090e, 0x6fb8092f) // = mla v14.4s, v8.4s, v24.s[2]; mla v15.4s, v9.4s, v24.s[3]
	Q3KLOW(4)
	Q3KHIGH(2)
	K16ROW(68, R19, 0x6f99010c, 0x6fb9012d) // = mla v12.4s, v8.4s, v25.s[0]; mla v13.4s, v9.4s, v25.s[1]
	K16ROW(68, R20, 0x6f99010e, 0x6fb9012f) // = mla v14.4s, v8.4s, v25.s[0]; mla v15.4s, v9.4s, v25.s[1]
	Q3KLOW(6)
	Q3KHIGH(3)
	K16ROW(100, R19, 0x6f99090c, 0x6fb9092d) // = mla v12.4s, v8.4s, v25.s[2]; mla v13.4s, v9.4s, v25.s[3]
	K16ROW(100, R20, 0x6f99090e, 0x6fb9092f) // = mla v14.4s, v8.4s, v25.s[2]; mla v15.4s, v9.4s, v25.s[3]
	VLD1.P 32(R5), [V0.B16, V1.B16]
	Q3KLOW0
	Q3KHIGH(4)
	K16ROW(132, R19, 0x6f9a010c, 0x6fba012d) // = mla v12.4s, v8.4s, v26.s[0]; mla v13.4s, v9.4s, v26.s[1]
	K16ROW(132, R20, 0x6f9a010e, 0x6fba012f) // = mla v14.4s, v8.4s, v26.s[0]; mla v15.4s, v9.4s, v26.s[1]
	Q3KLOW(2)
	Q3KHIGH(5)
	K16ROW(164, R19, 0x6f9a090c, 0x6fba092d) // = mla v12.4s, v8.4s, v26.s[2]; mla v13.4s, v9.4s, v26.s[3]
	K16ROW(164, R20, 0x6f9a090e, 0x6fba092f) // = mla v14.4s, v8.4s, v26.s[2]; mla v15.4s, v9.4s, v26.s[3]
	Q3KLOW(4)
	Q3KHIGH(6)
	K16ROW(196, R19, 0x6f9b010c, 0x6fbb012d) // = mla v12.4s, v8.4s, v27.s[0]; mla v13.4s, v9.4s, v27.s[1]
	K16ROW(196, R20, 0x6f9b010e, 0x6fbb012f) // = mla v14.4s, v8.4s, v27.s[0]; mla v15.4s, v9.4s, v27.s[1]
	Q3KLOW(6)
	Q3KHIGH(7)
	K16ROW(228, R19, 0x6f9b090c, 0x6fbb092d) // = mla v12.4s, v8.4s, v27.s[2]; mla v13.4s, v9.4s, v27.s[3]
	K16ROW(228, R20, 0x6f9b090e, 0x6fbb092f) // = mla v14.4s, v8.4s, v27.s[2]; mla v15.4s, v9.4s, v27.s[3]
	MOVHU  108(R0), R4
	VMOV   R4, V29.H[0]
	FCVTHS F29, F29
	KLANES(R19, 0, F29, 0x4e21d98c, 0x4e21d9ad, 0x4f981188, 0x4f9811a9) // = scvtf v12.4s, v12.4s; scvtf v13.4s, v13.4s; fmla v8.4s, v12.4s, v24.s[0]; fmla v9.4s, v13.4s, v24.s[0]
	KLANES(R20, 32, F29, 0x4e21d9ce, 0x4e21d9ef, 0x4f9811c8, 0x4f9811e9) // = scvtf v14.4s, v14.4s; scvtf v15.4s, v15.4s; fmla v8.4s, v14.4s, v24.s[0]; fmla v9.4s, v15.4s, v24.s[0]

	ADD  $110, R0
	ADD  $292, R19
	ADD  $292, R20
	SUBS $1, R2, R2
	BNE  q3kx2dotprodloop
	RET
