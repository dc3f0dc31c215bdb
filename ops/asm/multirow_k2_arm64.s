//go:build !purego

#include "textflag.h"
#include "kquant_arm64.h"
#include "multirow_k_arm64.h"

// Multi-row Q5_K and IQ4_XS dot products with SDOT, as those of Q4_K in
// multirow_k_arm64.s (see there): each result equals q5_KDotProd's and
// iq4_XSDotProd's (kquant_arm64.s) bit for bit. For Q5_K, row 3's int32
// lanes are V22/V23 (V20, V21 hold the fifth bits).

// Q5KBIT ORs bit b of the fifth-bit bytes V20 (values 0…15) and V21
// (16…31), moved to bit 4, into dlo and dhi (Q5KBIT0: bit 0); V27 holds 1
// in every byte, V26 and V28 are clobbered.
#define Q5KBIT(b, dlo, dhi) \
	VUSHR $b, V20.B16, V26.B16;      \
	VUSHR $b, V21.B16, V28.B16;      \
	Q5KBITREST(dlo, dhi)

#define Q5KBIT0(dlo, dhi) \
	VMOV V20.B16, V26.B16; \
	VMOV V21.B16, V28.B16; \
	Q5KBITREST(dlo, dhi)

#define Q5KBITREST(dlo, dhi) \
	VAND  V27.B16, V26.B16, V26.B16; \
	VAND  V27.B16, V28.B16, V28.B16; \
	VSHL  $4, V26.B16, V26.B16;      \
	VSHL  $4, V28.B16, V28.B16;      \
	VORR  V26.B16, dlo, dlo;         \
	VORR  V28.B16, dhi, dhi

// Q5KMIN takes dmin·Σ(mins·bsums) of row xp off the float32 at
// (off+32)(R3), as q5_KDotProd does (the four lanes added as integers).
#define Q5KMIN(xp, off) \
	FMOVS (xp), F21;                  \
	FMULS F26, F21, F24;              \
	ADD   $260, xp, R7;               \
	VLD1  (R7), [V20.H8, V21.H8];     \
	WORD $0x4e75be96 /* addp v22.8h, v20.8h, v21.8h */;  \
	WORD $0x0e76c366 /* smull v6.4s, v27.4h, v22.4h */;   \
	WORD $0x4e76c367 /* smull2 v7.4s, v27.8h, v22.8h */;  \
	WORD $0x4ea7bcc6 /* addp v6.4s, v6.4s, v7.4s */;      \
	WORD $0x4eb1b8c6 /* addv s6, v6.4s */;                \
	WORD $0x4e21d8c6 /* scvtf v6.4s, v6.4s */;            \
	FMOVS (off+32)(R3), F8;           \
	WORD $0x4f9850c8 /* fmls v8.4s, v6.4s, v24.s[0] */;   \
	FMOVS F8, (off+32)(R3)

// IQ4XSW loads the 32 bytes of nibbles of sub-blocks 2p and 2p+1 from
// (R5) and looks them up in V28: V2, V3 sub-block 2p, V4, V5 2p+1.
#define IQ4XSW \
	VLD1.P 32(R5), [V0.B16, V1.B16]; \
	VAND   V31.B16, V0.B16, V2.B16;  \
	VUSHR  $4, V0.B16, V3.B16;       \
	VAND   V31.B16, V1.B16, V4.B16;  \
	VUSHR  $4, V1.B16, V5.B16;       \
	WORD $0x4e020382 /* tbl v2.16b, {v28.16b}, v2.16b */; \
	WORD $0x4e030383 /* tbl v3.16b, {v28.16b}, v3.16b */; \
	WORD $0x4e040384 /* tbl v4.16b, {v28.16b}, v4.16b */; \
	WORD $0x4e050385 /* tbl v5.16b, {v28.16b}, v5.16b */

// IQ4XSSCALE sets int32 lane l of v to the 6-bit scale - 32 of sub-block
// ib: nibble ib of R4 (scales_l) and bit pair ib of R5 (scales_h).
#define IQ4XSSCALE(ib, v, l) \
	UBFX  $(4*ib), R4, $4, R6; \
	UBFX  $(2*ib), R5, $2, R7; \
	ORRW  R7<<4, R6;           \
	SUBW  $32, R6;             \
	VMOV  R6, v.S[l]

