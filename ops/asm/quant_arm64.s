//go:build !purego

#include "textflag.h"

// Quantized dot products with NEON. Go's arm64 assembler lacks SMULL,
// SADALP, SDOT, SCVTF (vector), FMLA (by element) and FADDP, so they are
// spelled as WORDs, each with the instruction it encodes (checked with
// llvm-mc). Per 32-value block the int8 products are summed exactly into
// four int32 lanes of V16 (SMULL/SMULL2 + SADDLP/SADALP: every int8
// product, even -128·-128, fits in int16; or SDOT on CPUs with the dot
// product extension), converted to float32 and accumulated into V20 times
// the product of the two fp16 scales. Only the float summation order
// differs from the generic kernel.

// SCALE sets F8 to the product of the fp16 scales at (R0) and (R1) and
// advances both pointers past them.
#define SCALE \
	MOVHU.P 2(R0), R4;  \
	MOVHU.P 2(R1), R5;  \
	VMOV    R4, V8.H[0]; \
	VMOV    R5, V9.H[0]; \
	FCVTHS  F8, F8;     \
	FCVTHS  F9, F9;     \
	FMULS   F9, F8, F8

// LOADX loads the 32 activations at (R1) into V2 and V3.
#define LOADX VLD1.P 32(R1), [V2.B16, V3.B16]

// NIBBLES loads the 16 bytes of Q4_0 nibbles at (R0) and sets V0 and V1 to
// the values of the block's first and second 16 weights, minus 8.
#define NIBBLES \
	VLD1.P 16(R0), [V0.B16];    \
	VUSHR  $4, V0.B16, V1.B16;  \
	VAND   V30.B16, V0.B16, V0.B16; \
	VSUB   V31.B16, V0.B16, V0.B16; \
	VSUB   V31.B16, V1.B16, V1.B16

// ISUM sets the lanes of V16 to partial sums of V0·V2 + V1·V3 (int8).
#define ISUM \
	WORD $0x0e22c004; /* smull  v4.8h, v0.8b, v2.8b */   \
	WORD $0x4e22c005; /* smull2 v5.8h, v0.16b, v2.16b */ \
	WORD $0x0e23c026; /* smull  v6.8h, v1.8b, v3.8b */   \
	WORD $0x4e23c027; /* smull2 v7.8h, v1.16b, v3.16b */ \
	WORD $0x4e602890; /* saddlp v16.4s, v4.8h */         \
	WORD $0x4e6068b0; /* sadalp v16.4s, v5.8h */         \
	WORD $0x4e6068d0; /* sadalp v16.4s, v6.8h */         \
	WORD $0x4e6068f0  /* sadalp v16.4s, v7.8h */

// ISUMDOT is ISUM with SDOT.
#define ISUMDOT \
	VEOR V16.B16, V16.B16, V16.B16; \
	WORD $0x4e829410; /* sdot v16.4s, v0.16b, v2.16b */ \
	WORD $0x4e839430  /* sdot v16.4s, v1.16b, v3.16b */

// ACCUMULATE adds float32(V16) · F8 to V20.
#define ACCUMULATE \
	WORD $0x4e21da10; /* scvtf v16.4s, v16.4s */      \
	WORD $0x4f881214  /* fmla v20.4s, v16.4s, v8.s[0] */

// HSUM sets F20 to the sum of the lanes of V20.
#define HSUM \
	WORD $0x6e34d694; /* faddp v20.4s, v20.4s, v20.4s */ \
	WORD $0x7e30da94  /* faddp s20, v20.2s */

#define PROLOGUE \
	MOVD w+0(FP), R0;        \
	MOVD x+8(FP), R1;        \
	MOVD nblocks+16(FP), R2; \
	VEOR V20.B16, V20.B16, V20.B16

// func q8_0NEON(w, x *byte, nblocks int) float32
TEXT ·q8_0NEON(SB), NOSPLIT, $0-28
	PROLOGUE
	CBZ R2, q8done

q8loop:
	SCALE
	VLD1.P 32(R0), [V0.B16, V1.B16]
	LOADX
	ISUM
	ACCUMULATE
	SUBS $1, R2, R2
	BNE  q8loop

q8done:
	HSUM
	FMOVS F20, ret+24(FP)
	RET

// func q4_0Q8_0NEON(w, x *byte, nblocks int) float32
TEXT ·q4_0Q8_0NEON(SB), NOSPLIT, $0-28
	PROLOGUE
	VMOVI $15, V30.B16
	VMOVI $8, V31.B16
	CBZ   R2, q4done

q4loop:
	SCALE
	NIBBLES
	LOADX
	ISUM
	ACCUMULATE
	SUBS $1, R2, R2
	BNE  q4loop

q4done:
	HSUM
	FMOVS F20, ret+24(FP)
	RET

// func q8_0DotProd(w, x *byte, nblocks int) float32
TEXT ·q8_0DotProd(SB), NOSPLIT, $0-28
	PROLOGUE
	CBZ R2, q8ddone

q8dloop:
	SCALE
	VLD1.P 32(R0), [V0.B16, V1.B16]
	LOADX
	ISUMDOT
	ACCUMULATE
	SUBS $1, R2, R2
	BNE  q8dloop

q8ddone:
	HSUM
	FMOVS F20, ret+24(FP)
	RET

// func q4_0Q8_0DotProd(w, x *byte, nblocks int) float32
TEXT ·q4_0Q8_0DotProd(SB), NOSPLIT, $0-28
	PROLOGUE
	VMOVI $15, V30.B16
	VMOVI $8, V31.B16
	CBZ   R2, q4ddone

q4dloop:
	SCALE
	NIBBLES
	LOADX
	ISUMDOT
	ACCUMULATE
	SUBS $1, R2, R2
	BNE  q4dloop

q4ddone:
	HSUM
	FMOVS F20, ret+24(FP)
	RET
