//go:build !purego

#include "textflag.h"
#include "kquant_arm64.h"

// The Q2_K … Q6_K and IQ4_XS dot products with Q8_K activations on CPUs
// with SDOT, following llama.cpp's x86 AVX2 loops (ggml_vec_dot_q4_K_q8_K,
// _q5_K_q8_K, _q6_K_q8_K) lane for lane, so that the result equals the
// generic twin and ggml's AVX2 result bit for bit: SDOT sums four
// consecutive byte products per int32 lane (exact, -128 included), which
// is how AVX2's VPMADDUBSW + VPMADDWD group them; the low and high 16 bytes
// of each 32 go to two four-lane vectors standing for AVX2's lanes 0…3
// and 4…7. Instructions Go's assembler lacks are WORDs, each with its
// instruction text (checked with GNU as, -march=armv8.2-a+dotprod).

// Q4KLOAD loads the 32 bytes of nibbles of sub-blocks 2j and 2j+1 from
// (R5) and their 64 activations from (R6): V2, V3 the low nibbles (values
// 0…15 and 16…31 of sub-block 2j), V4, V5 the high ones (sub-block 2j+1),
// V16…V19 the activations.
#define Q4KLOAD \
	VLD1.P 32(R5), [V0.B16, V1.B16];                     \
	VLD1.P 64(R6), [V16.B16, V17.B16, V18.B16, V19.B16]; \
	VAND   V31.B16, V0.B16, V2.B16;                      \
	VAND   V31.B16, V1.B16, V3.B16;                      \
	VUSHR  $4, V0.B16, V4.B16;                           \
	VUSHR  $4, V1.B16, V5.B16

// Q4KDOT adds to V10 (lanes 0…3) and V11 (lanes 4…7) the sums of V2…V5
// times V16…V19; the scales are the int32 lanes of V29 and V30 named by
// the MLA words passed in.
#define Q4KDOT(mla0, mla1, mla2, mla3) \
	VEOR   V6.B16, V6.B16, V6.B16;                        \
	VEOR   V7.B16, V7.B16, V7.B16;                        \
	VEOR   V8.B16, V8.B16, V8.B16;                        \
	VEOR   V9.B16, V9.B16, V9.B16;                        \
	WORD   $0x4e909446; /* sdot v6.4s, v2.16b, v16.16b */ \
	WORD   $0x4e919467; /* sdot v7.4s, v3.16b, v17.16b */ \
	WORD   $0x4e929488; /* sdot v8.4s, v4.16b, v18.16b */ \
	WORD   $0x4e9394a9; /* sdot v9.4s, v5.16b, v19.16b */ \
	WORD   $mla0;                                         \
	WORD   $mla1;                                         \
	WORD   $mla2;                                         \
	WORD   $mla3

#define Q4KSTEP(mla0, mla1, mla2, mla3) \
	Q4KLOAD; \
	Q4KDOT(mla0, mla1, mla2, mla3)

// IQ4XSSTEP is Q4KSTEP for IQ4_XS sub-blocks 2p (V2, V3) and 2p+1 (V4,
// V5): the 32 bytes from (R5) hold 16 bytes of nibbles for each, looked up
// in the table V28.
#define IQ4XSSTEP(mla0, mla1, mla2, mla3) \
	VLD1.P 32(R5), [V0.B16, V1.B16];                     \
	VLD1.P 64(R6), [V16.B16, V17.B16, V18.B16, V19.B16]; \
	VAND   V31.B16, V0.B16, V2.B16;                      \
	VUSHR  $4, V0.B16, V3.B16;                           \
	VAND   V31.B16, V1.B16, V4.B16;                      \
	VUSHR  $4, V1.B16, V5.B16;                           \
	WORD   $0x4e020382; /* tbl v2.16b, {v28.16b}, v2.16b */ \
	WORD   $0x4e030383; /* tbl v3.16b, {v28.16b}, v3.16b */ \
	WORD   $0x4e040384; /* tbl v4.16b, {v28.16b}, v4.16b */ \
	WORD   $0x4e050385; /* tbl v5.16b, {v28.16b}, v5.16b */ \
	Q4KDOT(mla0, mla1, mla2, mla3)

