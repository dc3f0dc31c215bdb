package asm

import "encoding/binary"

// Dot products of the 32-value block types Q4_1, Q5_0, Q5_1 and IQ4_NL with
// their activation types, following llama.cpp's x86 AVX2 kernels: per block
// eight int32 lane sums (lane l holds values 4l…4l+3), accumulated into
// eight float32 lanes with a fused multiply-add and reduced by hsum8. The
// integer sums equal ggml's for activations in [-127, 127], which the
// activation quantizers guarantee.

// Block sizes of the 32-value weight types.
const (
	Q4_1Bytes   = 20 // fp16 d, fp16 m, 16 bytes of nibbles
	Q5_0Bytes   = 22 // fp16 d, 32 high bits, 16 bytes of nibbles
	Q5_1Bytes   = 24 // fp16 d, fp16 m, 32 high bits, 16 bytes of nibbles
	IQ4_NLBytes = 18 // fp16 d, 16 bytes of nibbles indexing kvaluesIQ4NL
)

// kvaluesIQ4NL are the 16 values IQ4_NL and IQ4_XS nibbles stand for.
var kvaluesIQ4NL = [16]int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

// lanes32 returns the eight sums of four products q[k]·x[k] each, as
// AVX2's VPMADDUBSW + VPMADDWD leave them for one 32-value block.
func lanes32(q *[32]int8, x []byte) (s [8]int32) {
	x = x[:32]
	for l := range s {
		k := 4 * l
		s[l] = int32(q[k])*int32(int8(x[k])) + int32(q[k+1])*int32(int8(x[k+1])) +
			int32(q[k+2])*int32(int8(x[k+2])) + int32(q[k+3])*int32(int8(x[k+3]))
	}
	return s
}

// nibbles32 unpacks 16 bytes into 32 values: the low nibbles first, then
// the high ones.
func nibbles32(q *[32]int8, b []byte) {
	b = b[:16]
	for j, v := range b {
		q[j], q[j+16] = int8(v&0x0f), int8(v>>4)
	}
}

// fifthBits adds 16 to value k where bit k of the little-endian qh is set.
func fifthBits(q *[32]int8, qh []byte) {
	h := binary.LittleEndian.Uint32(qh)
	for k := range q {
		q[k] += int8(h >> k & 1 << 4)
	}
}

// accumulate adds d·s lane by lane into acc with fused multiply-adds.
func accumulate(acc *[8]float32, d float32, s *[8]int32) {
	for l, v := range s {
		acc[l] = fma32(d, float32(v), acc[l])
	}
}

// DotQ4_1Q8_1 returns the dot product of nblocks Q4_1 blocks w with
// nblocks Q8_1 blocks x, as ggml_vec_dot_q4_1_q8_1 on AVX2:
// lanes += (dw·dx)·isum, plus Σ m·s accumulated with fused multiply-adds.
func DotQ4_1Q8_1(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*Q4_1Bytes], x[:nblocks*Q8_1Bytes]
	var acc [8]float32
	var summs float32
	var q [32]int8
	for b := 0; b < nblocks; b++ {
		wb, xb := w[b*Q4_1Bytes:], x[b*Q8_1Bytes:]
		summs = fma32(f16(wb[2:]), f16(xb[2:]), summs)
		nibbles32(&q, wb[4:])
		s := lanes32(&q, xb[4:])
		accumulate(&acc, float32(f16(wb)*f16(xb)), &s)
	}
	return hsum8(&acc) + summs
}

// DotQ5_1Q8_1 is DotQ4_1Q8_1 for Q5_1 weights (ggml_vec_dot_q5_1_q8_1).
func DotQ5_1Q8_1(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*Q5_1Bytes], x[:nblocks*Q8_1Bytes]
	var acc [8]float32
	var summs float32
	var q [32]int8
	for b := 0; b < nblocks; b++ {
		wb, xb := w[b*Q5_1Bytes:], x[b*Q8_1Bytes:]
		summs = fma32(f16(wb[2:]), f16(xb[2:]), summs)
		nibbles32(&q, wb[8:])
		fifthBits(&q, wb[4:])
		s := lanes32(&q, xb[4:])
		accumulate(&acc, float32(f16(wb)*f16(xb)), &s)
	}
	return hsum8(&acc) + summs
}

// DotQ5_0Q8_0 returns the dot product of nblocks Q5_0 blocks w with
// nblocks Q8_0 blocks x, as ggml_vec_dot_q5_0_q8_0 on AVX2 (values
// nibble + 16·bit - 16).
func DotQ5_0Q8_0(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*Q5_0Bytes], x[:nblocks*Q8_0Bytes]
	var acc [8]float32
	var q [32]int8
	for b := 0; b < nblocks; b++ {
		wb, xb := w[b*Q5_0Bytes:], x[b*Q8_0Bytes:]
		nibbles32(&q, wb[6:])
		fifthBits(&q, wb[2:])
		for k := range q {
			q[k] -= 16
		}
		s := lanes32(&q, xb[2:])
		accumulate(&acc, float32(f16(wb)*f16(xb)), &s)
	}
	return hsum8(&acc)
}

// DotIQ4_NLQ8_0 returns the dot product of nblocks IQ4_NL blocks w with
// nblocks Q8_0 blocks x, as ggml_vec_dot_iq4_nl_q8_0 on AVX2: even and odd
// blocks accumulate in two sets of lanes, added before the reduction, and
// a last odd block is added to the sum on its own.
func DotIQ4_NLQ8_0(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*IQ4_NLBytes], x[:nblocks*Q8_0Bytes]
	var acc [2][8]float32
	var q [32]int8
	block := func(b int) (float32, [8]int32) {
		wb, xb := w[b*IQ4_NLBytes:], x[b*Q8_0Bytes:]
		for j, v := range wb[2:18] {
			q[j], q[j+16] = kvaluesIQ4NL[v&0x0f], kvaluesIQ4NL[v>>4]
		}
		return float32(f16(xb) * f16(wb)), lanes32(&q, xb[2:])
	}
	b := 0
	for ; b+1 < nblocks; b += 2 {
		d, s := block(b)
		accumulate(&acc[0], d, &s)
		d, s = block(b + 1)
		accumulate(&acc[1], d, &s)
	}
	var both [8]float32
	for l := range both {
		both[l] = acc[0][l] + acc[1][l]
	}
	sum := hsum8(&both)
	if b < nblocks {
		sum = iq4NLTail(w[b*IQ4_NLBytes:], x[b*Q8_0Bytes:], sum)
	}
	return sum
}

// iq4NLTail adds the last block of an odd count to sum as ggml's AVX2 code
// does: its integer sum times the scales, with one fused multiply-add.
func iq4NLTail(w, x []byte, sum float32) float32 {
	var isum int32
	for j, v := range w[2:IQ4_NLBytes] {
		isum += int32(kvaluesIQ4NL[v&0x0f])*int32(int8(x[2+j])) + int32(kvaluesIQ4NL[v>>4])*int32(int8(x[18+j]))
	}
	return fma32(float32(f16(x)*f16(w)), float32(isum), sum)
}