// kvaluesIQ4x is kvaluesIQ4 of kquant_arm64.s (assembler symbols are
// local to their file).
DATA kvaluesIQ4x<>+0(SB)/8, $0xF6EADDCFBFAD9881
DATA kvaluesIQ4x<>+8(SB)/8, $0x7159453526190D01
GLOBL kvaluesIQ4x<>(SB), RODATA|NOPTR, $16


// func q5_Kx4DotProd(w, x0, x1, x2, x3 *byte, nblocks int, acc *[4][9]float32)
TEXT ·q5_Kx4DotProd(SB), NOSPLIT, $0-56
	MOVD  w+0(FP), R0
	MOVD  x0+8(FP), R11
	MOVD  x1+16(FP), R12
	MOVD  x2+24(FP), R13
	MOVD  x3+32(FP), R14
	MOVD  nblocks+40(FP), R2
	MOVD  acc+48(FP), R3
	VMOVI $15, V31.B16

q5kx4dotprodloop:
	KSCALES
	Q4KD
	Q5KMIN(R11, 0)
	Q5KMIN(R12, 36)
	Q5KMIN(R13, 72)
	Q5KMIN(R14, 108)
	VMOVI $1, V27.B16
	ADD   $16, R0, R4
	VLD1  (R4), [V20.B16, V21.B16]
	ADD   $48, R0, R5
	VEOR V10.B16, V10.B16, V10.B16
	VEOR V11.B16, V11.B16, V11.B16
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	VEOR V14.B16, V14.B16, V14.B16
	VEOR V15.B16, V15.B16, V15.B16
	VEOR V22.B16, V22.B16, V22.B16
	VEOR V23.B16, V23.B16, V23.B16
	Q4KW
	Q5KBIT0(V2.B16, V3.B16)
	Q5KBIT(1, V4.B16, V5.B16)
	Q4KROW(4, R11, 0x6f9d00ca, 0x6f9d00eb, 0x6fbd010a, 0x6fbd012b) // = mla v10.4s, v6.4s, v29.s[0]; mla v11.4s, v7.4s, v29.s[0]; mla v10.4s, v8.4s, v29.s[1]; mla v11.4s, v9.4s, v29.s[1]
	Q4KROW(4, R12, 0x6f9d00cc, 0x6f9d00ed, 0x6fbd010c, 0x6fbd012d) // = mla v12.4s, v6.4s, v29.s[0]; mla v13.4s, v7.4s, v29.s[0]; mla v12.4s, v8.4s, v29.s[1]; mla v13.4s, v9.4s, v29.s[1]
	Q4KROW(4, R13, 0x6f9d00ce, 0x6f9d00ef, 0x6fbd010e, 0x6fbd012f) // = mla v14.4s, v6.4s, v29.s[0]; mla v15.4s, v7.4s, v29.s[0]; mla v14.4s, v8.4s, v29.s[1]; mla v15.4s, v9.4s, v29.s[1]
	Q4KROW(4, R14, 0x6f9d00d6, 0x6f9d00f7, 0x6fbd0116, 0x6fbd0137) // = mla v22.4s, v6.4s, v29.s[0]; mla v23.4s, v7.4s, v29.s[0]; mla v22.4s, v8.4s, v29.s[1]; mla v23.4s, v9.4s, v29.s[1]
	Q4KW
	Q5KBIT(2, V2.B16, V3.B16)
	Q5KBIT(3, V4.B16, V5.B16)
	Q4KROW(68, R11, 0x6f9d08ca, 0x6f9d08eb, 0x6fbd090a, 0x6fbd092b) // = mla v10.4s, v6.4s, v29.s[2]; mla v11.4s, v7.4s, v29.s[2]; mla v10.4s, v8.4s, v29.s[3]; mla v11.4s, v9.4s, v29.s[3]
	Q4KROW(68, R12, 0x6f9d08cc, 0x6f9d08ed, 0x6fbd090c, 0x6fbd092d) // = mla v12.4s, v6.4s, v29.s[2]; mla v13.4s, v7.4s, v29.s[2]; mla v12.4s, v8.4s, v29.s[3]; mla v13.4s, v9.4s, v29.s[3]
	Q4KROW(68, R13, 0x6f9d08ce, 0x6f9d08ef, 0x6fbd090e, 0x6fbd092f) // = mla v14.4s, v6.4s, v29.s[2]; mla v15.4s, v7.4s, v29.s[2]; mla v14.4s, v8.4s, v29.s[3]; mla v15.4s, v9.4s, v29.s[3]
	Q4KROW(68, R14, 0x6f9d08d6, 0x6f9d08f7, 0x6fbd0916, 0x6fbd0937) // = mla v22.4s, v6.4s, v29.s[2]; mla v23.4s, v7.4s, v29.s[2]; mla v22.4s, v8.4s, v29.s[3]; mla v23.4s, v9.4s, v29.s[3]
	Q4KW
	Q5KBIT(4, V2.B16, V3.B16)
	Q5KBIT(5, V4.B16, V5.B16)
	Q4KROW(132, R11, 0x6f9e00ca, 0x6f9e00eb, 0x6fbe010a, 0x6fbe012b) // = mla v10.4s, v6.4s, v30.s[0]; mla v11.4s, v7.4s, v30.s[0]; mla v10.4s, v8.4s, v30.s[1]; mla v11.4s, v9.4s, v30.s[1]
	Q4KROW(132, R12, 0x6f9e00cc, 0x6f9e00ed, 0x6fbe010c, 0x6fbe012d) // = mla v12.4s, v6.4s, v30.s[0]; mla v13.4s, v7.4s, v30.s[0]; mla v12.4s, v8.4s, v30.s[1]; mla v13.4s, v9.4s, v30.s[1]
	Q4KROW(132, R13, 0x6f9e00ce, 0x6f9e00ef, 0x6fbe010e, 0x6fbe012f) // = mla v14.4s, v6.4s, v30.s[0]; mla v15.4s, v7.4s, v30.s[0]; mla v14.4s, v8.4s, v30.s[1]; mla v15.4s, v9.4s, v30.s[1]
	Q4KROW(132, R14, 0x6f9e00d6, 0x6f9e00f7, 0x6fbe0116, 0x6fbe0137) // = mla v22.4s, v6.4s, v30.s[0]; mla v23.4s, v7.4s, v30.s[0]; mla v22.4s, v8.4s, v30.s[1]; mla v23.4s, v9.4s, v30.s[1]
	Q4KW
	Q5KBIT(6, V2.B16, V3.B16)
	Q5KBIT(7, V4.B16, V5.B16)
	Q4KROW(196, R11, 0x6f9e08ca, 0x6f9e08eb, 0x6fbe090a, 0x6fbe092b) // = mla v10.4s, v6.4s, v30.s[2]; mla v11.4s, v7.4s, v30.s[2]; mla v10.4s, v8.4s, v30.s[3]; mla v11.4s, v9.4s, v30.s[3]
	Q4KROW(196, R12, 0x6f9e08cc, 0x6f9e08ed, 0x6fbe090c, 0x6fbe092d) // = mla v12.4s, v6.4s, v30.s[2]; mla v13.4s, v7.4s, v30.s[2]; mla v12.4s, v8.4s, v30.s[3]; mla v13.4s, v9.4s, v30.s[3]
	Q4KROW(196, R13, 0x6f9e08ce, 0x6f9e08ef, 0x6fbe090e, 0x6fbe092f) // = mla v14.4s, v6.4s, v30.s[2]; mla v15.4s, v7.4s, v30.s[2]; mla v14.4s, v8.4s, v30.s[3]; mla v15.4s, v9.4s, v30.s[3]
	Q4KROW(196, R14, 0x6f9e08d6, 0x6f9e08f7, 0x6fbe0916, 0x6fbe0937) // = mla v22.4s, v6.4s, v30.s[2]; mla v23.4s, v7.4s, v30.s[2]; mla v22.4s, v8.4s, v30.s[3]; mla v23.4s, v9.4s, v30.s[3]
	KLANES(R11, 0, F25, 0x4e21d94a, 0x4e21d96b, 0x4f981148, 0x4f981169) // = scvtf v10.4s, v10.4s; scvtf v11.4s, v11.4s; fmla v8.4s, v10.4s, v24.s[0]; fmla v9.4s, v11.4s, v24.s[0]
	KLANES(R12, 36, F25, 0x4e21d98c, 0x4e21d9ad, 0x4f981188, 0x4f9811a9) // = scvtf v12.4s, v12.4s; scvtf v13.4s, v13.4s; fmla v8.4s, v12.4s, v24.s[0]; fmla v9.4s, v13.4s, v24.s[0]
	KLANES(R13, 72, F25, 0x4e21d9ce, 0x4e21d9ef, 0x4f9811c8, 0x4f9811e9) // = scvtf v14.4s, v14.4s; scvtf v15.4s, v15.4s; fmla v8.4s, v14.4s, v24.s[0]; fmla v9.4s, v15.4s, v24.s[0]
	KLANES(R14, 108, F25, 0x4e21dad6, 0x4e21daf7, 0x4f9812c8, 0x4f9812e9) // = scvtf v22.4s, v22.4s; scvtf v23.4s, v23.4s; fmla v8.4s, v22.4s, v24.s[0]; fmla v9.4s, v23.4s, v24.s[0]

	ADD  $176, R0
	ADD  $292, R11
	ADD  $292, R12
	ADD  $292, R13
	ADD  $292, R14
	SUBS $1, R2, R2
	BNE  q5kx4dotprodloop
	RET

