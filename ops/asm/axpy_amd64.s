//go:build !purego

#include "textflag.h"

// dst += a·x with AVX: VMULPS then VADDPS, each rounding as Go's
// float32(a*x) and += do (a fused multiply-add would round once and differ).

// func addScaledAVX2(dst *float32, a float32, x *float32, n int)
TEXT ·addScaledAVX2(SB), NOSPLIT, $0-32
	MOVQ         dst+0(FP), DI
	VBROADCASTSS a+8(FP), Y1
	MOVQ         x+16(FP), SI
	MOVQ         n+24(FP), CX
	SHRQ         $3, CX

axpyloop:
	VMULPS  (SI), Y1, Y0
	VADDPS  (DI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     axpyloop
	VZEROUPPER
	RET
