//go:build !purego

package asm

// Multi-row AVX2 forms of the super-block dot products (multirow_k_amd64.s,
// multirow_k2_amd64.s). The routines accumulate into acc, which the
// wrappers zero and reduce as the single-row wrappers do; they need
// nblocks ≥ 1.

//go:noescape
func q4_Kx4AVX2(w, x0, x1, x2, x3 *byte, nblocks int, acc *[4][12]float32)

//go:noescape
func q4_Kx2AVX2(w, x0, x1 *byte, nblocks int, acc *[2][12]float32)

//go:noescape
func q5_Kx4AVX2(w, x0, x1, x2, x3 *byte, nblocks int, acc *[4][9]float32)

//go:noescape
func q5_Kx2AVX2(w, x0, x1 *byte, nblocks int, acc *[2][9]float32)

//go:noescape
func iq4_XSx4AVX2(w, x0, x1, x2, x3 *byte, nblocks int, acc *[4][8]float32)

//go:noescape
func iq4_XSx2AVX2(w, x0, x1 *byte, nblocks int, acc *[2][8]float32)

//go:noescape
func q2_Kx4AVX2(w, x0, x1, x2, x3 *byte, nblocks int, acc *[4][8]float32)

//go:noescape
func q2_Kx2AVX2(w, x0, x1 *byte, nblocks int, acc *[2][8]float32)

//go:noescape
func q3_Kx4AVX2(w, x0, x1, x2, x3 *byte, nblocks int, acc *[4][8]float32)

//go:noescape
func q3_Kx2AVX2(w, x0, x1 *byte, nblocks int, acc *[2][8]float32)

//go:noescape
func q6_Kx4AVX2(w, x0, x1, x2, x3 *byte, nblocks int, acc *[4][8]float32)

//go:noescape
func q6_Kx2AVX2(w, x0, x1 *byte, nblocks int, acc *[2][8]float32)

func dotQ4_Kx4AVX2(w, x0, x1, x2, x3 []byte, nblocks int, out *[4]float32) {
	n := nblocks * Q8_KBytes
	w, x0, x1, x2, x3 = w[:nblocks*Q4_KBytes], x0[:n], x1[:n], x2[:n], x3[:n]
	if nblocks == 0 {
		*out = [4]float32{}
		return
	}
	var acc [4][12]float32
	q4_Kx4AVX2(&w[0], &x0[0], &x1[0], &x2[0], &x3[0], nblocks, &acc)
	for i := range out {
		out[i] = reduceQ4_K(&acc[i])
	}
}

func dotQ4_Kx2AVX2(w, x0, x1 []byte, nblocks int, out *[2]float32) {
	n := nblocks * Q8_KBytes
	w, x0, x1 = w[:nblocks*Q4_KBytes], x0[:n], x1[:n]
	if nblocks == 0 {
		*out = [2]float32{}
		return
	}
	var acc [2][12]float32
	q4_Kx2AVX2(&w[0], &x0[0], &x1[0], nblocks, &acc)
	for i := range out {
		out[i] = reduceQ4_K(&acc[i])
	}
}

func dotQ6_Kx4AVX2(w, x0, x1, x2, x3 []byte, nblocks int, out *[4]float32) {
	n := nblocks * Q8_KBytes
	w, x0, x1, x2, x3 = w[:nblocks*Q6_KBytes], x0[:n], x1[:n], x2[:n], x3[:n]
	if nblocks == 0 {
		*out = [4]float32{}
		return
	}
	var acc [4][8]float32
	q6_Kx4AVX2(&w[0], &x0[0], &x1[0], &x2[0], &x3[0], nblocks, &acc)
	for i := range out {
		out[i] = hsum8(&acc[i])
	}
}

func dotQ6_Kx2AVX2(w, x0, x1 []byte, nblocks int, out *[2]float32) {
	n := nblocks * Q8_KBytes
	w, x0, x1 = w[:nblocks*Q6_KBytes], x0[:n], x1[:n]
	if nblocks == 0 {
		*out = [2]float32{}
		return
	}
	var acc [2][8]float32
	q6_Kx2AVX2(&w[0], &x0[0], &x1[0], nblocks, &acc)
	for i := range out {
		out[i] = hsum8(&acc[i])
	}
}

