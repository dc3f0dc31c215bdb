package asm

import (
	"encoding/binary"
	"math"
)

// Dot products of the 256-value super-block types (Q2_K … Q6_K, IQ4_XS)
// with Q8_K activations, following llama.cpp's x86 AVX2 kernels: per
// super-block eight int32 lane sums, where lane l holds the values k with
// k mod 32 in [4l, 4l+4) (VPMADDUBSW + VPMADDWD over 32-byte loads), each
// weighted by its 16-value group's scale; the lanes are accumulated into
// eight float32 lanes with fused multiply-adds and reduced by hsum8. Each
// type's corrections for its minimums or offsets go where ggml's do, so the
// float result equals ggml's AVX2 one bit for bit.

// Block sizes of the super-block weight types.
const (
	Q2_KBytes   = 84  // 16 scale/min bytes, 64 bytes of 2-bit values, fp16 d, fp16 dmin
	Q3_KBytes   = 110 // 32 bytes of high bits, 64 of 2-bit values, 12 of scales, fp16 d
	Q4_KBytes   = 144 // fp16 d, fp16 dmin, 12 bytes of 6-bit scales and mins, 128 of nibbles
	Q5_KBytes   = 176 // Q4_K with 32 bytes of fifth bits before the nibbles
	Q6_KBytes   = 210 // 128 bytes of low nibbles, 64 of high 2 bits, 16 int8 scales, fp16 d
	IQ4_XSBytes = 136 // fp16 d, uint16 high scale bits, 4 bytes of low scale bits, 128 of nibbles
)

// q8K is one Q8_K activation block.
type q8K struct {
	d     float32
	q     []byte // 256 int8
	bsums [16]int16
}

func readQ8K(x []byte) q8K {
	x = x[:Q8_KBytes]
	a := q8K{d: math.Float32frombits(binary.LittleEndian.Uint32(x)), q: x[4 : 4+QKK]}
	for j := range a.bsums {
		a.bsums[j] = int16(binary.LittleEndian.Uint16(x[4+QKK+2*j:]))
	}
	return a
}

// kLanes returns the eight lane sums of sc[k/16]·q[k]·x[k] over a
// super-block.
func kLanes(q *[QKK]int8, sc *[16]int32, x []byte) (s [8]int32) {
	x = x[:QKK]
	for g, c := range sc {
		half := (g & 1) * 4 // the second 16 values of a 32 fill lanes 4…7
		for l := 0; l < 4; l++ {
			k := 16*g + 4*l
			p := int32(q[k])*int32(int8(x[k])) + int32(q[k+1])*int32(int8(x[k+1])) +
				int32(q[k+2])*int32(int8(x[k+2])) + int32(q[k+3])*int32(int8(x[k+3]))
			s[half+l] += c * p
		}
	}
	return s
}

// scaleMinK4 decodes the eight 6-bit scales and minimums of a Q4_K or Q5_K
// super-block, as ggml's get_scale_min_k4.
func scaleMinK4(b []byte) (sc, m [8]int32) {
	b = b[:12]
	for j := range 4 {
		sc[j], m[j] = int32(b[j]&63), int32(b[j+4]&63)
		sc[j+4] = int32(b[j+8]&0x0f | b[j]>>6<<4)
		m[j+4] = int32(b[j+8]>>4 | b[j+4]>>6<<4)
	}
	return sc, m
}

// kAcc holds the float32 accumulators of a super-block dot product: the
// eight lanes every type has, the four minimum lanes of Q4_K and the one
// minimum sum of Q5_K.
type kAcc struct {
	lanes [8]float32
	mins  [4]float32
	summs float32
}

// kScratch holds one decoded super-block: its 256 values and 16 scales.
type kScratch struct {
	q  [QKK]int8
	sc [16]int32
}

// kType is one super-block type for the generic dot products.
type kType int

const (
	kQ2_K kType = iota
	kQ3_K
	kQ4_K
	kQ5_K
	kQ6_K
	kIQ4_XS
)

// bytes returns the size of one super-block of k.
func (k kType) bytes() int {
	return [...]int{Q2_KBytes, Q3_KBytes, Q4_KBytes, Q5_KBytes, Q6_KBytes, IQ4_XSBytes}[k]
}

// step adds one weight super-block of k times one Q8_K block to acc. The
// calls are direct (not through function values) so that the scratch and
// accumulators stay on the stack.
func (k kType) step(s *kScratch, acc *kAcc, wb []byte, a *q8K) {
	switch k {
	case kQ2_K:
		stepQ2_K(s, acc, wb, a)
	case kQ3_K:
		stepQ3_K(s, acc, wb, a)
	case kQ4_K:
		stepQ4_K(s, acc, wb, a)
	case kQ5_K:
		stepQ5_K(s, acc, wb, a)
	case kQ6_K:
		stepQ6_K(s, acc, wb, a)
	case kIQ4_XS:
		stepIQ4_XS(s, acc, wb, a)
	}
}

