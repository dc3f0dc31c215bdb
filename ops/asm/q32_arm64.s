//go:build !purego

#include "textflag.h"

// Q4_1, Q5_0, Q5_1 and IQ4_NL dot products on CPUs with SDOT, following
// llama.cpp's x86 AVX2 loops lane for lane like kquant_arm64.s: SDOT sums
// four consecutive byte products per int32 lane (the first 16 values of a
// block in one four-lane vector, the last 16 in another), exactly and for
// signed weights without VPSIGNB's exception at -128; each block's lanes are
// accumulated with fused multiply-adds, so the results equal the generic
// twins bit for bit. Instructions Go's assembler lacks are WORDs, each with
// its instruction text (checked by TestArm64WordsMatchTheirInstructions).

DATA q32KValues<>+0(SB)/8, $0xF6EADDCFBFAD9881
DATA q32KValues<>+8(SB)/8, $0x7159453526190D01
GLOBL q32KValues<>(SB), RODATA|NOPTR, $16

// q32Bits: TBL indices spreading byte k/8 of the fifth-bit word to byte k
// (the first 16 values, then the last 16), and the bit each byte keeps.
DATA q32Bits<>+0(SB)/8, $0x0000000000000000
DATA q32Bits<>+8(SB)/8, $0x0101010101010101
DATA q32Bits<>+16(SB)/8, $0x0202020202020202
DATA q32Bits<>+24(SB)/8, $0x0303030303030303
DATA q32Bits<>+32(SB)/8, $0x8040201008040201
DATA q32Bits<>+40(SB)/8, $0x8040201008040201
GLOBL q32Bits<>(SB), RODATA|NOPTR, $48

// F16 sets the float32 register f to the fp16 at off(r); R4 and V22 are
// clobbered.
#define F16(off, r, f) \
	MOVHU  off(r), R4;   \
	VMOV   R4, V22.H[0]; \
	FCVTHS F22, f

// Q32CONSTS sets V27 to 15 in every byte, V25 to 16, V28 to the IQ4_NL
// values, V29 and V30 to the q32Bits indices and V31 to its bits.
#define Q32CONSTS \
	VMOVI $15, V27.B16;                       \
	VMOVI $16, V25.B16;                       \
	MOVD  $q32KValues<>(SB), R4;              \
	VLD1  (R4), [V28.B16];                    \
	MOVD  $q32Bits<>(SB), R4;                 \
	VLD1  (R4), [V29.B16, V30.B16, V31.B16]

// NIBBLES32 sets V2 and V3 to the low and high nibbles of the 16 bytes at
// off(R0).
#define NIBBLES32(off) \
	ADD   $off, R0, R5;            \
	VLD1  (R5), [V0.B16];          \
	VAND  V27.B16, V0.B16, V2.B16; \
	VUSHR $4, V0.B16, V3.B16

// FIFTH ORs 16 into the values V2 (first 16) and V3 (last 16) whose bit is
// set in the little-endian word at off(R0).
#define FIFTH(off) \
	MOVWU off(R0), R4;                                     \
	VMOV  R4, V26.S[0];                                    \
	WORD  $0x4e1d0352; /* tbl  v18.16b, {v26.16b}, v29.16b */ \
	WORD  $0x4e1e0353; /* tbl  v19.16b, {v26.16b}, v30.16b */ \
	VAND  V31.B16, V18.B16, V18.B16;                       \
	VAND  V31.B16, V19.B16, V19.B16;                       \
	WORD  $0x6e3f8e52; /* cmeq v18.16b, v18.16b, v31.16b */   \
	WORD  $0x6e3f8e73; /* cmeq v19.16b, v19.16b, v31.16b */   \
	VAND  V25.B16, V18.B16, V18.B16;                       \
	VAND  V25.B16, V19.B16, V19.B16;                       \
	VORR  V18.B16, V2.B16, V2.B16;                         \
	VORR  V19.B16, V3.B16, V3.B16

// DOT32 sets the int32 lanes V6, V7 to the sums of V2, V3 times the 32
// activations at off(R1), converted to float32.
#define DOT32(off) \
	ADD  $off, R1, R6;                                  \
	VLD1 (R6), [V16.B16, V17.B16];                      \
	VEOR V6.B16, V6.B16, V6.B16;                        \
	VEOR V7.B16, V7.B16, V7.B16;                        \
	WORD $0x4e909446; /* sdot  v6.4s, v2.16b, v16.16b */ \
	WORD $0x4e919467; /* sdot  v7.4s, v3.16b, v17.16b */ \
	WORD $0x4e21d8c6; /* scvtf v6.4s, v6.4s */          \
	WORD $0x4e21d8e7  /* scvtf v7.4s, v7.4s */

