package asm

// dotQ8_0Chains and dotQ4_0Q8_0Chains are the Go models of the arm64
// "neon-i8mm" kernel (i8mm_arm64.s), which follows them bit for bit in
// every form (one, two, four and eight activation rows), and of the amd64
// "avx2" kernel's Q8_0 and Q4_0 products (q8_0_amd64.s, _gen/chains.go:
// one row, four weight rows, a group of eight tokens): per block one
// exact int32 sum of its 32 products, converted to float32 and added with
// a fused multiply-add times d = float32(dx·dw) into one of two float32
// chains, even blocks into the first and odd blocks into the second; the
// result is the first chain plus the second. The sum of 32 int8 products
// is at most 32·128² = 2^19 in magnitude, so every grouping of the
// integer additions (SDOT's sums of four, SMMLA's sums of eight) gives
// the same int32, and float32 holds it exactly. The two chains let the
// single-row form keep two blocks' fused multiply-adds in flight; the
// multi-row forms keep the chains of two rows in one vector register.

// dotQ8_0Chains returns the neon-i8mm and AVX2 kernels' Q8_0·Q8_0 dot
// product of nblocks blocks (AVX2: activations in [-127, 127], as
// quantized ones are).
func dotQ8_0Chains(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*Q8_0Bytes], x[:nblocks*Q8_0Bytes]
	var acc [2]float32
	for b := range nblocks {
		wb, xb := w[b*Q8_0Bytes:(b+1)*Q8_0Bytes], x[b*Q8_0Bytes:(b+1)*Q8_0Bytes]
		var s int32
		for j := 2; j < Q8_0Bytes; j++ {
			s += int32(int8(wb[j])) * int32(int8(xb[j]))
		}
		acc[b%2] = fma32(float32(s), float32(f16(xb)*f16(wb)), acc[b%2])
	}
	return acc[0] + acc[1]
}

// dotQ4_0Q8_0Chains returns the neon-i8mm and AVX2 kernels' Q4_0·Q8_0 dot
// product of nblocks blocks: the weights are the nibbles less 8, the low
// nibbles of the block's 16 bytes its first 16 values and the high ones
// the rest.
func dotQ4_0Q8_0Chains(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*Q4_0Bytes], x[:nblocks*Q8_0Bytes]
	var acc [2]float32
	for b := range nblocks {
		wb, xb := w[b*Q4_0Bytes:(b+1)*Q4_0Bytes], x[b*Q8_0Bytes:(b+1)*Q8_0Bytes]
		var s int32
		for j, v := range wb[2:] {
			s += (int32(v&0x0f)-8)*int32(int8(xb[2+j])) + (int32(v>>4)-8)*int32(int8(xb[2+QK/2+j]))
		}
		acc[b%2] = fma32(float32(s), float32(f16(xb)*f16(wb)), acc[b%2])
	}
	return acc[0] + acc[1]
}
