// Macros shared by the AVX-512 K-quant kernels in kquant_avx512_amd64.s
// and kquant_r4_avx512_amd64.s.

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
