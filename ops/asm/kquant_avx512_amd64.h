// Constants and macros shared by the AVX-512 K-quant kernels in
// kquant_avx512_amd64.s and kquant_r4_avx512_amd64.s (each file that
// includes it gets its own copy of the tables).

// KX8HALVES sets Z22 to the int32 sums of the lower and upper halves of
// za (lanes 0–7) and zb (lanes 8–15); Z23 is clobbered.
#define KX8HALVES(za, zb) \
	VSHUFI64X2 $0x44, zb, za, Z22; \
	VSHUFI64X2 $0xee, zb, za, Z23; \
	VPADDD     Z23, Z22, Z22

// KX8HALF4 sets the lanes 4k…4k+3 of d to a_i+a_(i+4), i = 0…3, of the
// eight float32 lanes a of row k of the four in za (rows 0 and 1, as in
// Z16) and zb (rows 2 and 3); t is clobbered.
#define KX8HALF4(za, zb, d, t) \
	VSHUFF32X4 $0x88, zb, za, d; \
	VSHUFF32X4 $0xdd, zb, za, t; \
	VADDPS     t, d, d

// KX8HSUM4 sets lane 4k of z to (z0+z2)+(z1+z3) of its lanes 4k…4k+3 (as
// hsum4); t is clobbered.
#define KX8HSUM4(z, t) \
	VPERMILPS $0x4e, z, t; \
	VADDPS    t, z, z;     \
	VPERMILPS $0xb1, z, t; \
	VADDPS    t, z, z

// Q6KX8EVEN and Q6KX8ODD build in Z10 the chunk of the low (high) nibbles
// of the 64 bytes at ql(SI) with the bit pairs 0–1, 2–3 (4–5, 6–7) of the
// 32 bytes at qh(SI) (broadcast to both halves, moved to bits 4–5 by the
// VPSLLVW counts in Z15 or the VPSRLVW counts in Z7). Z8 holds 0x0f and Z9
// 0x30 in every byte; Z5 is clobbered.
#define Q6KX8EVEN(ql, qh) \
	VPANDD          ql(SI), Z8, Z10;   \
	VBROADCASTI64X4 qh(SI), Z5;        \
	VPSLLVW         Z15, Z5, Z5;       \
	VPTERNLOGD      $0xf8, Z9, Z5, Z10

#define Q6KX8ODD(ql, qh) \
	VMOVDQU64       ql(SI), Z10;       \
	VPSRLW          $4, Z10, Z10;      \
	VPANDD          Z8, Z10, Z10;      \
	VBROADCASTI64X4 qh(SI), Z5;        \
	VPSRLVW         Z7, Z5, Z5;        \
	VPTERNLOGD      $0xf8, Z9, Z5, Z10

// q4kx8shift: VPSRLVW counts, 0 for the lower 16 words, 4 for the upper.
DATA q4kx8shift<>+0x00(SB)/8, $0
DATA q4kx8shift<>+0x08(SB)/8, $0
DATA q4kx8shift<>+0x10(SB)/8, $0
DATA q4kx8shift<>+0x18(SB)/8, $0
DATA q4kx8shift<>+0x20(SB)/8, $0x0004000400040004
DATA q4kx8shift<>+0x28(SB)/8, $0x0004000400040004
DATA q4kx8shift<>+0x30(SB)/8, $0x0004000400040004
DATA q4kx8shift<>+0x38(SB)/8, $0x0004000400040004
GLOBL q4kx8shift<>(SB), RODATA|NOPTR, $64

// q4kx8perm: VPERMW indexes of the scales of chunk j, at 64·j: scale 2j in
// the lower 16 words, scale 2j+1 in the upper.
#define PERM(o, lo, hi) \
	DATA q4kx8perm<>+(o+0x00)(SB)/8, $lo; \
	DATA q4kx8perm<>+(o+0x08)(SB)/8, $lo; \
	DATA q4kx8perm<>+(o+0x10)(SB)/8, $lo; \
	DATA q4kx8perm<>+(o+0x18)(SB)/8, $lo; \
	DATA q4kx8perm<>+(o+0x20)(SB)/8, $hi; \
	DATA q4kx8perm<>+(o+0x28)(SB)/8, $hi; \
	DATA q4kx8perm<>+(o+0x30)(SB)/8, $hi; \
	DATA q4kx8perm<>+(o+0x38)(SB)/8, $hi

