package asm

// Multi-row forms of the super-block dot products: for two or four Q8_K
// activation rows, each weight super-block is decoded once per row and
// each row gets its own accumulators, so every result equals the
// single-row function's bit for bit. Prefill calls them to read each
// weight row once per two or four tokens.

// dotKxN sets out[i] to dotK(k, w, xs[i], nblocks) for up to four rows.
func dotKxN(k kType, w []byte, xs [][]byte, nblocks int, out []float32) {
	w = w[:nblocks*k.bytes()]
	for i := range xs {
		xs[i] = xs[i][:nblocks*Q8_KBytes]
	}
	var acc [4]kAcc
	var s kScratch
	for b := 0; b < nblocks; b++ {
		wb := w[b*k.bytes() : (b+1)*k.bytes()]
		for i, x := range xs {
			a := readQ8K(x[b*Q8_KBytes:])
			k.step(&s, &acc[i], wb, &a)
		}
	}
	for i := range xs {
		out[i] = k.reduce(&acc[i])
	}
}

// kX4 and kX2 return the four- and two-row forms of k's dot product: out[i]
// is dotK(k, w, xi, nblocks) bit for bit.
func kX4(k kType) func(w, x0, x1, x2, x3 []byte, nblocks int, out *[4]float32) {
	return func(w, x0, x1, x2, x3 []byte, nblocks int, out *[4]float32) {
		dotKxN(k, w, [][]byte{x0, x1, x2, x3}, nblocks, out[:])
	}
}

func kX2(k kType) func(w, x0, x1 []byte, nblocks int, out *[2]float32) {
	return func(w, x0, x1 []byte, nblocks int, out *[2]float32) {
		dotKxN(k, w, [][]byte{x0, x1}, nblocks, out[:])
	}
}

// reduceQ4_K returns the dot product the lanes of an assembly Q4_K routine
// hold: eight lanes of scaled sums, then four of minimums.
func reduceQ4_K(acc *[12]float32) float32 {
	return hsum8((*[8]float32)(acc[:8])) + hsum4((*[4]float32)(acc[8:]))
}