// reduce returns the dot product the accumulators of k hold.
func (k kType) reduce(acc *kAcc) float32 {
	switch k {
	case kQ4_K:
		return hsum8(&acc.lanes) + hsum4(&acc.mins)
	case kQ5_K:
		return hsum8(&acc.lanes) + acc.summs
	}
	return hsum8(&acc.lanes)
}

// dotK returns the dot product of nblocks super-blocks of type k at w with
// nblocks Q8_K blocks at x.
func dotK(k kType, w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*k.bytes()], x[:nblocks*Q8_KBytes]
	var acc kAcc
	var s kScratch
	for b := 0; b < nblocks; b++ {
		a := readQ8K(x[b*Q8_KBytes:])
		k.step(&s, &acc, w[b*k.bytes():(b+1)*k.bytes()], &a)
	}
	return k.reduce(&acc)
}

// DotQ2_KQ8_K returns the dot product of nblocks Q2_K super-blocks w with
// nblocks Q8_K blocks x, as ggml_vec_dot_q2_K_q8_K on AVX2: the lanes first
// take dmin·(mins·bsums) (two groups per lane), then d·(scaled sums).
func DotQ2_KQ8_K(w, x []byte, nblocks int) float32 { return dotK(kQ2_K, w, x, nblocks) }

func stepQ2_K(s *kScratch, acc *kAcc, wb []byte, a *q8K) {
	d := float32(a.d * f16(wb[80:]))
	dmin := float32(-a.d * f16(wb[82:]))
	var mins [8]int32
	for l := range mins {
		mins[l] = int32(wb[2*l]>>4)*int32(a.bsums[2*l]) + int32(wb[2*l+1]>>4)*int32(a.bsums[2*l+1])
	}
	accumulate(&acc.lanes, dmin, &mins)
	for g := range s.sc {
		s.sc[g] = int32(wb[g] & 0x0f)
	}
	for j := range 2 {
		for sh := range 4 {
			for i, v := range wb[16+32*j : 16+32*j+32] {
				s.q[128*j+32*sh+i] = int8(v >> (2 * sh) & 3)
			}
		}
	}
	sums := kLanes(&s.q, &s.sc, a.q)
	accumulate(&acc.lanes, d, &sums)
}

// DotQ3_KQ8_K returns the dot product of nblocks Q3_K super-blocks w with
// nblocks Q8_K blocks x, as ggml_vec_dot_q3_K_q8_K on AVX2 (values
// low 2 bits - 4 where the high bit is clear, scales 6 bits - 32).
func DotQ3_KQ8_K(w, x []byte, nblocks int) float32 { return dotK(kQ3_K, w, x, nblocks) }

func stepQ3_K(s *kScratch, acc *kAcc, wb []byte, a *q8K) {
	d := float32(a.d * f16(wb[108:]))
	hm, qs, sb := wb[0:32], wb[32:96], wb[96:108]
	for j := range 4 {
		lo := sb[j]    // scales j and j+8: low nibbles of bytes 0…7
		hi := sb[j+4]  // scales j+4 and j+12
		top := sb[8+j] // the two high bits of scales j, j+4, j+8, j+12
		s.sc[j] = int32(lo&0x0f|top&3<<4) - 32
		s.sc[j+4] = int32(hi&0x0f|top>>2&3<<4) - 32
		s.sc[j+8] = int32(lo>>4|top>>4&3<<4) - 32
		s.sc[j+12] = int32(hi>>4|top>>6&3<<4) - 32
	}
	for j := range 2 {
		for sh := range 4 {
			bit := uint(4*j + sh)
			for i, v := range qs[32*j : 32*j+32] {
				s.q[128*j+32*sh+i] = int8(v>>(2*sh)&3) - int8((^hm[i]>>bit)&1)<<2
			}
		}
	}
	sums := kLanes(&s.q, &s.sc, a.q)
	accumulate(&acc.lanes, d, &sums)
}

// q4KBody fills q, sc and the minimum lanes of a Q4_K or Q5_K super-block
// whose scales start at wb[4]; the caller adds Q5_K's fifth bits.
func q4KBody(q *[QKK]int8, sc *[16]int32, wb, nibbles []byte, a *q8K) (mins [4]int32) {
	s, m := scaleMinK4(wb[4:16])
	for g := range sc {
		sc[g] = s[g/2]
	}
	for i := range mins {
		// VPHADDW pairs the 16 bsums into 8 int16 sums (wrapping), VPMADDWD
		// pairs those with the 8 minimums.
		s0 := int32(a.bsums[4*i] + a.bsums[4*i+1])
		s1 := int32(a.bsums[4*i+2] + a.bsums[4*i+3])
		mins[i] = m[2*i]*s0 + m[2*i+1]*s1
	}
	for j := range 4 {
		for i, v := range nibbles[32*j : 32*j+32] {
			q[64*j+i], q[64*j+32+i] = int8(v&0x0f), int8(v>>4)
		}
	}
	return mins
}