// KMINS sets V6 to the four int32 lanes of the minimums times the bsums of
// the Q8_K block at R1 added in pairs (int16, wrapping like VPHADDW),
// paired as VPMADDWD does.
#define KMINS \
	ADD  $260, R1, R7;                                 \
	VLD1 (R7), [V20.H8, V21.H8];                       \
	WORD $0x4e75be96; /* addp   v22.8h, v20.8h, v21.8h */ \
	WORD $0x0e76c366; /* smull  v6.4s, v27.4h, v22.4h */  \
	WORD $0x4e76c367; /* smull2 v7.4s, v27.8h, v22.8h */  \
	WORD $0x4ea7bcc6  /* addp   v6.4s, v6.4s, v7.4s */

// KD sets F23 to y.d·x.d and F24 to y.d·x.dmin for the Q4_K or Q5_K block
// at R0 and the Q8_K block at R1.
#define KD \
	FMOVS  (R1), F21;     \
	MOVHU  (R0), R4;      \
	VMOV   R4, V22.H[0];  \
	FCVTHS F22, F22;      \
	FMULS  F22, F21, F23; \
	MOVHU  2(R0), R4;     \
	VMOV   R4, V22.H[0];  \
	FCVTHS F22, F22;      \
	FMULS  F22, F21, F24

// func q4_KDotProd(w, x *byte, nblocks int, acc *[12]float32)
TEXT ·q4_KDotProd(SB), NOSPLIT, $0-32
	MOVD  w+0(FP), R0
	MOVD  x+8(FP), R1
	MOVD  nblocks+16(FP), R2
	MOVD  acc+24(FP), R3
	VMOVI $15, V31.B16
	VEOR  V12.B16, V12.B16, V12.B16 // lanes 0…3 of d·sums
	VEOR  V13.B16, V13.B16, V13.B16 // lanes 4…7
	VEOR  V14.B16, V14.B16, V14.B16 // the four lanes of the minimums

q4kloop:
	KD
	KSCALES
	KMINS
	WORD $0x4e21d8c6 // scvtf v6.4s, v6.4s
	WORD $0x4f9850ce // fmls  v14.4s, v6.4s, v24.s[0]

	ADD  $16, R0, R5
	ADD  $4, R1, R6
	VEOR V10.B16, V10.B16, V10.B16
	VEOR V11.B16, V11.B16, V11.B16
	Q4KSTEP(0x6f9d00ca, 0x6f9d00eb, 0x6fbd010a, 0x6fbd012b) // mla v10/v11 by v29.s[0], v29.s[1]
	Q4KSTEP(0x6f9d08ca, 0x6f9d08eb, 0x6fbd090a, 0x6fbd092b) // v29.s[2], v29.s[3]
	Q4KSTEP(0x6f9e00ca, 0x6f9e00eb, 0x6fbe010a, 0x6fbe012b) // v30.s[0], v30.s[1]
	Q4KSTEP(0x6f9e08ca, 0x6f9e08eb, 0x6fbe090a, 0x6fbe092b) // v30.s[2], v30.s[3]
	WORD $0x4e21d94a // scvtf v10.4s, v10.4s
	WORD $0x4e21d96b // scvtf v11.4s, v11.4s
	WORD $0x4f97114c // fmla  v12.4s, v10.4s, v23.s[0]
	WORD $0x4f97116d // fmla  v13.4s, v11.4s, v23.s[0]

	ADD  $144, R0
	ADD  $292, R1
	SUBS $1, R2, R2
	BNE  q4kloop

	VST1 [V12.S4, V13.S4, V14.S4], (R3)
	RET

// Q5KBIT ORs bit b of the fifth-bit bytes V20 (values 0…15) and V21
// (16…31), moved to bit 4, into dlo and dhi; V26 and V28 are clobbered.
#define Q5KBIT(b, dlo, dhi) \
	VUSHR $b, V20.B16, V26.B16;      \
	VUSHR $b, V21.B16, V28.B16;      \
	VAND  V25.B16, V26.B16, V26.B16; \
	VAND  V25.B16, V28.B16, V28.B16; \
	VSHL  $4, V26.B16, V26.B16;      \
	VSHL  $4, V28.B16, V28.B16;      \
	VORR  V26.B16, dlo, dlo;         \
	VORR  V28.B16, dhi, dhi

// Q5KBIT0 is Q5KBIT for bit 0.
#define Q5KBIT0(dlo, dhi) \
	VAND V25.B16, V20.B16, V26.B16; \
	VAND V25.B16, V21.B16, V28.B16; \
	VSHL $4, V26.B16, V26.B16;      \
	VSHL $4, V28.B16, V28.B16;      \
	VORR V26.B16, dlo, dlo;         \
	VORR V28.B16, dhi, dhi

