package asm

// dotQ8_0Lanes and dotQ4_0Q8_0Lanes are the Go models of the AVX-512
// Q8_0 and Q4_0 products (q8_0_amd64.s, written by _gen; the AVX2 ones
// follow the chain models), bit for bit in every form: per block eight
// exact int32 lane
// sums (lane l holds values 4l…4l+3, as VPMADDUBSW + VPMADDWD or VPDPBUSD
// leave them), converted to float32 and added with a fused multiply-add
// times d = float32(dw·dx) into one of two sets of lanes, even blocks into
// the first and odd blocks into the second; then the sets are added lane
// by lane and reduced as hsumLanes does. They differ from DotQ8_0 and
// DotQ4_0Q8_0 (ggml's scalar order) only in the order and fusing of the
// float accumulation.

// dotQ8_0Lanes returns the amd64 kernels' Q8_0·Q8_0 dot product of nblocks
// blocks.
func dotQ8_0Lanes(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*Q8_0Bytes], x[:nblocks*Q8_0Bytes]
	var acc [2][8]float32
	for b := 0; b < nblocks; b++ {
		wb, xb := w[b*Q8_0Bytes:(b+1)*Q8_0Bytes], x[b*Q8_0Bytes:]
		var q [32]int8
		for j := range q {
			q[j] = int8(wb[2+j])
		}
		s := lanes32(&q, xb[2:])
		accumulate(&acc[b%2], float32(f16(wb)*f16(xb)), &s)
	}
	return hsumLanes(&acc)
}

// dotQ4_0Q8_0Lanes returns the amd64 kernels' Q4_0·Q8_0 dot product of
// nblocks blocks.
func dotQ4_0Q8_0Lanes(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*Q4_0Bytes], x[:nblocks*Q8_0Bytes]
	var acc [2][8]float32
	for b := 0; b < nblocks; b++ {
		wb, xb := w[b*Q4_0Bytes:(b+1)*Q4_0Bytes], x[b*Q8_0Bytes:]
		var q [32]int8
		nibbles32(&q, wb[2:])
		for j := range q {
			q[j] -= 8
		}
		s := lanes32(&q, xb[2:])
		accumulate(&acc[b%2], float32(f16(wb)*f16(xb)), &s)
	}
	return hsumLanes(&acc)
}

// hsumLanes adds the two sets of lanes and reduces the sum s as the
// kernels do (VEXTRACTF128, VADDPS, two VHADDPS):
// ((s0+s4)+(s1+s5)) + ((s2+s6)+(s3+s7)).
func hsumLanes(acc *[2][8]float32) float32 {
	var s [8]float32
	for l := range s {
		s[l] = acc[0][l] + acc[1][l]
	}
	return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]))
}
