// Macros shared by the super-block kernels in kquant_amd64.s,
// kquant2_amd64.s and multirow_k*_amd64.s.

// KCONSTS sets Y8 to 0x0f in every byte, Y9 to 0x03 in every byte, Y14 to
// 0x02 in every byte and Y15 to 0x0100 in every int16 (the VPSHUFB mask
// that broadcasts int16 0 of each 128-bit lane).
#define KCONSTS \
	MOVL         $0x0f0f0f0f, AX; \
	VMOVD        AX, X8;          \
	VPBROADCASTD X8, Y8;          \
	MOVL         $0x03030303, AX; \
	VMOVD        AX, X9;          \
	VPBROADCASTD X9, Y9;          \
	MOVL         $0x02020202, AX; \
	VMOVD        AX, X14;         \
	VPBROADCASTD X14, Y14;        \
	MOVL         $0x01000100, AX; \
	VMOVD        AX, X15;         \
	VPBROADCASTD X15, Y15

// KSCALES loads the 6-bit scales and minimums of the Q4_K or Q5_K block at
// SI into Y4 as int16, rearranged as ggml's utmp: 0…7 the scales, 8…15
// the minimums; AX, BX, DX, R8, R9 and R10 are clobbered.
#define KSCALES \
	MOVL      4(SI), AX;          \
	MOVL      8(SI), BX;          \
	MOVL      12(SI), DX;         \
	MOVL      DX, R8;             \
	SHRL      $4, R8;             \
	ANDL      $0x0f0f0f0f, R8;    \
	MOVL      BX, R9;             \
	SHRL      $6, R9;             \
	ANDL      $0x03030303, R9;    \
	SHLL      $4, R9;             \
	ORL       R9, R8;             \
	MOVL      BX, R10;            \
	ANDL      $0x3f3f3f3f, R10;   \
	ANDL      $0x0f0f0f0f, DX;    \
	MOVL      AX, R9;             \
	SHRL      $6, R9;             \
	ANDL      $0x03030303, R9;    \
	SHLL      $4, R9;             \
	ORL       R9, DX;             \
	ANDL      $0x3f3f3f3f, AX;    \
	VMOVD     AX, X4;             \
	VPINSRD   $1, DX, X4, X4;     \
	VPINSRD   $2, R10, X4, X4;    \
	VPINSRD   $3, R8, X4, X4;     \
	VPMOVZXBW X4, Y4

// BCAST sets y to the 32-bit constant c in every dword.
#define BCAST(c, x, y) \
	MOVL         $c, AX; \
	VMOVD        AX, x;  \
	VPBROADCASTD x, y

// SCALEMASK sets Y15 to the VPSHUFB mask that broadcasts int16 0 of the
// low 128-bit lane and int16 1 of the high lane (ggml's
// get_scale_shuffle_q3k(0)), and Y14 to 4 in every byte, which steps it
// to the next two int16.
#define SCALEMASK \
	BCAST(0x01000100, X15, Y15); \
	BCAST(0x03020302, X14, Y14); \
	VINSERTI128 $1, X14, Y15, Y15; \
	BCAST(0x04040404, X14, Y14)

// Q3KSCALES sets Y4 to the sixteen 6-bit scales - 32 of the Q3_K block at
// SI as int16, as ggml's scales128; AX, BX, DX, R8, R9, R10 and X0 are
// clobbered.
#define Q3KSCALES \
	MOVL         96(SI), AX; \
	MOVL         100(SI), BX; \
	MOVL         104(SI), DX; \
	MOVL         AX, R8; \
	ANDL         $0x0f0f0f0f, R8; \
	MOVL         DX, R9; \
	ANDL         $0x03030303, R9; \
	SHLL         $4, R9; \
	ORL          R9, R8; \
	MOVL         BX, R9; \
	ANDL         $0x0f0f0f0f, R9; \
	MOVL         DX, R10; \
	SHRL         $2, R10; \
	ANDL         $0x03030303, R10; \
	SHLL         $4, R10; \
	ORL          R10, R9; \
	SHRL         $4, AX; \
	ANDL         $0x0f0f0f0f, AX; \
	MOVL         DX, R10; \
	SHRL         $4, R10; \
	ANDL         $0x03030303, R10; \
	SHLL         $4, R10; \
	ORL          R10, AX; \
	SHRL         $4, BX; \
	ANDL         $0x0f0f0f0f, BX; \
	SHRL         $6, DX; \
	ANDL         $0x03030303, DX; \
	SHLL         $4, DX; \
	ORL          DX, BX; \
	VMOVD        R8, X4; \
	VPINSRD      $1, R9, X4, X4; \
	VPINSRD      $2, AX, X4, X4; \
	VPINSRD      $3, BX, X4, X4; \
	MOVL         $0x20202020, AX; \
	VMOVD        AX, X0; \
	VPBROADCASTD X0, X0; \
	VPSUBB       X0, X4, X4; \
	VPMOVSXBW    X4, Y4