// Q5KSTEP is Q4KSTEP for Q5_K: bits b0 and b1 of the fifth-bit bytes add
// 16 to sub-blocks 2j and 2j+1.
#define Q5KSTEP(b0, b1, mla0, mla1, mla2, mla3) \
	Q4KLOAD;                         \
	Q5KBIT(b0, V2.B16, V3.B16);      \
	Q5KBIT(b1, V4.B16, V5.B16);      \
	Q4KDOT(mla0, mla1, mla2, mla3)

// func q5_KDotProd(w, x *byte, nblocks int, acc *[9]float32)
TEXT ·q5_KDotProd(SB), NOSPLIT, $0-32
	MOVD  w+0(FP), R0
	MOVD  x+8(FP), R1
	MOVD  nblocks+16(FP), R2
	MOVD  acc+24(FP), R3
	VMOVI $15, V31.B16
	VMOVI $1, V25.B16
	VEOR  V12.B16, V12.B16, V12.B16 // lanes 0…3 of d·sums
	VEOR  V13.B16, V13.B16, V13.B16 // lanes 4…7
	VEOR  V14.B16, V14.B16, V14.B16 // lane 0: summs

q5kloop:
	KD
	KSCALES
	// ggml adds the four minimum lanes as integers and accumulates dmin
	// times their sum in one float32 (lane 0; the others stay zero).
	KMINS
	WORD $0x4eb1b8c6 // addv  s6, v6.4s
	WORD $0x4e21d8c6 // scvtf v6.4s, v6.4s
	WORD $0x4f9850ce // fmls  v14.4s, v6.4s, v24.s[0]

	ADD  $16, R0, R4
	VLD1 (R4), [V20.B16, V21.B16]
	ADD  $48, R0, R5
	ADD  $4, R1, R6
	VEOR V10.B16, V10.B16, V10.B16
	VEOR V11.B16, V11.B16, V11.B16
	Q4KLOAD
	Q5KBIT0(V2.B16, V3.B16)
	Q5KBIT(1, V4.B16, V5.B16)
	Q4KDOT(0x6f9d00ca, 0x6f9d00eb, 0x6fbd010a, 0x6fbd012b)
	Q5KSTEP(2, 3, 0x6f9d08ca, 0x6f9d08eb, 0x6fbd090a, 0x6fbd092b)
	Q5KSTEP(4, 5, 0x6f9e00ca, 0x6f9e00eb, 0x6fbe010a, 0x6fbe012b)
	Q5KSTEP(6, 7, 0x6f9e08ca, 0x6f9e08eb, 0x6fbe090a, 0x6fbe092b)
	WORD $0x4e21d94a // scvtf v10.4s, v10.4s
	WORD $0x4e21d96b // scvtf v11.4s, v11.4s
	WORD $0x4f97114c // fmla  v12.4s, v10.4s, v23.s[0]
	WORD $0x4f97116d // fmla  v13.4s, v11.4s, v23.s[0]

	ADD  $176, R0
	ADD  $292, R1
	SUBS $1, R2, R2
	BNE  q5kloop

	VST1  [V12.S4, V13.S4], (R3)
	FMOVS F14, 32(R3)
	RET

// Q6KHIGHBITS sets V10 and V11 to the two bits at bit sh of each byte of
// V4 and V5 (the high-bit bytes of the low and high 16 values), moved to
// bits 4 and 5.
#define Q6KHIGHBITS(sh) \
	VUSHR $sh, V4.B16, V10.B16;       \
	VUSHR $sh, V5.B16, V11.B16;       \
	VAND  V30.B16, V10.B16, V10.B16;  \
	VAND  V30.B16, V11.B16, V11.B16;  \
	VSHL  $4, V10.B16, V10.B16;       \
	VSHL  $4, V11.B16, V11.B16

// KCHUNK16 adds to V12 (lanes 0…3) and V13 (lanes 4…7) the sums of the 32
// weights in V6 (low 16) and V7 (high 16) times the activations loaded
// from (R7), scaled by the MLA words passed in (one scale per 16 values,
// from V24…V27).
#define KCHUNK16(mlalo, mlahi) \
	VLD1.P 32(R7), [V16.B16, V17.B16]; \
	VEOR   V8.B16, V8.B16, V8.B16;    \
	VEOR   V9.B16, V9.B16, V9.B16;    \
	WORD   $0x4e9094c8; /* sdot v8.4s, v6.16b, v16.16b */ \
	WORD   $0x4e9194e9; /* sdot v9.4s, v7.16b, v17.16b */ \
	WORD   $mlalo;                    \
	WORD   $mlahi

