//go:build !purego

#include "textflag.h"

// SwiGLU and ExpSub eight lanes at a time with AVX2: the operations of
// their Go twins and Exp32 in the same order, VMULPS and VADDPS rounding
// each (no FMA), so the results are the same bits.

// Each constant is a float32 (or int32) repeated over 32 bytes.
#define VEC(name, v) \
	DATA name+0(SB)/4, v; DATA name+4(SB)/4, v; DATA name+8(SB)/4, v; DATA name+12(SB)/4, v; \
	DATA name+16(SB)/4, v; DATA name+20(SB)/4, v; DATA name+24(SB)/4, v; DATA name+28(SB)/4, v; \
	GLOBL name(SB), RODATA|NOPTR, $32

VEC(expSign<>, $0x80000000)
VEC(expLog2e<>, $0x3fb8aa3b)
VEC(expMagic<>, $0x4b400000)
VEC(expLn2Hi<>, $0x3f318000)
VEC(expLn2Lo<>, $0xb95e8083)
VEC(expP0<>, $0x39506967)
VEC(expP1<>, $0x3ab743ce)
VEC(expP2<>, $0x3c088908)
VEC(expP3<>, $0x3d2aa9c1)
VEC(expP4<>, $0x3e2aaaaa)
VEC(expP5<>, $0x3f000000)
VEC(expOne<>, $0x3f800000)
VEC(expBias<>, $0x0000007f)
VEC(expLo<>, $0xc2d00000)
VEC(expHi<>, $0x42b20000)

// EXP32 sets Y4 to Exp32(Y1) in each lane, using Y2, Y3 and Y5 and the
// constants in Y11..Y15. VMAXPS and VMINPS take t as the operand they
// return when it is NaN, as Go's max and min do.
#define EXP32 \
	VMAXPS Y1, Y15, Y1;             \
	VMINPS Y1, Y14, Y1;             \
	VMULPS expLog2e<>(SB), Y1, Y2;  \
	VADDPS Y13, Y2, Y2;             \
	VPSUBD Y13, Y2, Y3;             \
	VSUBPS Y13, Y2, Y2;             \
	VMULPS expLn2Hi<>(SB), Y2, Y4;  \
	VSUBPS Y4, Y1, Y1;              \
	VMULPS expLn2Lo<>(SB), Y2, Y4;  \
	VSUBPS Y4, Y1, Y1;              \
	VMULPS Y1, Y1, Y2;              \
	VMULPS expP0<>(SB), Y1, Y4;     \
	VADDPS expP1<>(SB), Y4, Y4;     \
	VMULPS Y1, Y4, Y4;              \
	VADDPS expP2<>(SB), Y4, Y4;     \
	VMULPS Y1, Y4, Y4;              \
	VADDPS expP3<>(SB), Y4, Y4;     \
	VMULPS Y1, Y4, Y4;              \
	VADDPS expP4<>(SB), Y4, Y4;     \
	VMULPS Y1, Y4, Y4;              \
	VADDPS expP5<>(SB), Y4, Y4;     \
	VMULPS Y2, Y4, Y4;              \
	VADDPS Y1, Y4, Y4;              \
	VADDPS Y12, Y4, Y4;             \
	VPSRAD $1, Y3, Y5;              \
	VPSUBD Y5, Y3, Y3;              \
	VPADDD Y11, Y5, Y5;             \
	VPSLLD $23, Y5, Y5;             \
	VPADDD Y11, Y3, Y3;             \
	VPSLLD $23, Y3, Y3;             \
	VMULPS Y5, Y4, Y4;              \
	VMULPS Y3, Y4, Y4

#define EXPCONSTS \
	VMOVUPS expLo<>(SB), Y15;    \
	VMOVUPS expHi<>(SB), Y14;    \
	VMOVUPS expMagic<>(SB), Y13; \
	VMOVUPS expOne<>(SB), Y12;   \
	VMOVUPS expBias<>(SB), Y11

// func swiGLUAVX2(dst, gate, up *float32, n int)
TEXT ·swiGLUAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ gate+8(FP), SI
	MOVQ up+16(FP), DX
	MOVQ n+24(FP), CX
	EXPCONSTS
	XORQ AX, AX

swiglu:
	VMOVUPS (SI)(AX*4), Y0
	VXORPS  expSign<>(SB), Y0, Y1 // t = -g
	EXP32
	VADDPS  Y12, Y4, Y4
	VDIVPS  Y4, Y0, Y0            // SiLU(g) = g/(1+e^t)
	VMULPS  (DX)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     swiglu
	VZEROUPPER
	RET

// func expSubAVX2(dst, x *float32, m float32, n int)
TEXT ·expSubAVX2(SB), NOSPLIT, $0-32
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	VBROADCASTSS m+16(FP), Y10
	MOVQ         n+24(FP), CX
	EXPCONSTS
	XORQ         AX, AX

expsub:
	VMOVUPS (SI)(AX*4), Y1
	VSUBPS  Y10, Y1, Y1 // x - m
	EXP32
	VMOVUPS Y4, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     expsub
	VZEROUPPER
	RET