// func q5_Kx2DotProd(w, x0, x1 *byte, nblocks int, acc *[2][9]float32)
TEXT ·q5_Kx2DotProd(SB), NOSPLIT, $0-40
	MOVD  w+0(FP), R0
	MOVD  x0+8(FP), R11
	MOVD  x1+16(FP), R12
	MOVD  nblocks+24(FP), R2
	MOVD  acc+32(FP), R3
	VMOVI $15, V31.B16

q5kx2dotprodloop:
	KSCALES
	Q4KD
	Q5KMIN(R11, 0)
	Q5KMIN(R12, 36)
	VMOVI $1, V27.B16
	ADD   $16, R0, R4
	VLD1  (R4), [V20.B16, V21.B16]
	ADD   $48, R0, R5
	VEOR V10.B16, V10.B16, V10.B16
	VEOR V11.B16, V11.B16, V11.B16
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	Q4KW
	Q5KBIT0(V2.B16, V3.B16)
	Q5KBIT(1, V4.B16, V5.B16)
	Q4KROW(4, R11, 0x6f9d00ca, 0x6f9d00eb, 0x6fbd010a, 0x6fbd012b) // = mla v10.4s, v6.4s, v29.s[0]; mla v11.4s, v7.4s, v29.s[0]; mla v10.4s, v8.4s, v29.s[1]; mla v11.4s, v9.4s, v29.s[1]
	Q4KROW(4, R12, 0x6f9d00cc, 0x6f9d00ed, 0x6fbd010c, 0x6fbd012d) // = mla v12.4s, v6.4s, v29.s[0]; mla v13.4s, v7.4s, v29.s[0]; mla v12.4s, v8.4s, v29.s[1]; mla v13.4s, v9.4s, v29.s[1]
	Q4KW
	Q5KBIT(2, V2.B16, V3.B16)
	Q5KBIT(3, V4.B16, V5.B16)
	Q4KROW(68, R11, 0x6f9d08ca, 0x6f9d08eb, 0x6fbd090a, 0x6fbd092b) // = mla v10.4s, v6.4s, v29.s[2]; mla v11.4s, v7.4s, v29.s[2]; mla v10.4s, v8.4s, v29.s[3]; mla v11.4s, v9.4s, v29.s[3]
	Q4KROW(68, R12, 0x6f9d08cc, 0x6f9d08ed, 0x6fbd090c, 0x6fbd092d) // = mla v12.4s, v6.4s, v29.s[2]; mla v13.4s, v7.4s, v29.s[2]; mla v12.4s, v8.4s, v29.s[3]; mla v13.4s, v9.4s, v29.s[3]
	Q4KW
	Q5KBIT(4, V2.B16, V3.B16)
	Q5KBIT(5, V4.B16, V5.B16)
	Q4KROW(132, R11, 0x6f9e00ca, 0x6f9e00eb, 0x6fbe010a, 0x6fbe012b) // = mla v10.4s, v6.4s, v30.s[0]; mla v11.4s, v7.4s, v30.s[0]; mla v10.4s, v8.4s, v30.s[1]; mla v11.4s, v9.4s, v30.s[1]
	Q4KROW(132, R12, 0x6f9e00cc, 0x6f9e00ed, 0x6fbe010c, 0x6fbe012d) // = mla v12.4s, v6.4s, v30.s[0]; mla v13.4s, v7.4s, v30.s[0]; mla v12.4s, v8.4s, v30.s[1]; mla v13.4s, v9.4s, v30.s[1]
	Q4KW
	Q5KBIT(6, V2.B16, V3.B16)
	Q5KBIT(7, V4.B16, V5.B16)
	Q4KROW(196, R11, 0x6f9e08ca, 0x6f9e08eb, 0x6fbe090a, 0x6fbe092b) // = mla v10.4s, v6.4s, v30.s[2]; mla v11.4s, v7.4s, v30.s[2]; mla v10.4s, v8.4s, v30.s[3]; mla v11.4s, v9.4s, v30.s[3]
	Q4KROW(196, R12, 0x6f9e08cc, 0x6f9e08ed, 0x6fbe090c, 0x6fbe092d) // = mla v12.4s, v6.4s, v30.s[2]; mla v13.4s, v7.4s, v30.s[2]; mla v12.4s, v8.4s, v30.s[3]; mla v13.4s, v9.4s, v30.s[3]
	KLANES(R11, 0, F25, 0x4e21d94a, 0x4e21d96b, 0x4f981148, 0x4f981169) // = scvtf v10.4s, v10.4s; scvtf v11.4s, v11.4s; fmla v8.4s, v10.4s, v24.s[0]; fmla v9.4s, v11.4s, v24.s[0]
	KLANES(R12, 36, F25, 0x4e21d98c, 0x4e21d9ad, 0x4f981188, 0x4f9811a9) // = scvtf v12.4s, v12.4s; scvtf v13.4s, v13.4s; fmla v8.4s, v12.4s, v24.s[0]; fmla v9.4s, v13.4s, v24.s[0]

	ADD  $176, R0
	ADD  $292, R11
	ADD  $292, R12
	SUBS $1, R2, R2
	BNE  q5kx2dotprodloop
	RET

