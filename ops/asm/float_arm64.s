//go:build !purego

#include "textflag.h"

// Float dot products with NEON: 16 values per iteration into four
// accumulators of four lanes (VFMLA). The callers pass a multiple of 16
// values and add the remainder in Go. The routines differ only in how one
// row's 16 values become float32 lanes V0-V3: a plain load (F32), FCVTL
// (F16) or interleaving zero halves below each bfloat16 (BF16). FCVTL and
// the vector FADD/FADDP are WORDs (encodings checked with llvm-mc).

#define LOADF32 VLD1.P 64(R0), [V0.S4, V1.S4, V2.S4, V3.S4]

#define LOADF16 \
	VLD1.P 32(R0), [V8.H8, V9.H8]; \
	WORD $0x0e217900; /* fcvtl  v0.4s, v8.4h */ \
	WORD $0x4e217901; /* fcvtl2 v1.4s, v8.8h */ \
	WORD $0x0e217922; /* fcvtl  v2.4s, v9.4h */ \
	WORD $0x4e217923  /* fcvtl2 v3.4s, v9.8h */

#define LOADBF16 \
	VLD1.P 32(R0), [V8.H8, V9.H8]; \
	VZIP1  V8.H8, V29.H8, V0.H8;   \
	VZIP2  V8.H8, V29.H8, V1.H8;   \
	VZIP1  V9.H8, V29.H8, V2.H8;   \
	VZIP2  V9.H8, V29.H8, V3.H8

#define PROLOGUE \
	MOVD w+0(FP), R0;  \
	MOVD x+8(FP), R1;  \
	MOVD n+16(FP), R2; \
	VEOR V16.B16, V16.B16, V16.B16; \
	VEOR V17.B16, V17.B16, V17.B16; \
	VEOR V18.B16, V18.B16, V18.B16; \
	VEOR V19.B16, V19.B16, V19.B16; \
	VEOR V29.B16, V29.B16, V29.B16

#define FMA4 \
	VLD1.P 64(R1), [V4.S4, V5.S4, V6.S4, V7.S4]; \
	VFMLA  V4.S4, V0.S4, V16.S4; \
	VFMLA  V5.S4, V1.S4, V17.S4; \
	VFMLA  V6.S4, V2.S4, V18.S4; \
	VFMLA  V7.S4, V3.S4, V19.S4

// HSUM sets F16 to the sum of the lanes of V16-V19.
#define HSUM \
	WORD $0x4e31d610; /* fadd  v16.4s, v16.4s, v17.4s */ \
	WORD $0x4e33d652; /* fadd  v18.4s, v18.4s, v19.4s */ \
	WORD $0x4e32d610; /* fadd  v16.4s, v16.4s, v18.4s */ \
	WORD $0x6e30d610; /* faddp v16.4s, v16.4s, v16.4s */ \
	WORD $0x7e30da10  /* faddp s16, v16.2s */

// func f32NEON(w unsafe.Pointer, x *float32, n int) float32
TEXT ·f32NEON(SB), NOSPLIT, $0-28
	PROLOGUE
	CBZ R2, f32done

f32loop:
	LOADF32
	FMA4
	SUBS $16, R2, R2
	BNE  f32loop

f32done:
	HSUM
	FMOVS F16, ret+24(FP)
	RET

// func f16NEON(w *byte, x *float32, n int) float32
TEXT ·f16NEON(SB), NOSPLIT, $0-28
	PROLOGUE
	CBZ R2, f16done

f16loop:
	LOADF16
	FMA4
	SUBS $16, R2, R2
	BNE  f16loop

f16done:
	HSUM
	FMOVS F16, ret+24(FP)
	RET

// func bf16NEON(w *byte, x *float32, n int) float32
TEXT ·bf16NEON(SB), NOSPLIT, $0-28
	PROLOGUE
	CBZ R2, bf16done

bf16loop:
	LOADBF16
	FMA4
	SUBS $16, R2, R2
	BNE  bf16loop

bf16done:
	HSUM
	FMOVS F16, ret+24(FP)
	RET
