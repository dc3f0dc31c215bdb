//go:build !purego

#include "textflag.h"

// Q8_K activation quantization with AVX2, bit for bit the Go
// quantizeQ8_KGeneric: VMAXPS (which keeps its second source when the
// other is NaN) finds the largest magnitude, VCMPPS/VMOVMSKPS the first
// value that has it, VDIVSS the scales, and VMULPS, VADDPS of 1.5·2²³ and
// integer masking the rounding of nearestInt, with VCMPPS sending NaN
// products to 0. VPACKSSDW/VPACKSSWB narrow the values (never saturating:
// they lie in [-127, 127]) and VPHADDD sums each 16 of them.

DATA q8kAbs<>+0(SB)/4, $0x7fffffff
GLOBL q8kAbs<>(SB), RODATA|NOPTR, $4
DATA q8kMagic<>+0(SB)/4, $0x4b400000 // 1.5·2²³
GLOBL q8kMagic<>(SB), RODATA|NOPTR, $4
DATA q8kMant<>+0(SB)/4, $0x007fffff
GLOBL q8kMant<>(SB), RODATA|NOPTR, $4
DATA q8kHalf<>+0(SB)/4, $0x00400000
GLOBL q8kHalf<>(SB), RODATA|NOPTR, $4
DATA q8kMax<>+0(SB)/4, $127
GLOBL q8kMax<>(SB), RODATA|NOPTR, $4
DATA q8kMin<>+0(SB)/4, $-127
GLOBL q8kMin<>(SB), RODATA|NOPTR, $4
DATA q8kNeg127<>+0(SB)/4, $0xc2fe0000 // -127.0
GLOBL q8kNeg127<>(SB), RODATA|NOPTR, $4
DATA q8kOne<>+0(SB)/4, $0x3f800000 // 1.0
GLOBL q8kOne<>(SB), RODATA|NOPTR, $4
DATA q8kPerm<>+0(SB)/4, $0
DATA q8kPerm<>+4(SB)/4, $4
DATA q8kPerm<>+8(SB)/4, $1
DATA q8kPerm<>+12(SB)/4, $5
DATA q8kPerm<>+16(SB)/4, $2
DATA q8kPerm<>+20(SB)/4, $6
DATA q8kPerm<>+24(SB)/4, $3
DATA q8kPerm<>+28(SB)/4, $7
GLOBL q8kPerm<>(SB), RODATA|NOPTR, $32

// QUANT8 sets R to the rounded, clamped values of the 8 floats at off(SI)
// times the scale in Y14 (nearestInt), using M for the NaN mask.
#define QUANT8(off, R, M) \
	VMULPS  off(SI), Y14, R; \
	VCMPPS  $3, R, R, M;     \
	VADDPS  Y13, R, R;       \
	VPAND   Y12, R, R;       \
	VPSUBD  Y11, R, R;       \
	VPMINSD Y10, R, R;       \
	VPMAXSD Y9, R, R;        \
	VPANDN  R, M, R

// func quantizeQ8_KAVX2(dst *byte, x *float32, nblocks int)
TEXT ·quantizeQ8_KAVX2(SB), NOSPLIT, $0-24
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         nblocks+16(FP), CX
	VBROADCASTSS q8kAbs<>(SB), Y15
	VBROADCASTSS q8kMagic<>(SB), Y13
	VBROADCASTSS q8kMant<>(SB), Y12
	VBROADCASTSS q8kHalf<>(SB), Y11
	VBROADCASTSS q8kMax<>(SB), Y10
	VBROADCASTSS q8kMin<>(SB), Y9
	VMOVDQU      q8kPerm<>(SB), Y8

block:
	// Largest magnitude, NaN ignored.
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ   AX, AX

amax:
	VANDPS (SI)(AX*1), Y15, Y4
	VMAXPS Y0, Y4, Y0
	VANDPS 32(SI)(AX*1), Y15, Y5
	VMAXPS Y1, Y5, Y1
	VANDPS 64(SI)(AX*1), Y15, Y6
	VMAXPS Y2, Y6, Y2
	VANDPS 96(SI)(AX*1), Y15, Y7
	VMAXPS Y3, Y7, Y3
	ADDQ   $128, AX
	CMPQ   AX, $1024
	JNE    amax
	VMAXPS       Y1, Y0, Y0
	VMAXPS       Y3, Y2, Y2
	VMAXPS       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0x4e, X0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0xb1, X0, X1
	VMAXPS       X1, X0, X0
	VXORPS       X5, X5, X5
	VUCOMISS     X5, X0
	JEQ          zero
	VBROADCASTSS X0, Y0

	// The first value of that magnitude gives the scale's sign.
	XORQ AX, AX

find:
	VANDPS    (SI)(AX*1), Y15, Y4
	VCMPPS    $0, Y0, Y4, Y4
	VMOVMSKPS Y4, DX
	TESTL     DX, DX
	JNZ       found
	ADDQ      $32, AX
	JMP       find

found:
	BSFL         DX, DX
	LEAQ         (AX)(DX*4), AX
	VMOVSS       (SI)(AX*1), X1
	VMOVSS       q8kNeg127<>(SB), X2
	VDIVSS       X1, X2, X2          // iscale = -127/max
	VMOVSS       q8kOne<>(SB), X3
	VDIVSS       X2, X3, X3          // d = 1/iscale
	VMOVSS       X3, (DI)
	VBROADCASTSS X2, Y14

	LEAQ 4(DI), R8   // values
	LEAQ 260(DI), R9 // sums of 16
	MOVQ $8, BX