// Q6KCHUNK is KCHUNK16 for Q6_K: the high bits V10 and V11 are ORed in
// first.
#define Q6KCHUNK(mlalo, mlahi) \
	VORR V10.B16, V6.B16, V6.B16; \
	VORR V11.B16, V7.B16, V7.B16; \
	KCHUNK16(mlalo, mlahi)

// KSCALES16 widens the sixteen int8 scales in V19 to int32 in V24…V27
// (V20, V21 hold them as int16).
#define KSCALES16 \
	WORD $0x0f08a674; /* sxtl  v20.8h, v19.8b */  \
	WORD $0x4f08a675; /* sxtl2 v21.8h, v19.16b */ \
	WORD $0x0f10a698; /* sxtl  v24.4s, v20.4h */  \
	WORD $0x4f10a699; /* sxtl2 v25.4s, v20.8h */  \
	WORD $0x0f10a6ba; /* sxtl  v26.4s, v21.4h */  \
	WORD $0x4f10a6bb  /* sxtl2 v27.4s, v21.8h */

// KFINISH accumulates the int32 lanes V12, V13 times F23 into V14, V15
// with fused multiply-adds.
#define KFINISH \
	WORD $0x4e21d98c; /* scvtf v12.4s, v12.4s */          \
	WORD $0x4e21d9ad; /* scvtf v13.4s, v13.4s */          \
	WORD $0x4f97118e; /* fmla  v14.4s, v12.4s, v23.s[0] */ \
	WORD $0x4f9711af  /* fmla  v15.4s, v13.4s, v23.s[0] */

// Q6KHALF adds the 128 values of one half super-block: low nibbles of
// bytes V0…V3 (loaded from (R5)), high bit pairs V4, V5 (from (R6)). The
// MLA words pick scales 8h…8h+7.
#define Q6KHALF(m0, m1, m2, m3, m4, m5, m6, m7) \
	VLD1.P 64(R5), [V0.B16, V1.B16, V2.B16, V3.B16]; \
	VLD1.P 32(R6), [V4.B16, V5.B16];                 \
	VAND   V31.B16, V0.B16, V6.B16;                  \
	VAND   V31.B16, V1.B16, V7.B16;                  \
	VAND   V30.B16, V4.B16, V10.B16;                 \
	VAND   V30.B16, V5.B16, V11.B16;                 \
	VSHL   $4, V10.B16, V10.B16;                     \
	VSHL   $4, V11.B16, V11.B16;                     \
	Q6KCHUNK(m0, m1);                                \
	VAND   V31.B16, V2.B16, V6.B16;                  \
	VAND   V31.B16, V3.B16, V7.B16;                  \
	Q6KHIGHBITS(2);                                  \
	Q6KCHUNK(m2, m3);                                \
	VUSHR  $4, V0.B16, V6.B16;                       \
	VUSHR  $4, V1.B16, V7.B16;                       \
	Q6KHIGHBITS(4);                                  \
	Q6KCHUNK(m4, m5);                                \
	VUSHR  $4, V2.B16, V6.B16;                       \
	VUSHR  $4, V3.B16, V7.B16;                       \
	Q6KHIGHBITS(6);                                  \
	Q6KCHUNK(m6, m7)

// func q6_KDotProd(w, x *byte, nblocks int, acc *[8]float32)
TEXT ·q6_KDotProd(SB), NOSPLIT, $0-32
	MOVD  w+0(FP), R0
	MOVD  x+8(FP), R1
	MOVD  nblocks+16(FP), R2
	MOVD  acc+24(FP), R3
	VMOVI $15, V31.B16
	VMOVI $3, V30.B16
	VEOR  V14.B16, V14.B16, V14.B16 // lanes 0…3 of d·sums
	VEOR  V15.B16, V15.B16, V15.B16 // lanes 4…7

