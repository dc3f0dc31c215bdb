//go:build !purego

#include "textflag.h"

// The tiles of attention: scores of four query heads against sixteen keys,
// and values of sixteen dimensions for four heads, per step. Each product
// is VMULPS then VADDPS, rounding as Go's float32(a*b) and += do (a fused
// multiply-add rounds once and would differ from the Go twins in attn.go).
// Assembly because Go does not vectorize: one broadcast of a query value
// (or a probability) serves two vectors of keys (or values).

// MULADD2 broadcasts src into b and adds b·Y8 and b·Y9 to a0 and a1,
// through t0 and t1 (two roundings each, as the Go twins).
#define MULADD2(src, b, t0, t1, a0, a1) \
	VBROADCASTSS src, b; \
	VMULPS       Y8, b, t0; \
	VADDPS       t0, a0, a0; \
	VMULPS       Y9, b, t1; \
	VADDPS       t1, a1, a1

// VALUE_TILES is the body of the values tiles over v's rows of float32
// (vshift 2, load VMOVUPS) or fp16 values (vshift 1, load VCVTPH2PS).
#define VALUE_TILES(vshift, load) \
	MOVQ acc+0(FP), DI \
	MOVQ alpha+8(FP), SI \
	MOVQ p+16(FP), DX \
	MOVQ ldp+24(FP), R15 \
	SHLQ $2, R15 \
	MOVQ v+32(FP), BX \
	MOVQ ldv+40(FP), R14 \
	SHLQ $vshift, R14 \
	MOVQ rows+48(FP), R12 \
	MOVQ hd+64(FP), AX \
	SHLQ $2, AX \
	LEAQ (AX)(AX*2), R13 \
 \
valueRows: \
	XORQ CX, CX \
 \
valueDims: \
	LEAQ (DI)(CX*1), R8 \
	VMOVUPS (R8), Y0 \
	VMOVUPS 32(R8), Y1 \
	VMOVUPS (R8)(AX*1), Y2 \
	VMOVUPS 32(R8)(AX*1), Y3 \
	VMOVUPS (R8)(AX*2), Y4 \
	VMOVUPS 32(R8)(AX*2), Y5 \
	VMOVUPS (R8)(R13*1), Y6 \
	VMOVUPS 32(R8)(R13*1), Y7 \
	VBROADCASTSS 0(SI), Y10 \
	VMULPS Y10, Y0, Y0 \
	VMULPS Y10, Y1, Y1 \
	VBROADCASTSS 4(SI), Y10 \
	VMULPS Y10, Y2, Y2 \
	VMULPS Y10, Y3, Y3 \
	VBROADCASTSS 8(SI), Y10 \
	VMULPS Y10, Y4, Y4 \
	VMULPS Y10, Y5, Y5 \
	VBROADCASTSS 12(SI), Y10 \
	VMULPS Y10, Y6, Y6 \
	VMULPS Y10, Y7, Y7 \
	MOVQ DX, R10 \
	LEAQ (DX)(R15*2), R11 \
	MOVQ CX, R9 \
	SHRQ $(2-vshift), R9 \
	ADDQ BX, R9 \
	MOVQ keys+56(FP), R8 \
	TESTQ R8, R8 \
	JZ   valueStore \
 \
valueKeys: \
	load (R9), Y8 \
	load (8<<vshift)(R9), Y9 \
	MULADD2((R10), Y10, Y11, Y12, Y0, Y1) \
	MULADD2((R10)(R15*1), Y13, Y14, Y15, Y2, Y3) \
	MULADD2((R11), Y10, Y11, Y12, Y4, Y5) \
	MULADD2((R11)(R15*1), Y13, Y14, Y15, Y6, Y7) \
	ADDQ $4, R10 \
	ADDQ $4, R11 \
	ADDQ R14, R9 \
	DECQ R8 \
	JNZ  valueKeys \
 \
valueStore: \
	LEAQ (DI)(CX*1), R8 \
	VMOVUPS Y0, (R8) \
	VMOVUPS Y1, 32(R8) \
	VMOVUPS Y2, (R8)(AX*1) \
	VMOVUPS Y3, 32(R8)(AX*1) \
	VMOVUPS Y4, (R8)(AX*2) \
	VMOVUPS Y5, 32(R8)(AX*2) \
	VMOVUPS Y6, (R8)(R13*1) \
	VMOVUPS Y7, 32(R8)(R13*1) \
	ADDQ $64, CX \
	CMPQ CX, AX \
	JB   valueDims \
	LEAQ (DI)(AX*4), DI \
	ADDQ $16, SI \
	LEAQ (DX)(R15*4), DX \
	SUBQ $4, R12 \
	JNZ  valueRows \
	VZEROUPPER \
	RET