PERM(0x00, 0x0000000000000000, 0x0001000100010001)
PERM(0x40, 0x0002000200020002, 0x0003000300030003)
PERM(0x80, 0x0004000400040004, 0x0005000500050005)
PERM(0xc0, 0x0006000600060006, 0x0007000700070007)
GLOBL q4kx8perm<>(SB), RODATA|NOPTR, $256

// q6kx8sll: VPSLLVW counts moving bit pairs 0–1 (lower half) and 2–3
// (upper half) to bits 4–5; q6kx8srl: VPSRLVW counts for pairs 4–5 and 6–7.
DATA q6kx8sll<>+0x00(SB)/8, $0x0004000400040004
DATA q6kx8sll<>+0x08(SB)/8, $0x0004000400040004
DATA q6kx8sll<>+0x10(SB)/8, $0x0004000400040004
DATA q6kx8sll<>+0x18(SB)/8, $0x0004000400040004
DATA q6kx8sll<>+0x20(SB)/8, $0x0002000200020002
DATA q6kx8sll<>+0x28(SB)/8, $0x0002000200020002
DATA q6kx8sll<>+0x30(SB)/8, $0x0002000200020002
DATA q6kx8sll<>+0x38(SB)/8, $0x0002000200020002
GLOBL q6kx8sll<>(SB), RODATA|NOPTR, $64

DATA q6kx8srl<>+0x00(SB)/8, $0
DATA q6kx8srl<>+0x08(SB)/8, $0
DATA q6kx8srl<>+0x10(SB)/8, $0
DATA q6kx8srl<>+0x18(SB)/8, $0
DATA q6kx8srl<>+0x20(SB)/8, $0x0002000200020002
DATA q6kx8srl<>+0x28(SB)/8, $0x0002000200020002
DATA q6kx8srl<>+0x30(SB)/8, $0x0002000200020002
DATA q6kx8srl<>+0x38(SB)/8, $0x0002000200020002
GLOBL q6kx8srl<>(SB), RODATA|NOPTR, $64

// q6kx8perm: VPERMW indexes of the scales of chunk c, at 64·c: scales
// 4c…4c+3, each over eight words.
#define PERM6(o, a, b, c, d) \
	DATA q6kx8perm<>+(o+0x00)(SB)/8, $a; \
	DATA q6kx8perm<>+(o+0x08)(SB)/8, $a; \
	DATA q6kx8perm<>+(o+0x10)(SB)/8, $b; \
	DATA q6kx8perm<>+(o+0x18)(SB)/8, $b; \
	DATA q6kx8perm<>+(o+0x20)(SB)/8, $c; \
	DATA q6kx8perm<>+(o+0x28)(SB)/8, $c; \
	DATA q6kx8perm<>+(o+0x30)(SB)/8, $d; \
	DATA q6kx8perm<>+(o+0x38)(SB)/8, $d

PERM6(0x00, 0x0000000000000000, 0x0001000100010001, 0x0002000200020002, 0x0003000300030003)
PERM6(0x40, 0x0004000400040004, 0x0005000500050005, 0x0006000600060006, 0x0007000700070007)
PERM6(0x80, 0x0008000800080008, 0x0009000900090009, 0x000a000a000a000a, 0x000b000b000b000b)
PERM6(0xc0, 0x000c000c000c000c, 0x000d000d000d000d, 0x000e000e000e000e, 0x000f000f000f000f)
GLOBL q6kx8perm<>(SB), RODATA|NOPTR, $256

// kx8gather: VPERMT2PS indexes of lanes 0, 4, 8, 12 of two registers
// (the first four: VPERMPS indexes of those of one).
DATA kx8gather<>+0x00(SB)/8, $0x0000000400000000
DATA kx8gather<>+0x08(SB)/8, $0x0000000c00000008
DATA kx8gather<>+0x10(SB)/8, $0x0000001400000010
DATA kx8gather<>+0x18(SB)/8, $0x0000001c00000018
DATA kx8gather<>+0x20(SB)/8, $0
DATA kx8gather<>+0x28(SB)/8, $0
DATA kx8gather<>+0x30(SB)/8, $0
DATA kx8gather<>+0x38(SB)/8, $0
GLOBL kx8gather<>(SB), RODATA|NOPTR, $64