q6kloop:
	// F23 = y.d·x.d (the fp16 x.d is the block's last two bytes).
	FMOVS  (R1), F21
	MOVHU  208(R0), R4
	VMOV   R4, V22.H[0]
	FCVTHS F22, F22
	FMULS  F22, F21, F23

	// The int8 scales as int32 (V24…V27), and 32·(scale·bsum) of two
	// groups per lane (V28: lanes 0…3, V29: lanes 4…7), as VPMADDWD and
	// VPSLLD do.
	ADD  $192, R0, R4
	VLD1 (R4), [V19.B16]
	ADD  $260, R1, R4
	VLD1 (R4), [V16.H8, V17.H8]
	KSCALES16
	WORD $0x0e74c208 // smull  v8.4s, v16.4h, v20.4h
	WORD $0x4e74c209 // smull2 v9.4s, v16.8h, v20.8h
	WORD $0x4ea9bd1c // addp   v28.4s, v8.4s, v9.4s
	WORD $0x0e75c228 // smull  v8.4s, v17.4h, v21.4h
	WORD $0x4e75c229 // smull2 v9.4s, v17.8h, v21.8h
	WORD $0x4ea9bd1d // addp   v29.4s, v8.4s, v9.4s
	WORD $0x4f25579c // shl    v28.4s, v28.4s, #5
	WORD $0x4f2557bd // shl    v29.4s, v29.4s, #5

	MOVD R0, R5
	ADD  $128, R0, R6
	ADD  $4, R1, R7
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	// mla v12 by scale 2r (v24.s[0], v24.s[2], v25.s[0], …), v13 by 2r+1.
	Q6KHALF(0x6f98010c, 0x6fb8012d, 0x6f98090c, 0x6fb8092d, 0x6f99010c, 0x6fb9012d, 0x6f99090c, 0x6fb9092d)
	Q6KHALF(0x6f9a010c, 0x6fba012d, 0x6f9a090c, 0x6fba092d, 0x6f9b010c, 0x6fbb012d, 0x6f9b090c, 0x6fbb092d)
	WORD $0x6ebc858c // sub   v12.4s, v12.4s, v28.4s
	WORD $0x6ebd85ad // sub   v13.4s, v13.4s, v29.4s
	KFINISH

	ADD  $210, R0
	ADD  $292, R1
	SUBS $1, R2, R2
	BNE  q6kloop

	VST1 [V14.S4, V15.S4], (R3)
	RET

// kvaluesIQ4 are the int8 values IQ4_NL and IQ4_XS nibbles stand for.
DATA kvaluesIQ4<>+0(SB)/8, $0xF6EADDCFBFAD9881
DATA kvaluesIQ4<>+8(SB)/8, $0x7159453526190D01
GLOBL kvaluesIQ4<>(SB), RODATA|NOPTR, $16

// IQ4XSSCALE sets int32 lane l of v to the 6-bit scale - 32 of sub-block
// ib: nibble ib of R4 (scales_l) and bit pair ib of R5 (scales_h).
#define IQ4XSSCALE(ib, v, l) \
	UBFX  $(4*ib), R4, $4, R6; \
	UBFX  $(2*ib), R5, $2, R7; \
	ORRW  R7<<4, R6;           \
	SUBW  $32, R6;             \
	VMOV  R6, v.S[l]

// func iq4_XSDotProd(w, x *byte, nblocks int, acc *[8]float32)
//
// The IQ4_XS dot product: nibbles looked up in kvaluesIQ4 (TBL) and
// multiplied as signed bytes by SDOT, exact for every activation; the
// lanes and sums are those of Q4_K's loop with one scale per 32 values.
TEXT ·iq4_XSDotProd(SB), NOSPLIT, $0-32
	MOVD  w+0(FP), R0
	MOVD  x+8(FP), R1
	MOVD  nblocks+16(FP), R2
	MOVD  acc+24(FP), R3
	VMOVI $15, V31.B16
	MOVD  $kvaluesIQ4<>(SB), R4
	VLD1  (R4), [V28.B16]
	VEOR  V12.B16, V12.B16, V12.B16 // lanes 0…3 of d·sums
	VEOR  V13.B16, V13.B16, V13.B16 // lanes 4…7