// ZERO8 zeroes the eight accumulators Y0…Y7.
#define ZERO8 \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
	VXORPS Y2, Y2, Y2; \
	VXORPS Y3, Y3, Y3; \
	VXORPS Y4, Y4, Y4; \
	VXORPS Y5, Y5, Y5; \
	VXORPS Y6, Y6, Y6; \
	VXORPS Y7, Y7, Y7

// func attnScoresTiles(s, q, kt *float32, rows, cols, hd int)
// Each score sums 32 products at a time into a register, then the chunk
// onto the score in memory (zeroed first).
// rows a positive multiple of 4, cols of 16, hd positive.
TEXT ·attnScoresTiles(SB), NOSPLIT, $0-48
	MOVQ s+0(FP), DI
	MOVQ q+8(FP), SI
	MOVQ kt+16(FP), DX
	MOVQ rows+24(FP), R12
	MOVQ cols+32(FP), R15
	SHLQ $2, R15
	MOVQ hd+40(FP), R14
	MOVQ R14, BX
	SHLQ $2, BX

scoreRows:
	XORQ CX, CX

scoreCols:
	ZERO8
	LEAQ (DI)(CX*1), R13
	VMOVUPS Y0, (R13)
	VMOVUPS Y1, 32(R13)
	ADDQ R15, R13
	VMOVUPS Y2, (R13)
	VMOVUPS Y3, 32(R13)
	ADDQ R15, R13
	VMOVUPS Y4, (R13)
	VMOVUPS Y5, 32(R13)
	ADDQ R15, R13
	VMOVUPS Y6, (R13)
	VMOVUPS Y7, 32(R13)
	MOVQ SI, R8
	LEAQ (R8)(BX*1), R9
	LEAQ (R9)(BX*1), R10
	LEAQ (R10)(BX*1), R11
	LEAQ (DX)(CX*1), AX

scoreChunk:
	LEAQ (SI)(BX*1), R13
	SUBQ R8, R13
	SHRQ $2, R13
	CMPQ R13, $32
	JBE  scoreChunkZero
	MOVQ $32, R13

scoreChunkZero:
	ZERO8

scoreDims:
	VMOVUPS (AX), Y8
	VMOVUPS 32(AX), Y9
	MULADD2((R8), Y10, Y11, Y12, Y0, Y1)
	MULADD2((R9), Y13, Y14, Y15, Y2, Y3)
	MULADD2((R10), Y10, Y11, Y12, Y4, Y5)
	MULADD2((R11), Y13, Y14, Y15, Y6, Y7)
	ADDQ $4, R8
	ADDQ $4, R9
	ADDQ $4, R10
	ADDQ $4, R11
	ADDQ R15, AX
	DECQ R13
	JNZ  scoreDims

	// The chunk's sums onto the scores so far.
	LEAQ (DI)(CX*1), R13
	VADDPS (R13), Y0, Y0
	VMOVUPS Y0, (R13)
	VADDPS 32(R13), Y1, Y1
	VMOVUPS Y1, 32(R13)
	ADDQ R15, R13
	VADDPS (R13), Y2, Y2
	VMOVUPS Y2, (R13)
	VADDPS 32(R13), Y3, Y3
	VMOVUPS Y3, 32(R13)
	ADDQ R15, R13
	VADDPS (R13), Y4, Y4
	VMOVUPS Y4, (R13)
	VADDPS 32(R13), Y5, Y5
	VMOVUPS Y5, 32(R13)
	ADDQ R15, R13
	VADDPS (R13), Y6, Y6
	VMOVUPS Y6, (R13)
	VADDPS 32(R13), Y7, Y7
	VMOVUPS Y7, 32(R13)
	LEAQ (SI)(BX*1), R13
	CMPQ R8, R13
	JB   scoreChunk
	ADDQ $64, CX
	CMPQ CX, R15
	JB   scoreCols
	LEAQ (SI)(BX*4), SI
	LEAQ (DI)(R15*4), DI
	SUBQ $4, R12
	JNZ  scoreRows
	VZEROUPPER
	RET

// func attnValuesTiles(acc, alpha, p *float32, ldp int, v *float32, ldv, rows, keys, hd int)
// rows a positive multiple of 4, hd of 16, keys non-negative.
TEXT ·attnValuesTiles(SB), NOSPLIT, $0-72
	VALUE_TILES(2, VMOVUPS)

// func attnValuesTilesF16(acc, alpha, p *float32, ldp int, v *byte, ldv, rows, keys, hd int)
// attnValuesTiles over fp16 values, ldv counted in values.
TEXT ·attnValuesTilesF16(SB), NOSPLIT, $0-72
	VALUE_TILES(1, VCVTPH2PS)