// The float steps shared by the eight-, four- and two-row K-quant forms
// (kquant_avx512_amd64.s, kquant_x4_avx512_amd64.s).

// KX8FMA converts Z22, multiplies it by Z3 times y.d of the rows whose
// Q8_K blocks are at pa (lanes 0–7) and pb (lanes 8–15) and adds it to zf
// in one FMA; Z5 is clobbered.
#define KX8FMA(pa, pb, zf) \
	VCVTDQ2PS   Z22, Z22;     \
	VMULPS.BCST pa, Z3, Z5;   \
	VMULPS.BCST pb, Z3, K1, Z5; \
	VFMADD231PS Z22, Z5, zf

// KX8SUMS adds the float32 products of rows a and b (Q8_K blocks at pa and
// pb, int32 lanes za and zb) to zf, lanes 0–7 for a and 8–15 for b: each
// row's two halves are added, converted and multiplied by y.d·Z3 in one
// FMA. Z5, Z22 and Z23 are clobbered.
#define KX8SUMS(pa, pb, za, zb, zf) \
	KX8HALVES(za, zb); \
	KX8FMA(pa, pb, zf)

// KX8MINSUMS sets the lanes 0–3, 4–7, 8–11, 12–15 of Z22 to the int32
// mins·bsums of rows a, b, c, d (Q8_K blocks at pa…pd), four lanes a row
// as q4_KAVX2's KMINS makes them: the int16 pair sums of the bsums by
// VPMADDWD with ones (1 in every int16), truncated as VPHADDW wraps, then
// VPMADDWD with the mins in Z9. Z23 is clobbered.
#define KX8MINSUMS(pa, pb, pc, pd, ones) \
	VMOVDQU16     260 pa, Y22;          \
	VINSERTI64X4  $1, 260 pb, Z22, Z22; \
	VMOVDQU16     260 pc, Y23;          \
	VINSERTI64X4  $1, 260 pd, Z23, Z23; \
	VPMADDWD      ones, Z22, Z22;       \
	VPMADDWD      ones, Z23, Z23;       \
	VPMOVDW       Z22, Y22;             \
	VPMOVDW       Z23, Y23;             \
	VINSERTI64X4  $1, Y23, Z22, Z22;    \
	VPMADDWD      Z9, Z22, Z22

// KX8MINFMA converts Z22 and subtracts it times Z2 times y.d of rows a, b,
// c, d (Q8_K blocks at pa…pd; lanes 0–3, 4–7, 8–11, 12–15) from zm in one
// FNMADD; Z5 is clobbered.
#define KX8MINFMA(pa, pb, pc, pd, zm) \
	VCVTDQ2PS    Z22, Z22;         \
	VMULPS.BCST  pa, Z2, Z5;       \
	VMULPS.BCST  pb, Z2, K2, Z5;   \
	VMULPS.BCST  pc, Z2, K3, Z5;   \
	VMULPS.BCST  pd, Z2, K4, Z5;   \
	VFNMADD231PS Z22, Z5, zm

// KX8MASKS sets K1 to lanes 8–15, K2 to 4–7, K3 to 8–11, K4 to 12–15.
#define KX8MASKS \
	MOVL  $0xff00, AX; \
	KMOVW AX, K1;      \
	MOVL  $0x00f0, AX; \
	KMOVW AX, K2;      \
	MOVL  $0x0f00, AX; \
	KMOVW AX, K3;      \
	MOVL  $0xf000, AX; \
	KMOVW AX, K4

// Q6KX8PAIR finishes the block for rows a and b (Q8_K blocks at pa and pb,
// int32 lanes za and zb, float32 lanes zf) as q6_KAVX2: the halves added,
// 32·(scales·bsums) subtracted, converted and multiplied by y.d·x.d. Z2
// holds the sixteen scales as int16 in both halves, Z3 x.d in every lane.
#define Q6KX8PAIR(pa, pb, za, zb, zf) \
	KX8HALVES(za, zb);                  \
	VMOVDQU16    260 pa, Y23;           \
	VINSERTI64X4 $1, 260 pb, Z23, Z23;  \
	VPMADDWD     Z2, Z23, Z23;          \
	VPSLLD       $5, Z23, Z23;          \
	VPSUBD       Z23, Z22, Z22;         \
	KX8FMA(pa, pb, zf)