// ACC32 adds V6, V7 times F23 into V12, V13 with fused multiply-adds.
#define ACC32 \
	WORD $0x4f9710cc; /* fmla v12.4s, v6.4s, v23.s[0] */ \
	WORD $0x4f9710ed  /* fmla v13.4s, v7.4s, v23.s[0] */

// MINS32 sets F23 to w.d·x.d and adds w.m·x.s to F9 with a fused
// multiply-add (Q4_1 and Q5_1 with Q8_1).
#define MINS32 \
	F16(0, R0, F20);           \
	F16(0, R1, F21);           \
	FMULS  F21, F20, F23;      \
	F16(2, R0, F10);           \
	F16(2, R1, F11);           \
	FMADDS F11, F9, F10, F9

#define PROLOGUE32 \
	MOVD w+0(FP), R0;               \
	MOVD x+8(FP), R1;               \
	MOVD nblocks+16(FP), R2;        \
	MOVD acc+24(FP), R3;            \
	Q32CONSTS;                      \
	VEOR V12.B16, V12.B16, V12.B16; \
	VEOR V13.B16, V13.B16, V13.B16; \
	VEOR V14.B16, V14.B16, V14.B16; \
	VEOR V15.B16, V15.B16, V15.B16; \
	VEOR V9.B16, V9.B16, V9.B16

// func q4_1DotProd(w, x *byte, nblocks int, acc *[9]float32)
TEXT ·q4_1DotProd(SB), NOSPLIT, $0-32
	PROLOGUE32

q41loop:
	MINS32
	NIBBLES32(4)
	DOT32(4)
	ACC32
	ADD  $20, R0
	ADD  $36, R1
	SUBS $1, R2, R2
	BNE  q41loop

	VST1  [V12.S4, V13.S4], (R3)
	FMOVS F9, 32(R3)
	RET

// func q5_1DotProd(w, x *byte, nblocks int, acc *[9]float32)
TEXT ·q5_1DotProd(SB), NOSPLIT, $0-32
	PROLOGUE32

q51loop:
	MINS32
	NIBBLES32(8)
	FIFTH(4)
	DOT32(4)
	ACC32
	ADD  $24, R0
	ADD  $36, R1
	SUBS $1, R2, R2
	BNE  q51loop

	VST1  [V12.S4, V13.S4], (R3)
	FMOVS F9, 32(R3)
	RET

// func q5_0DotProd(w, x *byte, nblocks int, acc *[8]float32)
TEXT ·q5_0DotProd(SB), NOSPLIT, $0-32
	PROLOGUE32

q50loop:
	F16(0, R0, F20)
	F16(0, R1, F21)
	FMULS F21, F20, F23
	NIBBLES32(6)
	FIFTH(2)
	VSUB  V25.B16, V2.B16, V2.B16
	VSUB  V25.B16, V3.B16, V3.B16
	DOT32(2)
	ACC32
	ADD   $22, R0
	ADD   $34, R1
	SUBS  $1, R2, R2
	BNE   q50loop

	VST1 [V12.S4, V13.S4], (R3)
	RET

// IQ4NL32 sets V6, V7 to the lanes of the IQ4_NL block at R0 times the
// Q8_0 block at R1, and F23 to the product of their scales.
#define IQ4NL32 \
	F16(0, R1, F21);      \
	F16(0, R0, F20);      \
	FMULS F20, F21, F23;  \
	NIBBLES32(2);         \
	WORD $0x4e020382; /* tbl v2.16b, {v28.16b}, v2.16b */ \
	WORD $0x4e030383; /* tbl v3.16b, {v28.16b}, v3.16b */ \
	DOT32(2)

// func iq4_NLDotProd(w, x *byte, npairs int, acc *[16]float32)
TEXT ·iq4_NLDotProd(SB), NOSPLIT, $0-32
	MOVD npairs+16(FP), R2
	MOVD w+0(FP), R0
	MOVD x+8(FP), R1
	MOVD acc+24(FP), R3
	Q32CONSTS
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	VEOR V14.B16, V14.B16, V14.B16
	VEOR V15.B16, V15.B16, V15.B16

iq4nlloop:
	IQ4NL32
	ACC32
	ADD  $18, R0
	ADD  $34, R1
	IQ4NL32
	WORD $0x4f9710ce // fmla v14.4s, v6.4s, v23.s[0]
	WORD $0x4f9710ef // fmla v15.4s, v7.4s, v23.s[0]
	ADD  $18, R0
	ADD  $34, R1
	SUBS $1, R2, R2
	BNE  iq4nlloop

	VST1 [V12.S4, V13.S4, V14.S4, V15.S4], (R3)
	RET
