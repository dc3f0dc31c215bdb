// Macros shared by the super-block kernels in kquant_arm64.s and
// multirow_k_arm64.s.

// KSCALES decodes the 6-bit scales and minimums of the Q4_K or Q5_K block
// at R0, rearranged as ggml's utmp (bytes 0…7 the scales, 8…15 the
// minimums), into V27 (the minimums as int16) and V29, V30 (the scales as
// int32); R4…R10 are clobbered.
#define KSCALES \
	MOVWU 4(R0), R4;            \
	MOVWU 8(R0), R5;            \
	MOVWU 12(R0), R6;           \
	LSRW  $4, R6, R8;           \
	ANDW  $0x0f0f0f0f, R8;      \
	LSRW  $6, R5, R9;           \
	ANDW  $0x03030303, R9;      \
	ORRW  R9<<4, R8;            \
	ANDW  $0x3f3f3f3f, R5, R10; \
	ANDW  $0x0f0f0f0f, R6;      \
	LSRW  $6, R4, R9;           \
	ANDW  $0x03030303, R9;      \
	ORRW  R9<<4, R6;            \
	ANDW  $0x3f3f3f3f, R4;      \
	VMOV  R4, V26.S[0];         \
	VMOV  R6, V26.S[1];         \
	VMOV  R10, V26.S[2];        \
	VMOV  R8, V26.S[3];         \
	WORD  $0x2f08a75c; /* uxtl  v28.8h, v26.8b */  \
	WORD  $0x6f08a75b; /* uxtl2 v27.8h, v26.16b */ \
	WORD  $0x2f10a79d; /* uxtl  v29.4s, v28.4h */  \
	WORD  $0x6f10a79e  /* uxtl2 v30.4s, v28.8h */