// func iq4_XSx4DotProd(w, x0, x1, x2, x3 *byte, nblocks int, acc *[4][8]float32)
TEXT ·iq4_XSx4DotProd(SB), NOSPLIT, $0-56
	MOVD  w+0(FP), R0
	MOVD  x0+8(FP), R11
	MOVD  x1+16(FP), R12
	MOVD  x2+24(FP), R13
	MOVD  x3+32(FP), R14
	MOVD  nblocks+40(FP), R2
	MOVD  acc+48(FP), R3
	VMOVI $15, V31.B16
	MOVD  $kvaluesIQ4x<>(SB), R4
	VLD1  (R4), [V28.B16]

iq4xsx4dotprodloop:
	MOVHU  (R0), R4
	VMOV   R4, V25.H[0]
	FCVTHS F25, F25
	MOVHU 2(R0), R5
	MOVWU 4(R0), R4
	IQ4XSSCALE(0, V29, 0)
	IQ4XSSCALE(1, V29, 1)
	IQ4XSSCALE(2, V29, 2)
	IQ4XSSCALE(3, V29, 3)
	IQ4XSSCALE(4, V30, 0)
	IQ4XSSCALE(5, V30, 1)
	IQ4XSSCALE(6, V30, 2)
	IQ4XSSCALE(7, V30, 3)
	ADD   $8, R0, R5
	VEOR V10.B16, V10.B16, V10.B16
	VEOR V11.B16, V11.B16, V11.B16
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	VEOR V14.B16, V14.B16, V14.B16
	VEOR V15.B16, V15.B16, V15.B16
	VEOR V20.B16, V20.B16, V20.B16
	VEOR V21.B16, V21.B16, V21.B16
	IQ4XSW
	Q4KROW(4, R11, 0x6f9d00ca, 0x6f9d00eb, 0x6fbd010a, 0x6fbd012b) // = mla v10.4s, v6.4s, v29.s[0]; mla v11.4s, v7.4s, v29.s[0]; mla v10.4s, v8.4s, v29.s[1]; mla v11.4s, v9.4s, v29.s[1]
	Q4KROW(4, R12, 0x6f9d00cc, 0x6f9d00ed, 0x6fbd010c, 0x6fbd012d) // = mla v12.4s, v6.4s, v29.s[0]; mla v13.4s, v7.4s, v29.s[0]; mla v12.4s, v8.4s, v29.s[1]; mla v13.4s, v9.4s, v29.s[1]
	Q4KROW(4, R13, 0x6f9d00ce, 0x6f9d00ef, 0x6fbd010e, 0x6fbd012f) // = mla v14.4s, v6.4s, v29.s[0]; mla v15.4s, v7.4s, v29.s[0]; mla v14.4s, v8.4s, v29.s[1]; mla v15.4s, v9.4s, v29.s[1]
	Q4KROW(4, R14, 0x6f9d00d4, 0x6f9d00f5, 0x6fbd0114, 0x6fbd0135) // = mla v20.4s, v6.4s, v29.s[0]; mla v21.4s, v7.4s, v29.s[0]; mla v20.4s, v8.4s, v29.s[1]; mla v21.4s, v9.4s, v29.s[1]
	IQ4XSW
	Q4KROW(68, R11, 0x6f9d08ca, 0x6f9d08eb, 0x6fbd090a, 0x6fbd092b) // = mla v10.4s, v6.4s, v29.s[2]; mla v11.4s, v7.4s, v29.s[2]; mla v10.4s, v8.4s, v29.s[3]; mla v11.4s, v9.4s, v29.s[3]
	Q4KROW(68, R12, 0x6f9d08cc, 0x6f9d08ed, 0x6fbd090c, 0x6fbd092d) // = mla v12.4s, v6.4s, v29.s[2]; mla v13.4s, v7.4s, v29.s[2]; mla v12.4s, v8.4s, v29.s[3]; mla v13.4s, v9.4s, v29.s[3]
	Q4KROW(68, R13, 0x6f9d08ce, 0x6f9d08ef, 0x6fbd090e, 0x6fbd092f) // = mla v14.4s, v6.4s, v29.s[2]; mla v15.4s, v7.4s, v29.s[2]; mla v14.4s, v8.4s, v29.s[3]; mla v15.4s, v9.4s, v29.s[3]
	Q4KROW(68, R14, 0x6f9d08d4, 0x6f9d08f5, 0x6fbd0914, 0x6fbd0935) // = mla v20.4s, v6.4s, v29.s[2]; mla v21.4s, v7.4s, v29.s[2]; mla v20.4s, v8.4s, v29.s[3]; mla v21.4s, v9.4s, v29.s[3]
	IQ4XSW
	Q4KROW(132, R11, 0x6f9e00ca, 0x6f9e00eb, 0x6fbe010a, 0x6fbe012b) // = mla v10.4s, v6.4s, v30.s[0]; mla v11.4s, v7.4s, v30.s[0]; mla v10.4s, v8.4s, v30.s[1]; mla v11.4s, v9.4s, v30.s[1]
	Q4KROW(132, R12, 0x6f9e00cc, 0x6f9e00ed, 0x6fbe010c, 0x6fbe012d) // = mla v12.4s, v6.4s, v30.s[0]; mla v13.4s, v7.4s, v30.s[0]; mla v12.4s, v8.4s, v30.s[1]; mla v13.4s, v9.4s, v30.s[1]
	Q4KROW(132, R13, 0x6f9e00ce, 0x6f9e00ef, 0x6fbe010e, 0x6fbe012f) // = mla v14.4s, v6.4s, v30.s[0]; mla v15.4s, v7.4s, v30.s[0]; mla v14.4s, v8.4s, v30.s[1]; mla v15.4s, v9.4s, v30.s[1]
	Q4KROW(132, R14, 0x6f9e00d4, 0x6f9e00f5, 0x6fbe0114, 0x6fbe0135) // = mla v20.4s, v6.4s, v30.s[0]; mla v21.4s, v7.4s, v30.s[0]; mla v20.4s, v8.4s, v30.s[1]; mla v21.4s, v9.4s, v30.s[1]
	IQ4XSW
	Q4KROW(196, R11, 0x6f9e08ca, 0x6f9e08eb, 0x6fbe090a, 0x6fbe092b) // = mla v10.4s, v6.4s, v30.s[2]; mla v11.4s, v7.4s, v30.s[2]; mla v10.4s, v8.4s, v30.s[3]; mla v11.4s, v9.4s, v30.s[3]
	Q4KROW(196, R12, 0x6f9e08cc, 0x6f9e08ed, 0x6fbe090c, 0x6fbe092d) // = mla v12.4s, v6.4s, v30.s[2]; mla v13.4s, v7.4s, v30.s[2]; mla v12.4s, v8.4s, v30.s[3]; mla v13.4s, v9.4s, v30.s[3]
	Q4KROW(196, R13, 0x6f9e08ce, 0x6f9e08ef, 0x6fbe090e, 0x6fbe092f) // = mla v14.4s, v6.4s, v30.s[2]; mla v15.4s, v7.4s, v30.s[2]; mla v14.4s, v8.4s, v30.s[3]; mla v15.4s, v9.4s, v30.s[3]
	Q4KROW(196, R14, 0x6f9e08d4, 0x6f9e08f5, 0x6fbe0914, 0x6fbe0935) // = mla v20.4s, v6.4s, v30.s[2]; mla v21.4s, v7.4s, v30.s[2]; mla v20.4s, v8.4s, v30.s[3]; mla v21.4s, v9.4s, v30.s[3]
	KLANES(R11, 0, F25, 0x4e21d94a, 0x4e21d96b, 0x4f981148, 0x4f981169) // = scvtf v10.4s, v10.4s; scvtf v11.4s, v11.4s; fmla v8.4s, v10.4s, v24.s[0]; fmla v9.4s, v11.4s, v24.s[0]
	KLANES(R12, 32, F25, 0x4e21d98c, 0x4e21d9ad, 0x4f981188, 0x4f9811a9) // = scvtf v12.4s, v12.4s; scvtf v13.4s, v13.4s; fmla v8.4s, v12.4s, v24.s[0]; fmla v9.4s, v13.4s, v24.s[0]
	KLANES(R13, 64, F25, 0x4e21d9ce, 0x4e21d9ef, 0x4f9811c8, 0x4f9811e9) // = scvtf v14.4s, v14.4s; scvtf v15.4s, v15.4s; fmla v8.4s, v14.4s, v24.s[0]; fmla v9.4s, v15.4s, v24.s[0]
	KLANES(R14, 96, F25, 0x4e21da94, 0x4e21dab5, 0x4f981288, 0x4f9812a9) // = scvtf v20.4s, v20.4s; scvtf v21.4s, v21.4s; fmla v8.4s, v20.4s, v24.s[0]; fmla v9.4s, v21.4s, v24.s[0]

	ADD  $136, R0
	ADD  $292, R11
	ADD  $292, R12
	ADD  $292, R13
	ADD  $292, R14
	SUBS $1, R2, R2
	BNE  iq4xsx4dotprodloop
	RET

