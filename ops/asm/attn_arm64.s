//go:build !purego

#include "textflag.h"

// The tiles of attention with NEON: scores of four query heads against
// sixteen keys, and values of sixteen dimensions for four heads, per step,
// in sixteen accumulators V0-V15 (V(4r+c) holds row r's lanes 4c…4c+3).
// Each product is FMUL then FADD, rounding as Go's float32(a*b) and += do
// in the twins in attn.go; FMLA rounds once and would differ from them.
// Assembly because Go does not vectorize: one broadcast (LD1R) of a query
// value (or a probability) serves four vectors of keys (or values). Vector
// FMUL and FADD are WORDs (Go's assembler lacks them; encodings in
// testdata/arm64_words.txt).

// MULADD16 adds V(20+r)·V(16+c) to V(4r+c) for rows r and columns c < 4,
// each product rounded (FMUL) before its addition (FADD), through V24-V31.
#define MULADD16 \
	WORD $0x6e30de98; /* fmul v24.4s, v20.4s, v16.4s */ \
	WORD $0x6e31de99; /* fmul v25.4s, v20.4s, v17.4s */ \
	WORD $0x6e32de9a; /* fmul v26.4s, v20.4s, v18.4s */ \
	WORD $0x6e33de9b; /* fmul v27.4s, v20.4s, v19.4s */ \
	WORD $0x6e30debc; /* fmul v28.4s, v21.4s, v16.4s */ \
	WORD $0x6e31debd; /* fmul v29.4s, v21.4s, v17.4s */ \
	WORD $0x6e32debe; /* fmul v30.4s, v21.4s, v18.4s */ \
	WORD $0x6e33debf; /* fmul v31.4s, v21.4s, v19.4s */ \
	WORD $0x4e38d400; /* fadd v0.4s, v0.4s, v24.4s   */ \
	WORD $0x4e39d421; /* fadd v1.4s, v1.4s, v25.4s   */ \
	WORD $0x4e3ad442; /* fadd v2.4s, v2.4s, v26.4s   */ \
	WORD $0x4e3bd463; /* fadd v3.4s, v3.4s, v27.4s   */ \
	WORD $0x6e30ded8; /* fmul v24.4s, v22.4s, v16.4s */ \
	WORD $0x6e31ded9; /* fmul v25.4s, v22.4s, v17.4s */ \
	WORD $0x6e32deda; /* fmul v26.4s, v22.4s, v18.4s */ \
	WORD $0x6e33dedb; /* fmul v27.4s, v22.4s, v19.4s */ \
	WORD $0x4e3cd484; /* fadd v4.4s, v4.4s, v28.4s   */ \
	WORD $0x4e3dd4a5; /* fadd v5.4s, v5.4s, v29.4s   */ \
	WORD $0x4e3ed4c6; /* fadd v6.4s, v6.4s, v30.4s   */ \
	WORD $0x4e3fd4e7; /* fadd v7.4s, v7.4s, v31.4s   */ \
	WORD $0x6e30defc; /* fmul v28.4s, v23.4s, v16.4s */ \
	WORD $0x6e31defd; /* fmul v29.4s, v23.4s, v17.4s */ \
	WORD $0x6e32defe; /* fmul v30.4s, v23.4s, v18.4s */ \
	WORD $0x6e33deff; /* fmul v31.4s, v23.4s, v19.4s */ \
	WORD $0x4e38d508; /* fadd v8.4s, v8.4s, v24.4s   */ \
	WORD $0x4e39d529; /* fadd v9.4s, v9.4s, v25.4s   */ \
	WORD $0x4e3ad54a; /* fadd v10.4s, v10.4s, v26.4s */ \
	WORD $0x4e3bd56b; /* fadd v11.4s, v11.4s, v27.4s */ \
	WORD $0x4e3cd58c; /* fadd v12.4s, v12.4s, v28.4s */ \
	WORD $0x4e3dd5ad; /* fadd v13.4s, v13.4s, v29.4s */ \
	WORD $0x4e3ed5ce; /* fadd v14.4s, v14.4s, v30.4s */ \
	WORD $0x4e3fd5ef  /* fadd v15.4s, v15.4s, v31.4s */

