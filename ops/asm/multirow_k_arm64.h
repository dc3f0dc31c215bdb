// Macros shared by multirow_k_arm64.s and multirow_k2_arm64.s.

// SDOT4 adds to V6…V9 (cleared first) the four-byte sums of V2…V5 times
// V16…V19.
#define SDOT4 \
	VEOR V6.B16, V6.B16, V6.B16; \
	VEOR V7.B16, V7.B16, V7.B16; \
	VEOR V8.B16, V8.B16, V8.B16; \
	VEOR V9.B16, V9.B16, V9.B16; \
	WORD $0x4e909446 /* sdot v6.4s, v2.16b, v16.16b */; \
	WORD $0x4e919467 /* sdot v7.4s, v3.16b, v17.16b */; \
	WORD $0x4e929488 /* sdot v8.4s, v4.16b, v18.16b */; \
	WORD $0x4e9394a9 /* sdot v9.4s, v5.16b, v19.16b */

// Q4KW loads the 32 bytes of nibbles of sub-blocks 2j and 2j+1 from (R5):
// V2, V3 the low nibbles (sub-block 2j), V4, V5 the high ones (2j+1).
#define Q4KW \
	VLD1.P 32(R5), [V0.B16, V1.B16]; \
	VAND   V31.B16, V0.B16, V2.B16;  \
	VAND   V31.B16, V1.B16, V3.B16;  \
	VUSHR  $4, V0.B16, V4.B16;       \
	VUSHR  $4, V1.B16, V5.B16

// Q4KROW adds to a row's int32 lanes the products of V2…V5 with the 64
// activations at off(xp), scaled by the MLA words (as Q4KDOT).
#define Q4KROW(off, xp, mla0, mla1, mla2, mla3) \
	ADD  $off, xp, R7;                                \
	VLD1 (R7), [V16.B16, V17.B16, V18.B16, V19.B16];  \
	SDOT4;                                            \
	WORD $mla0;                                       \
	WORD $mla1;                                       \
	WORD $mla2;                                       \
	WORD $mla3

// Q4KMIN takes dmin·(mins·bsums) of row xp off the four minimum lanes at
// (off+32)(R3), as KD, KMINS and the FMLS of q4_KDotProd: F26 is the
// weights' float dmin, V27 the minimums as int16.
#define Q4KMIN(xp, off) \
	FMOVS (xp), F21;                                   \
	FMULS F26, F21, F24;                               \
	ADD   $260, xp, R7;                                \
	VLD1  (R7), [V20.H8, V21.H8];                      \
	WORD $0x4e75be96 /* addp v22.8h, v20.8h, v21.8h */;  \
	WORD $0x0e76c366 /* smull v6.4s, v27.4h, v22.4h */;   \
	WORD $0x4e76c367 /* smull2 v7.4s, v27.8h, v22.8h */;  \
	WORD $0x4ea7bcc6 /* addp v6.4s, v6.4s, v7.4s */;      \
	WORD $0x4e21d8c6 /* scvtf v6.4s, v6.4s */;            \
	ADD   $(off+32), R3, R7;                           \
	VLD1  (R7), [V8.S4];                               \
	WORD $0x4f9850c8 /* fmls v8.4s, v6.4s, v24.s[0] */;   \
	VST1  [V8.S4], (R7)

// KLANES adds d·lanes of row xp (the int32 lanes converted by the words
// cvt0 and cvt1) to the eight float32 lanes at off(R3) with the FMLA
// words fma0 and fma1, d = x.d·wd as the single-row routines compute it.
#define KLANES(xp, off, wd, cvt0, cvt1, fma0, fma1) \
	FMOVS (xp), F19;               \
	FMULS wd, F19, F24;            \
	WORD  $cvt0;                   \
	WORD  $cvt1;                   \
	ADD   $off, R3, R7;            \
	VLD1  (R7), [V8.S4, V9.S4];    \
	WORD  $fma0;                   \
	WORD  $fma1;                   \
	VST1  [V8.S4, V9.S4], (R7)

// Q4KD sets F25 and F26 to the float d and dmin of the block at R0.
#define Q4KD \
	MOVHU  (R0), R4;     \
	VMOV   R4, V25.H[0]; \
	FCVTHS F25, F25;     \
	MOVHU  2(R0), R4;    \
	VMOV   R4, V26.H[0]; \
	FCVTHS F26, F26
