//go:build !purego

#include "textflag.h"

// Multi-row quantized dot products with NEON: one weight row against four
// (or two) Q8_0 activation rows. Each weight block is loaded once; every row keeps
// the single accumulator, the operations and their operand order of the
// single-row kernels (quant_arm64.s), so that each result equals theirs
// bit for bit. Instructions the Go assembler lacks are WORDs, as there.
//
// Registers: R0 weights, R1 R2 R3 R6 the four activation rows, R7 the
// blocks left, R8 the output, R4 R5 scratch. The weight block is in V0 and
// V1, its scale (float32) in F10; row i accumulates into V20+i.

// WSCALE sets F10 to the fp16 weight scale at (R0) and advances R0.
#define WSCALE \
	MOVHU.P 2(R0), R4;   \
	VMOV    R4, V10.H[0]; \
	FCVTHS  F10, F10

// XSCALE sets F8 to F10 times the fp16 scale at (xp) and advances xp.
#define XSCALE(xp) \
	MOVHU.P 2(xp), R5;   \
	VMOV    R5, V9.H[0]; \
	FCVTHS  F9, F9;      \
	FMULS   F9, F10, F8

#define LOADX(xp) VLD1.P 32(xp), [V2.B16, V3.B16]

// NIBBLES is NIBBLES of quant_arm64.s.
#define NIBBLES \
	VLD1.P 16(R0), [V0.B16];    \
	VUSHR  $4, V0.B16, V1.B16;  \
	VAND   V30.B16, V0.B16, V0.B16; \
	VSUB   V31.B16, V0.B16, V0.B16; \
	VSUB   V31.B16, V1.B16, V1.B16

#define ISUM \
	WORD $0x0e22c004; /* smull  v4.8h, v0.8b, v2.8b */   \
	WORD $0x4e22c005; /* smull2 v5.8h, v0.16b, v2.16b */ \
	WORD $0x0e23c026; /* smull  v6.8h, v1.8b, v3.8b */   \
	WORD $0x4e23c027; /* smull2 v7.8h, v1.16b, v3.16b */ \
	WORD $0x4e602890; /* saddlp v16.4s, v4.8h */         \
	WORD $0x4e6068b0; /* sadalp v16.4s, v5.8h */         \
	WORD $0x4e6068d0; /* sadalp v16.4s, v6.8h */         \
	WORD $0x4e6068f0  /* sadalp v16.4s, v7.8h */

#define ISUMDOT \
	VEOR V16.B16, V16.B16, V16.B16; \
	WORD $0x4e829410; /* sdot v16.4s, v0.16b, v2.16b */ \
	WORD $0x4e839430  /* sdot v16.4s, v1.16b, v3.16b */

#define SCVTF WORD $0x4e21da10 /* scvtf v16.4s, v16.4s */

// ROW adds the activation block at (xp) · the weight block to V20+i, where
// fmla is the encoding of fmla v(20+i).4s, v16.4s, v8.s[0].
#define ROW(xp, isum, fmla) \
	XSCALE(xp); \
	LOADX(xp);  \
	isum;       \
	SCVTF;      \
	WORD $fmla

#define ROWS(isum) \
	ROW(R1, isum, 0x4f881214); \
	ROW(R2, isum, 0x4f881215); \
	ROW(R3, isum, 0x4f881216); \
	ROW(R6, isum, 0x4f881217)

#define PROLOGUE \
	MOVD w+0(FP), R0;        \
	MOVD x0+8(FP), R1;       \
	MOVD x1+16(FP), R2;      \
	MOVD x2+24(FP), R3;      \
	MOVD x3+32(FP), R6;      \
	MOVD nblocks+40(FP), R7; \
	MOVD out+48(FP), R8;     \
	VEOR V20.B16, V20.B16, V20.B16; \
	VEOR V21.B16, V21.B16, V21.B16; \
	VEOR V22.B16, V22.B16, V22.B16; \
	VEOR V23.B16, V23.B16, V23.B16

#define EPILOGUE \
	WORD  $0x6e34d694; /* faddp v20.4s, v20.4s, v20.4s */ \
	WORD  $0x7e30da94; /* faddp s20, v20.2s */            \
	WORD  $0x6e35d6b5; /* faddp v21.4s, v21.4s, v21.4s */ \
	WORD  $0x7e30dab5; /* faddp s21, v21.2s */            \
	WORD  $0x6e36d6d6; /* faddp v22.4s, v22.4s, v22.4s */ \
	WORD  $0x7e30dad6; /* faddp s22, v22.2s */            \
	WORD  $0x6e37d6f7; /* faddp v23.4s, v23.4s, v23.4s */ \
	WORD  $0x7e30daf7; /* faddp s23, v23.2s */            \
	FMOVS F20, 0(R8);  \
	FMOVS F21, 4(R8);  \
	FMOVS F22, 8(R8);  \
	FMOVS F23, 12(R8); \
	RET

// PROLOGUE2 and EPILOGUE2 are for the two-row kernels: R0 weights, R1
// R2 the activation rows, R7 the blocks left, R8 the output.
#define PROLOGUE2 \
	MOVD w+0(FP), R0;        \
	MOVD x0+8(FP), R1;       \
	MOVD x1+16(FP), R2;      \
	MOVD nblocks+24(FP), R7; \
	MOVD out+32(FP), R8;     \
	VEOR V20.B16, V20.B16, V20.B16; \
	VEOR V21.B16, V21.B16, V21.B16