iq4xsloop:
	// F23 = x.d·y.d.
	FMOVS  (R1), F21
	MOVHU  (R0), R4
	VMOV   R4, V22.H[0]
	FCVTHS F22, F22
	FMULS  F21, F22, F23

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

	ADD  $8, R0, R5
	ADD  $4, R1, R6
	VEOR V10.B16, V10.B16, V10.B16
	VEOR V11.B16, V11.B16, V11.B16
	IQ4XSSTEP(0x6f9d00ca, 0x6f9d00eb, 0x6fbd010a, 0x6fbd012b) // mla by v29.s[0], v29.s[1]
	IQ4XSSTEP(0x6f9d08ca, 0x6f9d08eb, 0x6fbd090a, 0x6fbd092b) // v29.s[2], v29.s[3]
	IQ4XSSTEP(0x6f9e00ca, 0x6f9e00eb, 0x6fbe010a, 0x6fbe012b) // v30.s[0], v30.s[1]
	IQ4XSSTEP(0x6f9e08ca, 0x6f9e08eb, 0x6fbe090a, 0x6fbe092b) // v30.s[2], v30.s[3]
	WORD $0x4e21d94a // scvtf v10.4s, v10.4s
	WORD $0x4e21d96b // scvtf v11.4s, v11.4s
	WORD $0x4f97114c // fmla  v12.4s, v10.4s, v23.s[0]
	WORD $0x4f97116d // fmla  v13.4s, v11.4s, v23.s[0]

	ADD  $136, R0
	ADD  $292, R1
	SUBS $1, R2, R2
	BNE  iq4xsloop

	VST1 [V12.S4, V13.S4], (R3)
	RET

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
// holds 1 in every byte) and subtracts 4 (V31): Q3_K's values low - 4 where the high bit is clear
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

// func q3_KDotProd(w, x *byte, nblocks int, acc *[8]float32)
//
// The Q3_K dot product: values low 2 bits - 4 where the high bit is clear,
// multiplied as signed bytes by SDOT; one 6-bit scale - 32 per 16 values.
TEXT ·q3_KDotProd(SB), NOSPLIT, $0-32
	MOVD  w+0(FP), R0
	MOVD  x+8(FP), R1
	MOVD  nblocks+16(FP), R2
	MOVD  acc+24(FP), R3
	VMOVI $3, V30.B16
	VMOVI $1, V28.B16
	VMOVI $4, V31.B16
	VMOVI $32, V18.B16
	VEOR  V14.B16, V14.B16, V14.B16
	VEOR  V15.B16, V15.B16, V15.B16

q3kloop:
	// F23 = y.d·x.d (x.d is the block's last two bytes).
	FMOVS  (R1), F21
	MOVHU  108(R0), R4
	VMOV   R4, V22.H[0]
	FCVTHS F22, F22
	FMULS  F22, F21, F23

	// The sixteen 6-bit scales - 32, as ggml's scales128.
	MOVWU 96(R0), R4
	MOVWU 100(R0), R5
	MOVWU 104(R0), R6
	ANDW  $0x0f0f0f0f, R4, R8
	ANDW  $0x03030303, R6, R9
	ORRW  R9<<4, R8
	ANDW  $0x0f0f0f0f, R5, R10
	LSRW  $2, R6, R9
	ANDW  $0x03030303, R9
	ORRW  R9<<4, R10
	LSRW  $4, R4, R11
	ANDW  $0x0f0f0f0f, R11
	LSRW  $4, R6, R9
	ANDW  $0x03030303, R9
	ORRW  R9<<4, R11
	LSRW  $4, R5, R12
	ANDW  $0x0f0f0f0f, R12
	LSRW  $6, R6, R9
	ANDW  $0x03030303, R9
	ORRW  R9<<4, R12
	VMOV  R8, V19.S[0]
	VMOV  R10, V19.S[1]
	VMOV  R11, V19.S[2]
	VMOV  R12, V19.S[3]
	VSUB  V18.B16, V19.B16, V19.B16
	KSCALES16

	VLD1 (R0), [V4.B16, V5.B16]
	ADD  $32, R0, R5
	ADD  $4, R1, R7
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	VLD1.P 32(R5), [V0.B16, V1.B16]
	Q3KLOW0
	Q3KHIGH0
	KCHUNK16(0x6f98010c, 0x6fb8012d)
	Q3KLOW(2)
	Q3KHIGH(1)
	KCHUNK16(0x6f98090c, 0x6fb8092d)
	Q3KLOW(4)
	Q3KHIGH(2)
	KCHUNK16(0x6f99010c, 0x6fb9012d)
	Q3KLOW(6)
	Q3KHIGH(3)
	KCHUNK16(0x6f99090c, 0x6fb9092d)
	VLD1.P 32(R5), [V0.B16, V1.B16]
	Q3KLOW0
	Q3KHIGH(4)
	KCHUNK16(0x6f9a010c, 0x6fba012d)
	Q3KLOW(2)
	Q3KHIGH(5)
	KCHUNK16(0x6f9a090c, 0x6fba092d)
	Q3KLOW(4)
	Q3KHIGH(6)
	KCHUNK16(0x6f9b010c, 0x6fbb012d)
	Q3KLOW(6)
	Q3KHIGH(7)
	KCHUNK16(0x6f9b090c, 0x6fbb092d)
	KFINISH

	ADD  $110, R0
	ADD  $292, R1
	SUBS $1, R2, R2
	BNE  q3kloop

	VST1 [V14.S4, V15.S4], (R3)
	RET

