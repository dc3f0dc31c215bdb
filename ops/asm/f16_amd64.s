//go:build !purego

#include "textflag.h"

// fp16 to float32 conversion with F16C's VCVTPH2PS, exact for every value;
// Go has no vector intrinsics, hence assembly.

// func f16ToF32AVX2(dst *float32, src *byte, n int)
TEXT ·f16ToF32AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX

f16loop:
	VCVTPH2PS (SI), Y0
	VMOVUPS   Y0, (DI)
	ADDQ      $16, SI
	ADDQ      $32, DI
	DECQ      CX
	JNZ       f16loop
	VZEROUPPER
	RET
