//go:build !purego

package asm

// q4_KR4AVX512 sets out[i] to the Q4_K dot product of the weight row at
// w+i·stride with the Q8_K row x, i < 4, equal bit for bit to
// dotQ4_KAVX2's (kquant_r4_avx512_amd64.s), for nblocks ≥ 1.
//
//go:noescape
func q4_KR4AVX512(w *byte, stride int, x *byte, nblocks int, out *[4]float32)

// dotQ4_KR4AVX512 sets out[i] to dotQ4_KAVX2(w[i*stride:], x, nblocks) for
// the four weight rows i < 4, bit for bit, loading x once.
func dotQ4_KR4AVX512(w []byte, stride int, x []byte, nblocks int, out *[4]float32) {
	w, x = stridedRows(w, 4, stride, nblocks*Q4_KBytes), x[:nblocks*Q8_KBytes]
	if nblocks == 0 {
		*out = [4]float32{}
		return
	}
	q4_KR4AVX512(&w[0], stride, &x[0], nblocks, out)
}

// q6_KR4AVX512 is q4_KR4AVX512 for Q6_K weights, equal to dotQ6_KAVX2's.
//
//go:noescape
func q6_KR4AVX512(w *byte, stride int, x *byte, nblocks int, out *[4]float32)

// dotQ6_KR4AVX512 is dotQ4_KR4AVX512 for Q6_K weights.
func dotQ6_KR4AVX512(w []byte, stride int, x []byte, nblocks int, out *[4]float32) {
	w, x = stridedRows(w, 4, stride, nblocks*Q6_KBytes), x[:nblocks*Q8_KBytes]
	if nblocks == 0 {
		*out = [4]float32{}
		return
	}
	q6_KR4AVX512(&w[0], stride, &x[0], nblocks, out)
}