// SCALE16 multiplies V(4r+c) by lane r of V20.
#define SCALE16 \
	WORD $0x4f949000; /* fmul v0.4s, v0.4s, v20.s[0]   */ \
	WORD $0x4f949021; /* fmul v1.4s, v1.4s, v20.s[0]   */ \
	WORD $0x4f949042; /* fmul v2.4s, v2.4s, v20.s[0]   */ \
	WORD $0x4f949063; /* fmul v3.4s, v3.4s, v20.s[0]   */ \
	WORD $0x4fb49084; /* fmul v4.4s, v4.4s, v20.s[1]   */ \
	WORD $0x4fb490a5; /* fmul v5.4s, v5.4s, v20.s[1]   */ \
	WORD $0x4fb490c6; /* fmul v6.4s, v6.4s, v20.s[1]   */ \
	WORD $0x4fb490e7; /* fmul v7.4s, v7.4s, v20.s[1]   */ \
	WORD $0x4f949908; /* fmul v8.4s, v8.4s, v20.s[2]   */ \
	WORD $0x4f949929; /* fmul v9.4s, v9.4s, v20.s[2]   */ \
	WORD $0x4f94994a; /* fmul v10.4s, v10.4s, v20.s[2] */ \
	WORD $0x4f94996b; /* fmul v11.4s, v11.4s, v20.s[2] */ \
	WORD $0x4fb4998c; /* fmul v12.4s, v12.4s, v20.s[3] */ \
	WORD $0x4fb499ad; /* fmul v13.4s, v13.4s, v20.s[3] */ \
	WORD $0x4fb499ce; /* fmul v14.4s, v14.4s, v20.s[3] */ \
	WORD $0x4fb499ef  /* fmul v15.4s, v15.4s, v20.s[3] */

// ZERO16 zeroes the accumulators V0-V15.
#define ZERO16 \
	VEOR V0.B16, V0.B16, V0.B16;    \
	VEOR V1.B16, V1.B16, V1.B16;    \
	VEOR V2.B16, V2.B16, V2.B16;    \
	VEOR V3.B16, V3.B16, V3.B16;    \
	VEOR V4.B16, V4.B16, V4.B16;    \
	VEOR V5.B16, V5.B16, V5.B16;    \
	VEOR V6.B16, V6.B16, V6.B16;    \
	VEOR V7.B16, V7.B16, V7.B16;    \
	VEOR V8.B16, V8.B16, V8.B16;    \
	VEOR V9.B16, V9.B16, V9.B16;    \
	VEOR V10.B16, V10.B16, V10.B16; \
	VEOR V11.B16, V11.B16, V11.B16; \
	VEOR V12.B16, V12.B16, V12.B16; \
	VEOR V13.B16, V13.B16, V13.B16; \
	VEOR V14.B16, V14.B16, V14.B16; \
	VEOR V15.B16, V15.B16, V15.B16

// ADDROW adds the words' four FADDs (one row's chunk sums onto V24-V27) to
// the sixteen scores at R15 and moves R15 to the next row (R4 bytes on).
#define ADDROW(w0, w1, w2, w3) \
	VLD1 (R15), [V24.S4, V25.S4, V26.S4, V27.S4]; \
	WORD $w0;                                     \
	WORD $w1;                                     \
	WORD $w2;                                     \
	WORD $w3;                                     \
	VST1 [V24.S4, V25.S4, V26.S4, V27.S4], (R15); \
	ADD  R4, R15, R15

// func attnScoresTiles(s, q, kt *float32, rows, cols, hd int)
// Each score sums 32 products at a time into a register, then the chunk
// onto the score in memory (zeroed first).
// rows a positive multiple of 4, cols of 16, hd positive.
TEXT ·attnScoresTiles(SB), NOSPLIT, $0-48
	MOVD s+0(FP), R0
	MOVD q+8(FP), R1
	MOVD kt+16(FP), R2
	MOVD rows+24(FP), R3
	MOVD cols+32(FP), R4
	LSL  $2, R4, R4 // bytes per row of s and of kt
	MOVD hd+40(FP), R6
	LSL  $2, R6, R6 // bytes per row of q

scoreRows:
	MOVD ZR, R7 // byte offset of the sixteen keys in a row of s and kt

scoreCols:
	ZERO16
	ADD  R0, R7, R15
	VST1 [V0.S4, V1.S4, V2.S4, V3.S4], (R15)
	ADD  R4, R15, R15
	VST1 [V0.S4, V1.S4, V2.S4, V3.S4], (R15)
	ADD  R4, R15, R15
	VST1 [V0.S4, V1.S4, V2.S4, V3.S4], (R15)
	ADD  R4, R15, R15
	VST1 [V0.S4, V1.S4, V2.S4, V3.S4], (R15)
	MOVD R1, R8
	ADD  R6, R8, R9
	ADD  R6, R9, R10
	ADD  R6, R10, R11
	ADD  R2, R7, R12
	ADD  R1, R6, R14 // end of row 0 of q

scoreChunk:
	SUB  R8, R14, R13
	LSR  $2, R13, R13
	CMP  $32, R13
	BLS  scoreChunkZero
	MOVD $32, R13

scoreChunkZero:
	ZERO16

