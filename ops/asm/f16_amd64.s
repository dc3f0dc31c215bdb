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

// func f16ToF32TAVX2(dst *float32, ld int, src *byte, stride, rows, cols int)
// rows and cols are multiples of 8. Each step converts eight rows of eight
// values and transposes them in registers: unpack pairs of rows, shuffle
// pairs of pairs, then swap 128-bit halves.
TEXT ·f16ToF32TAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ ld+8(FP), R8
	SHLQ $2, R8                 // ld in bytes
	MOVQ src+16(FP), SI
	MOVQ stride+24(FP), R9
	MOVQ rows+32(FP), CX
	MOVQ cols+40(FP), DX
	LEAQ (R9)(R9*2), R10        // 3·stride
	LEAQ (R8)(R8*2), R14        // 3·ld

trows:
	MOVQ SI, R11                // row group's next eight values
	MOVQ DI, R12                // their eight columns in dst
	MOVQ DX, R13

tcols:
	MOVQ      R11, AX
	VCVTPH2PS (AX), Y0
	VCVTPH2PS (AX)(R9*1), Y1
	VCVTPH2PS (AX)(R9*2), Y2
	VCVTPH2PS (AX)(R10*1), Y3
	LEAQ      (AX)(R9*4), AX
	VCVTPH2PS (AX), Y4
	VCVTPH2PS (AX)(R9*1), Y5
	VCVTPH2PS (AX)(R9*2), Y6
	VCVTPH2PS (AX)(R10*1), Y7

	// Rows a…h: Y8 = a0 b0 a1 b1 | a4 b4 a5 b5, Y9 = a2 b2 a3 b3 | a6 b6 a7 b7, …
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15

	// Y0 = a0 b0 c0 d0 | a4 b4 c4 d4, Y1 = column 1 | 5, …, Y4…Y7 rows e…h.
	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7

	// Column c: low halves for c < 4, high halves for c ≥ 4.
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15

	VMOVUPS Y8, (R12)
	VMOVUPS Y9, (R12)(R8*1)
	VMOVUPS Y10, (R12)(R8*2)
	VMOVUPS Y11, (R12)(R14*1)
	LEAQ    (R12)(R8*4), BX
	VMOVUPS Y12, (BX)
	VMOVUPS Y13, (BX)(R8*1)
	VMOVUPS Y14, (BX)(R8*2)
	VMOVUPS Y15, (BX)(R14*1)

	ADDQ $16, R11
	LEAQ (R12)(R8*8), R12
	SUBQ $8, R13
	JNZ  tcols

	LEAQ (SI)(R9*8), SI
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ  trows
	VZEROUPPER
	RET
