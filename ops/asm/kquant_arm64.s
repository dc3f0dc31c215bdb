//go:build !purego

#include "textflag.h"

// The Q4_K dot product with Q8_K activations on CPUs with SDOT, following
// llama.cpp's x86 AVX2 loop (ggml_vec_dot_q4_K_q8_K) lane for lane, so that
// the result equals the generic twin and ggml's AVX2 result bit for bit:
// SDOT sums four consecutive byte products per int32 lane, which is how
// AVX2's VPMADDUBSW + VPMADDWD group them; the low and high 16 bytes of
// each 32 go to two four-lane vectors standing for AVX2's lanes 0…3 and
// 4…7. Instructions Go's assembler lacks are WORDs, each with its
// instruction text (checked with GNU as, armv8.2-a+dotprod).

// Q4KSTEP adds to V10 (lanes 0…3) and V11 (lanes 4…7) the sums of the 64
// values of sub-blocks 2j and 2j+1: nibbles loaded from (R5), activations
// from (R6); the scales are the int32 lanes of V29 and V30 named by the
// MLA words passed in.
#define Q4KSTEP(mla0, mla1, mla2, mla3) \
	VLD1.P 32(R5), [V0.B16, V1.B16];                     \
	VLD1.P 64(R6), [V16.B16, V17.B16, V18.B16, V19.B16]; \
	VAND   V31.B16, V0.B16, V2.B16;                      \
	VAND   V31.B16, V1.B16, V3.B16;                      \
	VUSHR  $4, V0.B16, V4.B16;                           \
	VUSHR  $4, V1.B16, V5.B16;                           \
	VEOR   V6.B16, V6.B16, V6.B16;                       \
	VEOR   V7.B16, V7.B16, V7.B16;                       \
	VEOR   V8.B16, V8.B16, V8.B16;                       \
	VEOR   V9.B16, V9.B16, V9.B16;                       \
	WORD   $0x4e909446; /* sdot v6.4s, v2.16b, v16.16b */ \
	WORD   $0x4e919467; /* sdot v7.4s, v3.16b, v17.16b */ \
	WORD   $0x4e929488; /* sdot v8.4s, v4.16b, v18.16b */ \
	WORD   $0x4e9394a9; /* sdot v9.4s, v5.16b, v19.16b */ \
	WORD   $mla0;                                        \
	WORD   $mla1;                                        \
	WORD   $mla2;                                        \
	WORD   $mla3

// func q4_KDotProd(w, x *byte, nblocks int, acc *[12]float32)
TEXT ·q4_KDotProd(SB), NOSPLIT, $0-32
	MOVD  w+0(FP), R0
	MOVD  x+8(FP), R1
	MOVD  nblocks+16(FP), R2
	MOVD  acc+24(FP), R3
	VMOVI $15, V31.B16
	VEOR  V12.B16, V12.B16, V12.B16 // lanes 0…3 of d·sums
	VEOR  V13.B16, V13.B16, V13.B16 // lanes 4…7
	VEOR  V14.B16, V14.B16, V14.B16 // the four lanes of the minimums

q4kloop:
	// F23 = y.d·x.d, F24 = y.d·x.dmin.
	FMOVS  (R1), F21
	MOVHU  (R0), R4
	VMOV   R4, V22.H[0]
	FCVTHS F22, F22
	FMULS  F22, F21, F23
	MOVHU  2(R0), R4
	VMOV   R4, V22.H[0]
	FCVTHS F22, F22
	FMULS  F22, F21, F24

	// The 6-bit scales and minimums, rearranged as ggml's utmp (bytes
	// 0…7 the scales, 8…15 the minimums), widened: V27 the minimums as
	// int16, V29 and V30 the scales as int32.
	MOVWU 4(R0), R4
	MOVWU 8(R0), R5
	MOVWU 12(R0), R6
	LSRW  $4, R6, R8
	ANDW  $0x0f0f0f0f, R8
	LSRW  $6, R5, R9
	ANDW  $0x03030303, R9
	ORRW  R9<<4, R8
	ANDW  $0x3f3f3f3f, R5, R10
	ANDW  $0x0f0f0f0f, R6
	LSRW  $6, R4, R9
	ANDW  $0x03030303, R9
	ORRW  R9<<4, R6
	ANDW  $0x3f3f3f3f, R4
	VMOV  R4, V26.S[0]
	VMOV  R6, V26.S[1]
	VMOV  R10, V26.S[2]
	VMOV  R8, V26.S[3]
	WORD  $0x2f08a75c // uxtl  v28.8h, v26.8b
	WORD  $0x6f08a75b // uxtl2 v27.8h, v26.16b
	WORD  $0x2f10a79d // uxtl  v29.4s, v28.4h
	WORD  $0x6f10a79e // uxtl2 v30.4s, v28.8h

	// Minimums: the bsums added in pairs (int16, wrapping like VPHADDW),
	// times the minimums in pairs, as VPMADDWD does; subtracted with a
	// fused multiply-subtract.
	ADD    $260, R1, R7
	VLD1   (R7), [V20.H8, V21.H8]
	WORD   $0x4e75be96 // addp   v22.8h, v20.8h, v21.8h
	WORD   $0x0e76c366 // smull  v6.4s, v27.4h, v22.4h
	WORD   $0x4e76c367 // smull2 v7.4s, v27.8h, v22.8h
	WORD   $0x4ea7bcc6 // addp   v6.4s, v6.4s, v7.4s
	WORD   $0x4e21d8c6 // scvtf  v6.4s, v6.4s
	WORD   $0x4f9850ce // fmls   v14.4s, v6.4s, v24.s[0]

	ADD  $16, R0, R5
	ADD  $4, R1, R6
	VEOR V10.B16, V10.B16, V10.B16
	VEOR V11.B16, V11.B16, V11.B16
	Q4KSTEP(0x6f9d00ca, 0x6f9d00eb, 0x6fbd010a, 0x6fbd012b) // mla v10/v11 by v29.s[0], v29.s[1]
	Q4KSTEP(0x6f9d08ca, 0x6f9d08eb, 0x6fbd090a, 0x6fbd092b) // v29.s[2], v29.s[3]
	Q4KSTEP(0x6f9e00ca, 0x6f9e00eb, 0x6fbe010a, 0x6fbe012b) // v30.s[0], v30.s[1]
	Q4KSTEP(0x6f9e08ca, 0x6f9e08eb, 0x6fbe090a, 0x6fbe092b) // v30.s[2], v30.s[3]
	WORD $0x4e21d94a // scvtf v10.4s, v10.4s
	WORD $0x4e21d96b // scvtf v11.4s, v11.4s
	WORD $0x4f97114c // fmla  v12.4s, v10.4s, v23.s[0]
	WORD $0x4f97116d // fmla  v13.4s, v11.4s, v23.s[0]

	ADD  $144, R0
	ADD  $292, R1
	SUBS $1, R2, R2
	BNE  q4kloop

	VST1 [V12.S4, V13.S4, V14.S4], (R3)
	RET