scoreDims:
	VLD1    (R12), [V16.S4, V17.S4, V18.S4, V19.S4]
	ADD     R4, R12, R12
	VLD1R.P 4(R8), [V20.S4]
	VLD1R.P 4(R9), [V21.S4]
	VLD1R.P 4(R10), [V22.S4]
	VLD1R.P 4(R11), [V23.S4]
	MULADD16
	SUBS    $1, R13, R13
	BNE     scoreDims

	// The chunk's sums onto the scores so far.
	ADD R0, R7, R15
	ADDROW(0x4e20d718, 0x4e21d739, 0x4e22d75a, 0x4e23d77b) // = fadd v24.4s, v24.4s, v0.4s; fadd v25.4s, v25.4s, v1.4s; fadd v26.4s, v26.4s, v2.4s; fadd v27.4s, v27.4s, v3.4s
	ADDROW(0x4e24d718, 0x4e25d739, 0x4e26d75a, 0x4e27d77b) // = fadd v24.4s, v24.4s, v4.4s; fadd v25.4s, v25.4s, v5.4s; fadd v26.4s, v26.4s, v6.4s; fadd v27.4s, v27.4s, v7.4s
	ADDROW(0x4e28d718, 0x4e29d739, 0x4e2ad75a, 0x4e2bd77b) // = fadd v24.4s, v24.4s, v8.4s; fadd v25.4s, v25.4s, v9.4s; fadd v26.4s, v26.4s, v10.4s; fadd v27.4s, v27.4s, v11.4s
	ADDROW(0x4e2cd718, 0x4e2dd739, 0x4e2ed75a, 0x4e2fd77b) // = fadd v24.4s, v24.4s, v12.4s; fadd v25.4s, v25.4s, v13.4s; fadd v26.4s, v26.4s, v14.4s; fadd v27.4s, v27.4s, v15.4s
	CMP  R14, R8
	BLO  scoreChunk
	ADD  $64, R7, R7
	CMP  R4, R7
	BLO  scoreCols
	ADD  R6<<2, R1, R1
	ADD  R4<<2, R0, R0
	SUBS $4, R3, R3
	BNE  scoreRows
	RET

// func attnValuesTiles(acc, alpha, p *float32, ldp int, v *float32, ldv, rows, keys, hd int)
// rows a positive multiple of 4, hd of 16, keys non-negative.
TEXT ·attnValuesTiles(SB), NOSPLIT, $0-72
	MOVD acc+0(FP), R0
	MOVD alpha+8(FP), R1
	MOVD p+16(FP), R2
	MOVD ldp+24(FP), R3
	LSL  $2, R3, R3 // bytes per row of p
	MOVD v+32(FP), R4
	MOVD ldv+40(FP), R5
	LSL  $2, R5, R5 // bytes per row of v
	MOVD rows+48(FP), R6
	MOVD keys+56(FP), R7
	MOVD hd+64(FP), R8
	LSL  $2, R8, R8 // bytes per row of acc

valueRows:
	MOVD ZR, R9 // byte offset of the sixteen dimensions

valueDims:
	ADD  R0, R9, R10
	ADD  R8, R10, R11
	ADD  R8, R11, R12
	ADD  R8, R12, R13
	VLD1 (R10), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1 (R11), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1 (R12), [V8.S4, V9.S4, V10.S4, V11.S4]
	VLD1 (R13), [V12.S4, V13.S4, V14.S4, V15.S4]
	VLD1 (R1), [V20.S4]
	SCALE16
	MOVD R2, R14
	ADD  R3, R14, R15
	ADD  R3, R15, R19
	ADD  R3, R19, R20
	ADD  R4, R9, R21
	MOVD R7, R22
	CBZ  R22, valueStore

valueKeys:
	VLD1    (R21), [V16.S4, V17.S4, V18.S4, V19.S4]
	ADD     R5, R21, R21
	VLD1R.P 4(R14), [V20.S4]
	VLD1R.P 4(R15), [V21.S4]
	VLD1R.P 4(R19), [V22.S4]
	VLD1R.P 4(R20), [V23.S4]
	MULADD16
	SUBS    $1, R22, R22
	BNE     valueKeys

valueStore:
	VST1 [V0.S4, V1.S4, V2.S4, V3.S4], (R10)
	VST1 [V4.S4, V5.S4, V6.S4, V7.S4], (R11)
	VST1 [V8.S4, V9.S4, V10.S4, V11.S4], (R12)
	VST1 [V12.S4, V13.S4, V14.S4, V15.S4], (R13)
	ADD  $64, R9, R9
	CMP  R8, R9
	BLO  valueDims
	ADD  R8<<2, R0, R0
	ADD  $16, R1, R1
	ADD  R3<<2, R2, R2
	SUBS $4, R6, R6
	BNE  valueRows
	RET