// func iq4_XSx2DotProd(w, x0, x1 *byte, nblocks int, acc *[2][8]float32)
TEXT ·iq4_XSx2DotProd(SB), NOSPLIT, $0-40
	MOVD  w+0(FP), R0
	MOVD  x0+8(FP), R11
	MOVD  x1+16(FP), R12
	MOVD  nblocks+24(FP), R2
	MOVD  acc+32(FP), R3
	VMOVI $15, V31.B16
	MOVD  $kvaluesIQ4x<>(SB), R4
	VLD1  (R4), [V28.B16]

iq4xsx2dotprodloop:
	MOVHU  (R0), R4
	VMOV   R4, V25.H[0]
	FCVTHS F25, F25
	MOVHU 2(R0), R5
	MOVWU 4(R0), R4
	IQ4XSSCALE(0, V29, 0)
	IQ4XSSCALE(1, V29, 1)
	IQ4XSSCALE(2, V29, 2)
	IQ4XSSCALE(3, V29, 3)
	IQ4XSSCALE(4, V30, 0)
	IQ4XSSCALE(5, V30, 1)
	IQ4XSSCALE(6, V30, 2)
	IQ4XSSCALE(7, V30, 3)
	ADD   $8, R0, R5
	VEOR V10.B16, V10.B16, V10.B16
	VEOR V11.B16, V11.B16, V11.B16
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	IQ4XSW
	Q4KROW(4, R11, 0x6f9d00ca, 0x6f9d00eb, 0x6fbd010a, 0x6fbd012b) // = mla v10.4s, v6.4s, v29.s[0]; mla v11.4s, v7.4s, v29.s[0]; mla v10.4s, v8.4s, v29.s[1]; mla v11.4s, v9.4s, v29.s[1]
	Q4KROW(4, R12, 0x6f9d00cc, 0x6f9d00ed, 0x6fbd010c, 0x6fbd012d) // = mla v12.4s, v6.4s, v29.s[0]; mla v13.4s, v7.4s, v29.s[0]; mla v12.4s, v8.4s, v29.s[1]; mla v13.4s, v9.4s, v29.s[1]
	IQ4XSW
	Q4KROW(68, R11, 0x6f9d08ca, 0x6f9d08eb, 0x6fbd090a, 0x6fbd092b) // = mla v10.4s, v6.4s, v29.s[2]; mla v11.4s, v7.4s, v29.s[2]; mla v10.4s, v8.4s, v29.s[3]; mla v11.4s, v9.4s, v29.s[3]
	Q4KROW(68, R12, 0x6f9d08cc, 0x6f9d08ed, 0x6fbd090c, 0x6fbd092d) // = mla v12.4s, v6.4s, v29.s[2]; mla v13.4s, v7.4s, v29.s[2]; mla v12.4s, v8.4s, v29.s[3]; mla v13.4s, v9.4s, v29.s[3]
	IQ4XSW
	Q4KROW(132, R11, 0x6f9e00ca, 0x6f9e00eb, 0x6fbe010a, 0x6fbe012b) // = mla v10.4s, v6.4s, v30.s[0]; mla v11.4s, v7.4s, v30.s[0]; mla v10.4s, v8.4s, v30.s[1]; mla v11.4s, v9.4s, v30.s[1]
	Q4KROW(132, R12, 0x6f9e00cc, 0x6f9e00ed, 0x6fbe010c, 0x6fbe012d) // = mla v12.4s, v6.4s, v30.s[0]; mla v13.4s, v7.4s, v30.s[0]; mla v12.4s, v8.4s, v30.s[1]; mla v13.4s, v9.4s, v30.s[1]
	IQ4XSW
	Q4KROW(196, R11, 0x6f9e08ca, 0x6f9e08eb, 0x6fbe090a, 0x6fbe092b) // = mla v10.4s, v6.4s, v30.s[2]; mla v11.4s, v7.4s, v30.s[2]; mla v10.4s, v8.4s, v30.s[3]; mla v11.4s, v9.4s, v30.s[3]
	Q4KROW(196, R12, 0x6f9e08cc, 0x6f9e08ed, 0x6fbe090c, 0x6fbe092d) // = mla v12.4s, v6.4s, v30.s[2]; mla v13.4s, v7.4s, v30.s[2]; mla v12.4s, v8.4s, v30.s[3]; mla v13.4s, v9.4s, v30.s[3]
	KLANES(R11, 0, F25, 0x4e21d94a, 0x4e21d96b, 0x4f981148, 0x4f981169) // = scvtf v10.4s, v10.4s; scvtf v11.4s, v11.4s; fmla v8.4s, v10.4s, v24.s[0]; fmla v9.4s, v11.4s, v24.s[0]
	KLANES(R12, 32, F25, 0x4e21d98c, 0x4e21d9ad, 0x4f981188, 0x4f9811a9) // = scvtf v12.4s, v12.4s; scvtf v13.4s, v13.4s; fmla v8.4s, v12.4s, v24.s[0]; fmla v9.4s, v13.4s, v24.s[0]

	ADD  $136, R0
	ADD  $292, R11
	ADD  $292, R12
	SUBS $1, R2, R2
	BNE  iq4xsx2dotprodloop
	RET
