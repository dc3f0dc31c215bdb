//go:build !purego

package asm

// Four- and two-row forms of the Q4_K, Q6_K and Q5_K dot products with
// AVX-512 and VNNI (kquant_x4_avx512_amd64.s), for batched decode: one
// weight row against four or two Q8_K activation rows, each weight block
// decoded once. Each sets out[i] to the single-row AVX2 kernel's result
// for row i bit for bit, for nblocks ≥ 1.

//go:noescape
func q4_Kx4AVX512(w, x0, x1, x2, x3 *byte, nblocks int, out *[4]float32)

//go:noescape
func q4_Kx2AVX512(w, x0, x1 *byte, nblocks int, out *[2]float32)

//go:noescape
func q6_Kx4AVX512(w, x0, x1, x2, x3 *byte, nblocks int, out *[4]float32)

//go:noescape
func q6_Kx2AVX512(w, x0, x1 *byte, nblocks int, out *[2]float32)

//go:noescape
func q5_Kx4AVX512(w, x0, x1, x2, x3 *byte, nblocks int, out *[4]float32)

//go:noescape
func q5_Kx2AVX512(w, x0, x1 *byte, nblocks int, out *[2]float32)

// dotQ4_Kx4AVX512 sets out[i] to dotQ4_KAVX2(w, xi, nblocks), i < 4.
func dotQ4_Kx4AVX512(w, x0, x1, x2, x3 []byte, nblocks int, out *[4]float32) {
	n := nblocks * Q8_KBytes
	w, x0, x1, x2, x3 = w[:nblocks*Q4_KBytes], x0[:n], x1[:n], x2[:n], x3[:n]
	if nblocks == 0 {
		*out = [4]float32{}
		return
	}
	q4_Kx4AVX512(&w[0], &x0[0], &x1[0], &x2[0], &x3[0], nblocks, out)
}

// dotQ4_Kx2AVX512 sets out[i] to dotQ4_KAVX2(w, xi, nblocks), i < 2.
func dotQ4_Kx2AVX512(w, x0, x1 []byte, nblocks int, out *[2]float32) {
	n := nblocks * Q8_KBytes
	w, x0, x1 = w[:nblocks*Q4_KBytes], x0[:n], x1[:n]
	if nblocks == 0 {
		*out = [2]float32{}
		return
	}
	q4_Kx2AVX512(&w[0], &x0[0], &x1[0], nblocks, out)
}

// dotQ6_Kx4AVX512 sets out[i] to dotQ6_KAVX2(w, xi, nblocks), i < 4.
func dotQ6_Kx4AVX512(w, x0, x1, x2, x3 []byte, nblocks int, out *[4]float32) {
	n := nblocks * Q8_KBytes
	w, x0, x1, x2, x3 = w[:nblocks*Q6_KBytes], x0[:n], x1[:n], x2[:n], x3[:n]
	if nblocks == 0 {
		*out = [4]float32{}
		return
	}
	q6_Kx4AVX512(&w[0], &x0[0], &x1[0], &x2[0], &x3[0], nblocks, out)
}

// dotQ6_Kx2AVX512 sets out[i] to dotQ6_KAVX2(w, xi, nblocks), i < 2.
func dotQ6_Kx2AVX512(w, x0, x1 []byte, nblocks int, out *[2]float32) {
	n := nblocks * Q8_KBytes
	w, x0, x1 = w[:nblocks*Q6_KBytes], x0[:n], x1[:n]
	if nblocks == 0 {
		*out = [2]float32{}
		return
	}
	q6_Kx2AVX512(&w[0], &x0[0], &x1[0], nblocks, out)
}

// dotQ5_Kx4AVX512 sets out[i] to dotQ5_KAVX2(w, xi, nblocks), i < 4.
func dotQ5_Kx4AVX512(w, x0, x1, x2, x3 []byte, nblocks int, out *[4]float32) {
	n := nblocks * Q8_KBytes
	w, x0, x1, x2, x3 = w[:nblocks*Q5_KBytes], x0[:n], x1[:n], x2[:n], x3[:n]
	if nblocks == 0 {
		*out = [4]float32{}
		return
	}
	q5_Kx4AVX512(&w[0], &x0[0], &x1[0], &x2[0], &x3[0], nblocks, out)
}

// dotQ5_Kx2AVX512 sets out[i] to dotQ5_KAVX2(w, xi, nblocks), i < 2.
func dotQ5_Kx2AVX512(w, x0, x1 []byte, nblocks int, out *[2]float32) {
	n := nblocks * Q8_KBytes
	w, x0, x1 = w[:nblocks*Q5_KBytes], x0[:n], x1[:n]
	if nblocks == 0 {
		*out = [2]float32{}
		return
	}
	q5_Kx2AVX512(&w[0], &x0[0], &x1[0], nblocks, out)
}
