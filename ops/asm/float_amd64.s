//go:build !purego

#include "textflag.h"

// Float dot products with AVX2 and FMA: 32 values per iteration into four
// accumulators of eight lanes, then 8 at a time. The callers pass a
// multiple of 8 values and add the remainder in Go. The routines differ only
// in how one row's 8 values become eight float32 lanes: a plain load (F32),
// VCVTPH2PS (F16, needs F16C) or zero-extension and a 16-bit shift (BF16).

#define LOADF32(o, r) VMOVUPS (o*4)(SI), r
#define LOADF16(o, r) VCVTPH2PS (o*2)(SI), r
#define LOADBF16(o, r) VPMOVZXWD (o*2)(SI), r; VPSLLD $16, r, r

#define PROLOGUE \
	MOVQ   w+0(FP), SI;  \
	MOVQ   x+8(FP), DI;  \
	MOVQ   n+16(FP), CX; \
	VXORPS Y4, Y4, Y4;   \
	VXORPS Y5, Y5, Y5;   \
	VXORPS Y6, Y6, Y6;   \
	VXORPS Y7, Y7, Y7

#define FMA4 \
	VFMADD231PS (DI), Y0, Y4;   \
	VFMADD231PS 32(DI), Y1, Y5; \
	VFMADD231PS 64(DI), Y2, Y6; \
	VFMADD231PS 96(DI), Y3, Y7

#define EPILOGUE \
	VADDPS       Y5, Y4, Y4; \
	VADDPS       Y7, Y6, Y6; \
	VADDPS       Y6, Y4, Y4; \
	VEXTRACTF128 $1, Y4, X5; \
	VADDPS       X5, X4, X4; \
	VHADDPS      X4, X4, X4; \
	VHADDPS      X4, X4, X4; \
	VZEROUPPER

// func f32AVX2(w unsafe.Pointer, x *float32, n int) float32
TEXT ·f32AVX2(SB), NOSPLIT, $0-28
	PROLOGUE
	CMPQ CX, $32
	JL   f328

f3232:
	LOADF32(0, Y0)
	LOADF32(8, Y1)
	LOADF32(16, Y2)
	LOADF32(24, Y3)
	FMA4
	ADDQ $(4*32), SI
	ADDQ $128, DI
	SUBQ $32, CX
	CMPQ CX, $32
	JGE  f3232

f328:
	TESTQ CX, CX
	JZ    f32done
	LOADF32(0, Y0)
	VFMADD231PS (DI), Y0, Y4
	ADDQ $(4*8), SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  f328

f32done:
	EPILOGUE
	MOVSS X4, ret+24(FP)
	RET

// func f16AVX2(w *byte, x *float32, n int) float32
TEXT ·f16AVX2(SB), NOSPLIT, $0-28
	PROLOGUE
	CMPQ CX, $32
	JL   f168

f1632:
	LOADF16(0, Y0)
	LOADF16(8, Y1)
	LOADF16(16, Y2)
	LOADF16(24, Y3)
	FMA4
	ADDQ $(2*32), SI
	ADDQ $128, DI
	SUBQ $32, CX
	CMPQ CX, $32
	JGE  f1632

f168:
	TESTQ CX, CX
	JZ    f16done
	LOADF16(0, Y0)
	VFMADD231PS (DI), Y0, Y4
	ADDQ $(2*8), SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  f168

f16done:
	EPILOGUE
	MOVSS X4, ret+24(FP)
	RET

// func bf16AVX2(w *byte, x *float32, n int) float32
TEXT ·bf16AVX2(SB), NOSPLIT, $0-28
	PROLOGUE
	CMPQ CX, $32
	JL   bf168

bf1632:
	LOADBF16(0, Y0)
	LOADBF16(8, Y1)
	LOADBF16(16, Y2)
	LOADBF16(24, Y3)
	FMA4
	ADDQ $(2*32), SI
	ADDQ $128, DI
	SUBQ $32, CX
	CMPQ CX, $32
	JGE  bf1632

bf168:
	TESTQ CX, CX
	JZ    bf16done
	LOADBF16(0, Y0)
	VFMADD231PS (DI), Y0, Y4
	ADDQ $(2*8), SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  bf168

bf16done:
	EPILOGUE
	MOVSS X4, ret+24(FP)
	RET