// func q2_KDotProd(w, x *byte, nblocks int, acc *[8]float32)
//
// The Q2_K dot product: dmin·(minimums·bsums) subtracted lane by lane
// first, as ggml's AVX2 loop does, then the 2-bit values times their
// 4-bit scales (one per 16 values).
TEXT ·q2_KDotProd(SB), NOSPLIT, $0-32
	MOVD  w+0(FP), R0
	MOVD  x+8(FP), R1
	MOVD  nblocks+16(FP), R2
	MOVD  acc+24(FP), R3
	VMOVI $3, V30.B16
	VMOVI $15, V31.B16
	VEOR  V14.B16, V14.B16, V14.B16
	VEOR  V15.B16, V15.B16, V15.B16

q2kloop:
	VLD1  (R0), [V19.B16]
	VUSHR $4, V19.B16, V18.B16
	VAND  V31.B16, V19.B16, V19.B16
	ADD   $260, R1, R4
	VLD1  (R4), [V16.H8, V17.H8]
	WORD  $0x2f08a654 // uxtl   v20.8h, v18.8b
	WORD  $0x6f08a655 // uxtl2  v21.8h, v18.16b
	WORD  $0x0e74c208 // smull  v8.4s, v16.4h, v20.4h
	WORD  $0x4e74c209 // smull2 v9.4s, v16.8h, v20.8h
	WORD  $0x4ea9bd1c // addp   v28.4s, v8.4s, v9.4s
	WORD  $0x0e75c228 // smull  v8.4s, v17.4h, v21.4h
	WORD  $0x4e75c229 // smull2 v9.4s, v17.8h, v21.8h
	WORD  $0x4ea9bd1d // addp   v29.4s, v8.4s, v9.4s
	WORD  $0x4e21db9c // scvtf  v28.4s, v28.4s
	WORD  $0x4e21dbbd // scvtf  v29.4s, v29.4s

	// F23 = y.d·x.d, F18 = y.d·x.dmin (the block's last four bytes).
	FMOVS  (R1), F21
	MOVHU  80(R0), R4
	VMOV   R4, V22.H[0]
	FCVTHS F22, F22
	FMULS  F22, F21, F23
	MOVHU  82(R0), R4
	VMOV   R4, V22.H[0]
	FCVTHS F22, F22
	FMULS  F22, F21, F18
	WORD   $0x4f92538e // fmls v14.4s, v28.4s, v18.s[0]
	WORD   $0x4f9253af // fmls v15.4s, v29.4s, v18.s[0]

	KSCALES16
	ADD  $16, R0, R5
	ADD  $4, R1, R7
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	VLD1.P 32(R5), [V0.B16, V1.B16]
	Q3KLOW0
	KCHUNK16(0x6f98010c, 0x6fb8012d)
	Q3KLOW(2)
	KCHUNK16(0x6f98090c, 0x6fb8092d)
	Q3KLOW(4)
	KCHUNK16(0x6f99010c, 0x6fb9012d)
	Q3KLOW(6)
	KCHUNK16(0x6f99090c, 0x6fb9092d)
	VLD1.P 32(R5), [V0.B16, V1.B16]
	Q3KLOW0
	KCHUNK16(0x6f9a010c, 0x6fba012d)
	Q3KLOW(2)
	KCHUNK16(0x6f9a090c, 0x6fba092d)
	Q3KLOW(4)
	KCHUNK16(0x6f9b010c, 0x6fbb012d)
	Q3KLOW(6)
	KCHUNK16(0x6f9b090c, 0x6fbb092d)
	KFINISH

	ADD  $84, R0
	ADD  $292, R1
	SUBS $1, R2, R2
	BNE  q2kloop

	VST1 [V14.S4, V15.S4], (R3)
	RET