#define EPILOGUE2 \
	WORD  $0x6e34d694; /* faddp v20.4s, v20.4s, v20.4s */ \
	WORD  $0x7e30da94; /* faddp s20, v20.2s */            \
	WORD  $0x6e35d6b5; /* faddp v21.4s, v21.4s, v21.4s */ \
	WORD  $0x7e30dab5; /* faddp s21, v21.2s */            \
	FMOVS F20, 0(R8);  \
	FMOVS F21, 4(R8);  \
	RET

#define ROWS2(isum) \
	ROW(R1, isum, 0x4f881214); \
	ROW(R2, isum, 0x4f881215)

// func q8_0x4NEON(w, x0, x1, x2, x3 *byte, nblocks int, out *[4]float32)
TEXT ·q8_0x4NEON(SB), NOSPLIT, $0-56
	PROLOGUE
	CBZ R7, q8done

q8loop:
	WSCALE
	VLD1.P 32(R0), [V0.B16, V1.B16]
	ROWS(ISUM)
	SUBS $1, R7, R7
	BNE  q8loop

q8done:
	EPILOGUE

// func q4_0Q8_0x4NEON(w, x0, x1, x2, x3 *byte, nblocks int, out *[4]float32)
TEXT ·q4_0Q8_0x4NEON(SB), NOSPLIT, $0-56
	PROLOGUE
	VMOVI $15, V30.B16
	VMOVI $8, V31.B16
	CBZ   R7, q4done

q4loop:
	WSCALE
	NIBBLES
	ROWS(ISUM)
	SUBS $1, R7, R7
	BNE  q4loop

q4done:
	EPILOGUE

// func q8_0x4DotProd(w, x0, x1, x2, x3 *byte, nblocks int, out *[4]float32)
TEXT ·q8_0x4DotProd(SB), NOSPLIT, $0-56
	PROLOGUE
	CBZ R7, q8ddone

q8dloop:
	WSCALE
	VLD1.P 32(R0), [V0.B16, V1.B16]
	ROWS(ISUMDOT)
	SUBS $1, R7, R7
	BNE  q8dloop

q8ddone:
	EPILOGUE

// func q4_0Q8_0x4DotProd(w, x0, x1, x2, x3 *byte, nblocks int, out *[4]float32)
TEXT ·q4_0Q8_0x4DotProd(SB), NOSPLIT, $0-56
	PROLOGUE
	VMOVI $15, V30.B16
	VMOVI $8, V31.B16
	CBZ   R7, q4ddone

q4dloop:
	WSCALE
	NIBBLES
	ROWS(ISUMDOT)
	SUBS $1, R7, R7
	BNE  q4dloop

q4ddone:
	EPILOGUE

// func q8_0x2NEON(w, x0, x1 *byte, nblocks int, out *[2]float32)
TEXT ·q8_0x2NEON(SB), NOSPLIT, $0-40
	PROLOGUE2
	CBZ R7, q8_0x2NEONdone

q8_0x2NEONloop:
	WSCALE
	VLD1.P 32(R0), [V0.B16, V1.B16]
	ROWS2(ISUM)
	SUBS $1, R7, R7
	BNE  q8_0x2NEONloop

q8_0x2NEONdone:
	EPILOGUE2

// func q4_0Q8_0x2NEON(w, x0, x1 *byte, nblocks int, out *[2]float32)
TEXT ·q4_0Q8_0x2NEON(SB), NOSPLIT, $0-40
	PROLOGUE2
	VMOVI $15, V30.B16
	VMOVI $8, V31.B16
	CBZ R7, q4_0Q8_0x2NEONdone

q4_0Q8_0x2NEONloop:
	WSCALE
	NIBBLES
	ROWS2(ISUM)
	SUBS $1, R7, R7
	BNE  q4_0Q8_0x2NEONloop

q4_0Q8_0x2NEONdone:
	EPILOGUE2

// func q8_0x2DotProd(w, x0, x1 *byte, nblocks int, out *[2]float32)
TEXT ·q8_0x2DotProd(SB), NOSPLIT, $0-40
	PROLOGUE2
	CBZ R7, q8_0x2DotProddone

q8_0x2DotProdloop:
	WSCALE
	VLD1.P 32(R0), [V0.B16, V1.B16]
	ROWS2(ISUMDOT)
	SUBS $1, R7, R7
	BNE  q8_0x2DotProdloop

q8_0x2DotProddone:
	EPILOGUE2

// func q4_0Q8_0x2DotProd(w, x0, x1 *byte, nblocks int, out *[2]float32)
TEXT ·q4_0Q8_0x2DotProd(SB), NOSPLIT, $0-40
	PROLOGUE2
	VMOVI $15, V30.B16
	VMOVI $8, V31.B16
	CBZ R7, q4_0Q8_0x2DotProddone

q4_0Q8_0x2DotProdloop:
	WSCALE
	NIBBLES
	ROWS2(ISUMDOT)
	SUBS $1, R7, R7
	BNE  q4_0Q8_0x2DotProdloop

q4_0Q8_0x2DotProddone:
	EPILOGUE2