// DotQ4_KQ8_K returns the dot product of nblocks Q4_K super-blocks w with
// nblocks Q8_K blocks x, as ggml_vec_dot_q4_K_q8_K on AVX2: scaled sums in
// eight lanes, dmin·(mins·bsums) in four more, reduced separately and
// added.
func DotQ4_KQ8_K(w, x []byte, nblocks int) float32 { return dotK(kQ4_K, w, x, nblocks) }

func stepQ4_K(s *kScratch, acc *kAcc, wb []byte, a *q8K) {
	d := float32(a.d * f16(wb[0:]))
	dmin := float32(-a.d * f16(wb[2:]))
	mins := q4KBody(&s.q, &s.sc, wb, wb[16:144], a)
	for i, v := range mins {
		acc.mins[i] = fma32(dmin, float32(v), acc.mins[i])
	}
	sums := kLanes(&s.q, &s.sc, a.q)
	accumulate(&acc.lanes, d, &sums)
}

// DotQ5_KQ8_K returns the dot product of nblocks Q5_K super-blocks w with
// nblocks Q8_K blocks x, as ggml_vec_dot_q5_K_q8_K on AVX2: as Q4_K, but
// the minimums' integer sum is added in one float32 with a fused
// multiply-add per super-block.
func DotQ5_KQ8_K(w, x []byte, nblocks int) float32 { return dotK(kQ5_K, w, x, nblocks) }

func stepQ5_K(s *kScratch, acc *kAcc, wb []byte, a *q8K) {
	d := float32(a.d * f16(wb[0:]))
	dmin := float32(-a.d * f16(wb[2:]))
	mins := q4KBody(&s.q, &s.sc, wb, wb[48:176], a)
	acc.summs = fma32(dmin, float32(mins[0]+mins[1]+mins[2]+mins[3]), acc.summs)
	qh := wb[16:48]
	for c := range 8 {
		for i, h := range qh {
			s.q[32*c+i] += int8(h >> c & 1 << 4)
		}
	}
	sums := kLanes(&s.q, &s.sc, a.q)
	accumulate(&acc.lanes, d, &sums)
}

// DotQ6_KQ8_K returns the dot product of nblocks Q6_K super-blocks w with
// nblocks Q8_K blocks x, as ggml_vec_dot_q6_K_q8_K on AVX2: values 0…63
// multiplied as unsigned, and 32·(scale·bsum) of two groups taken off each
// lane.
func DotQ6_KQ8_K(w, x []byte, nblocks int) float32 { return dotK(kQ6_K, w, x, nblocks) }

func stepQ6_K(s *kScratch, acc *kAcc, wb []byte, a *q8K) {
	d := float32(a.d * f16(wb[208:]))
	ql, qh := wb[0:128], wb[128:192]
	for g := range s.sc {
		s.sc[g] = int32(int8(wb[192+g]))
	}
	for j := range 2 {
		l1, l2, h := ql[64*j:64*j+32], ql[64*j+32:64*j+64], qh[32*j:32*j+32]
		for i := range 32 {
			s.q[128*j+i] = int8(l1[i]&0x0f | h[i]&3<<4)
			s.q[128*j+32+i] = int8(l2[i]&0x0f | h[i]>>2&3<<4)
			s.q[128*j+64+i] = int8(l1[i]>>4 | h[i]>>4&3<<4)
			s.q[128*j+96+i] = int8(l2[i]>>4 | h[i]>>6<<4)
		}
	}
	sums := kLanes(&s.q, &s.sc, a.q)
	for l := range sums {
		sums[l] -= (int32(a.bsums[2*l])*s.sc[2*l] + int32(a.bsums[2*l+1])*s.sc[2*l+1]) << 5
	}
	accumulate(&acc.lanes, d, &sums)
}

// DotIQ4_XSQ8_K returns the dot product of nblocks IQ4_XS super-blocks w
// with nblocks Q8_K blocks x, as ggml_vec_dot_iq4_xs_q8_K on AVX2 (values
// kvaluesIQ4NL, a 6-bit scale - 32 per 32 values).
func DotIQ4_XSQ8_K(w, x []byte, nblocks int) float32 { return dotK(kIQ4_XS, w, x, nblocks) }

func stepIQ4_XS(s *kScratch, acc *kAcc, wb []byte, a *q8K) {
	d := float32(f16(wb[0:]) * a.d)
	sh := binary.LittleEndian.Uint16(wb[2:])
	for ib := range 8 {
		ls := int32(wb[4+ib/2]>>(4*(ib%2))&0x0f|byte(sh>>(2*ib)&3)<<4) - 32
		s.sc[2*ib], s.sc[2*ib+1] = ls, ls
		for j, v := range wb[8+16*ib : 8+16*ib+16] {
			s.q[32*ib+j], s.q[32*ib+16+j] = kvaluesIQ4NL[v&0x0f], kvaluesIQ4NL[v>>4]
		}
	}
	sums := kLanes(&s.q, &s.sc, a.q)
	accumulate(&acc.lanes, d, &sums)
}
