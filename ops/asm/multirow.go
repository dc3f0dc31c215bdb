package asm

// DotQ8_0x4 sets out[i] to DotQ8_0(w, xi, nblocks) for the four Q8_0
// activation rows x0..x3, bit for bit, reading each weight block once.
func DotQ8_0x4(w, x0, x1, x2, x3 []byte, nblocks int, out *[4]float32) {
	dotQ8_0xN(w, [][]byte{x0, x1, x2, x3}, nblocks, out[:])
}

// DotQ8_0x2 is DotQ8_0x4 for two activation rows.
func DotQ8_0x2(w, x0, x1 []byte, nblocks int, out *[2]float32) {
	dotQ8_0xN(w, [][]byte{x0, x1}, nblocks, out[:])
}

// DotQ4_0Q8_0x4 sets out[i] to DotQ4_0Q8_0(w, xi, nblocks) for the four
// Q8_0 activation rows x0..x3, bit for bit, reading each weight block once.
func DotQ4_0Q8_0x4(w, x0, x1, x2, x3 []byte, nblocks int, out *[4]float32) {
	dotQ4_0Q8_0xN(w, [][]byte{x0, x1, x2, x3}, nblocks, out[:])
}

// DotQ4_0Q8_0x2 is DotQ4_0Q8_0x4 for two activation rows.
func DotQ4_0Q8_0x2(w, x0, x1 []byte, nblocks int, out *[2]float32) {
	dotQ4_0Q8_0xN(w, [][]byte{x0, x1}, nblocks, out[:])
}

// dotQ8_0xN sets out[i] to DotQ8_0(w, xs[i], nblocks) for up to four rows.
func dotQ8_0xN(w []byte, xs [][]byte, nblocks int, out []float32) {
	n := nblocks * Q8_0Bytes
	w = w[:n]
	for i := range xs {
		xs[i] = xs[i][:n]
	}
	var sum [4]float32
	for b := 0; b < nblocks; b++ {
		wb := (*[Q8_0Bytes]byte)(w[b*Q8_0Bytes:])
		dw := f16(wb[:])
		for i, x := range xs {
			xb := (*[Q8_0Bytes]byte)(x[b*Q8_0Bytes:])
			var isum int32
			for j := 2; j < Q8_0Bytes; j += 4 {
				isum += int32(int8(wb[j]))*int32(int8(xb[j])) +
					int32(int8(wb[j+1]))*int32(int8(xb[j+1])) +
					int32(int8(wb[j+2]))*int32(int8(xb[j+2])) +
					int32(int8(wb[j+3]))*int32(int8(xb[j+3]))
			}
			d := float32(dw * f16(xb[:]))
			sum[i] += float32(float32(isum) * d)
		}
	}
	copy(out, sum[:len(xs)])
}

// dotQ4_0Q8_0xN sets out[i] to DotQ4_0Q8_0(w, xs[i], nblocks) for up to
// four rows.
func dotQ4_0Q8_0xN(w []byte, xs [][]byte, nblocks int, out []float32) {
	n := nblocks * Q8_0Bytes
	w = w[:nblocks*Q4_0Bytes]
	for i := range xs {
		xs[i] = xs[i][:n]
	}
	var sum [4]float32
	for b := 0; b < nblocks; b++ {
		wb := (*[Q4_0Bytes]byte)(w[b*Q4_0Bytes:])
		dw := f16(wb[:])
		var lo, hi [QK / 2]int32
		for j := range lo {
			lo[j], hi[j] = int32(wb[2+j]&0x0f)-8, int32(wb[2+j]>>4)-8
		}
		for i, x := range xs {
			xb := (*[Q8_0Bytes]byte)(x[b*Q8_0Bytes:])
			var isum int32
			for j := 0; j < QK/2; j++ {
				isum += lo[j]*int32(int8(xb[2+j])) + hi[j]*int32(int8(xb[2+QK/2+j]))
			}
			sum[i] += float32(float32(float32(isum)*dw) * f16(xb[:]))
		}
	}
	copy(out, sum[:len(xs)])
}