values:
	QUANT8(0, Y0, Y4)
	QUANT8(32, Y1, Y5)
	QUANT8(64, Y2, Y6)
	QUANT8(96, Y3, Y7)
	VPADDD     Y1, Y0, Y4
	VPADDD     Y3, Y2, Y5
	VPACKSSDW  Y1, Y0, Y0
	VPACKSSDW  Y3, Y2, Y2
	VPACKSSWB  Y2, Y0, Y0
	VPERMD     Y0, Y8, Y0
	VMOVDQU    Y0, (R8)
	VPHADDD    Y5, Y4, Y4
	VEXTRACTI128 $1, Y4, X5
	VPADDD     X5, X4, X4
	VPHADDD    X4, X4, X4
	VPACKSSDW  X4, X4, X4
	VMOVD      X4, (R9)
	ADDQ       $128, SI
	ADDQ       $32, R8
	ADDQ       $4, R9
	DECQ       BX
	JNZ        values
	ADDQ       $292, DI
	DECQ       CX
	JNZ        block
	VZEROUPPER
	RET

zero:
	VPXOR   Y5, Y5, Y5
	VMOVDQU Y5, (DI)
	VMOVDQU Y5, 32(DI)
	VMOVDQU Y5, 64(DI)
	VMOVDQU Y5, 96(DI)
	VMOVDQU Y5, 128(DI)
	VMOVDQU Y5, 160(DI)
	VMOVDQU Y5, 192(DI)
	VMOVDQU Y5, 224(DI)
	VMOVDQU Y5, 256(DI)
	MOVL    $0, 288(DI)
	ADDQ    $1024, SI
	ADDQ    $292, DI
	DECQ    CX
	JNZ     block
	VZEROUPPER
	RET

// Q8_0 activation quantization with AVX2 and F16C, bit for bit the Go
// quantizeQ8_0Generic: the largest magnitude as above, d = amax/127 to fp16
// by VCVTPS2PH (round to nearest even, as quant.ToF16), id = 127/amax (0
// for an all-zero block), and VROUNDPS to nearest even then clamping for
// roundHalfEven, NaN products sent to 0.

DATA q80Scale<>+0(SB)/4, $0x42fe0000 // 127.0
GLOBL q80Scale<>(SB), RODATA|NOPTR, $4
DATA q80MinF<>+0(SB)/4, $0xc2fe0000 // -127.0
GLOBL q80MinF<>(SB), RODATA|NOPTR, $4

// Q80VALUES sets R to the rounded, clamped int32 values of the 8 floats at
// off(SI) times the scale in Y14, using M for the NaN mask.
#define Q80VALUES(off, R, M) \
	VMULPS     off(SI), Y14, R; \
	VCMPPS     $3, R, R, M;     \
	VROUNDPS   $0, R, R;        \
	VMINPS     Y13, R, R;       \
	VMAXPS     Y12, R, R;       \
	VCVTPS2DQ  R, R;            \
	VPANDN     R, M, R

// func quantizeQ8_0AVX2(dst *byte, x *float32, nblocks int)
TEXT ·quantizeQ8_0AVX2(SB), NOSPLIT, $0-24
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         nblocks+16(FP), CX
	VBROADCASTSS q8kAbs<>(SB), Y15
	VBROADCASTSS q80Scale<>(SB), Y13
	VBROADCASTSS q80MinF<>(SB), Y12
	VMOVDQU      q8kPerm<>(SB), Y8
	VXORPS       X11, X11, X11

q80block:
	// Largest magnitude, NaN ignored (VMAXPS returns its second source,
	// the running maximum, when the other is NaN).
	VANDPS       (SI), Y15, Y0
	VMAXPS       Y11, Y0, Y4
	VANDPS       32(SI), Y15, Y1
	VMAXPS       Y4, Y1, Y4
	VANDPS       64(SI), Y15, Y2
	VMAXPS       Y4, Y2, Y4
	VANDPS       96(SI), Y15, Y3
	VMAXPS       Y4, Y3, Y4
	VEXTRACTF128 $1, Y4, X5
	VMAXPS       X5, X4, X4
	VPERMILPS    $0x4e, X4, X5
	VMAXPS       X5, X4, X4
	VPERMILPS    $0xb1, X4, X5
	VMAXPS       X5, X4, X4          // amax
	VDIVSS       X13, X4, X5         // d = amax/127
	VCVTPS2PH    $0, X5, X5
	VMOVD        X5, AX
	MOVW         AX, (DI)
	VDIVSS       X4, X13, X6         // 127/amax
	VCMPSS       $4, X11, X4, X7     // amax != 0
	VANDPS       X7, X6, X6
	VBROADCASTSS X6, Y14

	Q80VALUES(0, Y0, Y4)
	Q80VALUES(32, Y1, Y5)
	Q80VALUES(64, Y2, Y6)
	Q80VALUES(96, Y3, Y7)
	VPACKSSDW Y1, Y0, Y0
	VPACKSSDW Y3, Y2, Y2
	VPACKSSWB Y2, Y0, Y0
	VPERMD    Y0, Y8, Y0
	VMOVDQU   Y0, 2(DI)
	ADDQ      $128, SI
	ADDQ      $34, DI
	DECQ      CX
	JNZ       q80block
	VZEROUPPER
	RET