func dotQ5_Kx4AVX2(w, x0, x1, x2, x3 []byte, nblocks int, out *[4]float32) {
	n := nblocks * Q8_KBytes
	w, x0, x1, x2, x3 = w[:nblocks*Q5_KBytes], x0[:n], x1[:n], x2[:n], x3[:n]
	if nblocks == 0 {
		*out = [4]float32{}
		return
	}
	var acc [4][9]float32
	q5_Kx4AVX2(&w[0], &x0[0], &x1[0], &x2[0], &x3[0], nblocks, &acc)
	for i := range out {
		out[i] = hsum8((*[8]float32)(acc[i][:8])) + acc[i][8]
	}
}

func dotQ5_Kx2AVX2(w, x0, x1 []byte, nblocks int, out *[2]float32) {
	n := nblocks * Q8_KBytes
	w, x0, x1 = w[:nblocks*Q5_KBytes], x0[:n], x1[:n]
	if nblocks == 0 {
		*out = [2]float32{}
		return
	}
	var acc [2][9]float32
	q5_Kx2AVX2(&w[0], &x0[0], &x1[0], nblocks, &acc)
	for i := range out {
		out[i] = hsum8((*[8]float32)(acc[i][:8])) + acc[i][8]
	}
}

func dotIQ4_XSx4AVX2(w, x0, x1, x2, x3 []byte, nblocks int, out *[4]float32) {
	n := nblocks * Q8_KBytes
	w, x0, x1, x2, x3 = w[:nblocks*IQ4_XSBytes], x0[:n], x1[:n], x2[:n], x3[:n]
	if nblocks == 0 {
		*out = [4]float32{}
		return
	}
	var acc [4][8]float32
	iq4_XSx4AVX2(&w[0], &x0[0], &x1[0], &x2[0], &x3[0], nblocks, &acc)
	for i := range out {
		out[i] = hsum8(&acc[i])
	}
}

func dotIQ4_XSx2AVX2(w, x0, x1 []byte, nblocks int, out *[2]float32) {
	n := nblocks * Q8_KBytes
	w, x0, x1 = w[:nblocks*IQ4_XSBytes], x0[:n], x1[:n]
	if nblocks == 0 {
		*out = [2]float32{}
		return
	}
	var acc [2][8]float32
	iq4_XSx2AVX2(&w[0], &x0[0], &x1[0], nblocks, &acc)
	for i := range out {
		out[i] = hsum8(&acc[i])
	}
}

func dotQ2_Kx4AVX2(w, x0, x1, x2, x3 []byte, nblocks int, out *[4]float32) {
	n := nblocks * Q8_KBytes
	w, x0, x1, x2, x3 = w[:nblocks*Q2_KBytes], x0[:n], x1[:n], x2[:n], x3[:n]
	if nblocks == 0 {
		*out = [4]float32{}
		return
	}
	var acc [4][8]float32
	q2_Kx4AVX2(&w[0], &x0[0], &x1[0], &x2[0], &x3[0], nblocks, &acc)
	for i := range out {
		out[i] = hsum8(&acc[i])
	}
}

func dotQ2_Kx2AVX2(w, x0, x1 []byte, nblocks int, out *[2]float32) {
	n := nblocks * Q8_KBytes
	w, x0, x1 = w[:nblocks*Q2_KBytes], x0[:n], x1[:n]
	if nblocks == 0 {
		*out = [2]float32{}
		return
	}
	var acc [2][8]float32
	q2_Kx2AVX2(&w[0], &x0[0], &x1[0], nblocks, &acc)
	for i := range out {
		out[i] = hsum8(&acc[i])
	}
}

func dotQ3_Kx4AVX2(w, x0, x1, x2, x3 []byte, nblocks int, out *[4]float32) {
	n := nblocks * Q8_KBytes
	w, x0, x1, x2, x3 = w[:nblocks*Q3_KBytes], x0[:n], x1[:n], x2[:n], x3[:n]
	if nblocks == 0 {
		*out = [4]float32{}
		return
	}
	var acc [4][8]float32
	q3_Kx4AVX2(&w[0], &x0[0], &x1[0], &x2[0], &x3[0], nblocks, &acc)
	for i := range out {
		out[i] = hsum8(&acc[i])
	}
}

func dotQ3_Kx2AVX2(w, x0, x1 []byte, nblocks int, out *[2]float32) {
	n := nblocks * Q8_KBytes
	w, x0, x1 = w[:nblocks*Q3_KBytes], x0[:n], x1[:n]
	if nblocks == 0 {
		*out = [2]float32{}
		return
	}
	var acc [2][8]float32
	q3_Kx2AVX2(&w[0], &x0[0], &x1[0], nblocks, &acc)
	for i := range out {
		out[i] = hsum8(&acc[i])
	}
}
