package asm

import (
	"encoding/binary"
	"math"

	"github.com/q3m/q3m/quant"
)

// QuantizeQ8_0 encodes the activation row x (a multiple of 32 values) as
// Q8_0 blocks into dst the way llama.cpp's SIMD quantize_row_q8_0 does on
// x86: d = amax/127 (stored as fp16), q = x·(127/amax) rounded to nearest,
// ties to even. Weights are quantized by package quant with ggml's
// reference rules instead (1/d and ties away from zero); the two differ
// only where x·id lands within an ulp of a half, but a random model
// amplifies such flips, and following llama.cpp here lets q3m and
// llama.cpp agree token for token on the same file. NaN values encode as
// 0 and do not count towards amax.
func QuantizeQ8_0(dst []byte, x []float32) {
	b := quantizeQ8_0Arch(dst, x)
	quantizeQ8_0Generic(dst[b*Q8_0Bytes:], x[b*QK:])
}

// quantizeQ8_0Generic is QuantizeQ8_0 in Go, the oracle for the assembly.
func quantizeQ8_0Generic(dst []byte, x []float32) {
	for b := 0; b < len(x)/QK; b++ {
		v := (*[QK]float32)(x[b*QK:])
		out := (*[Q8_0Bytes]byte)(dst[b*Q8_0Bytes:])
		var amax float32
		for _, f := range v {
			if a := math.Float32frombits(math.Float32bits(f) &^ (1 << 31)); a > amax {
				amax = a
			}
		}
		var id float32
		if amax != 0 {
			id = 127 / amax
		}
		binary.LittleEndian.PutUint16(out[:], quant.ToF16(amax/127))
		for j, f := range v {
			out[2+j] = byte(roundHalfEven(float32(f * id)))
		}
	}
}

// The products passed to roundHalfEven and nearestInt are converted to
// float32 explicitly: Go may otherwise fuse the product with the rounding
// addition inside them into one FMA (it does on arm64), skipping the
// product's own rounding, which llama.cpp's code performs.

// roundHalfEven rounds v to the nearest integer, ties to even, as
// _mm256_round_ps(v, _MM_ROUND_NEAREST) does, clamped to [-127, 127]: adding
// and removing 1.5·2²³ leaves float32 arithmetic no fraction bits, so the
// addition itself rounds. Only NaN (which the comparison sends to 0) and
// values beyond ±127.5, which a block's own scale never produces, are
// clamped.
func roundHalfEven(v float32) int8 {
	const magic = 0x1.8p23
	r := v + magic
	switch {
	case r >= magic-127 && r <= magic+127:
		return int8(r - magic)
	case r > magic:
		return 127
	case r < magic:
		return -127
	}
	return 0
}

// Block geometry of the activation types Q8_1 and Q8_K.
const (
	Q8_1Bytes = 36  // fp16 scale d, fp16 d·Σq, 32 int8
	QKK       = 256 // values per K-quant super-block
	Q8_KBytes = 292 // float32 scale, 256 int8, 16 int16 sums of 16
)

// QuantizeQ8_1 encodes the activation row x (a multiple of 32 values) as
// Q8_1 blocks, as llama.cpp's AVX2 quantize_row_q8_1 does: the values and
// scale of QuantizeQ8_0, and s = fp16(d·Σq) with d = amax/127 before its
// rounding to fp16.
func QuantizeQ8_1(dst []byte, x []float32) {
	for b := 0; b < len(x)/QK; b++ {
		v := (*[QK]float32)(x[b*QK:])
		out := (*[Q8_1Bytes]byte)(dst[b*Q8_1Bytes:])
		var amax float32
		for _, f := range v {
			amax = max(amax, math.Float32frombits(math.Float32bits(f)&^(1<<31)))
		}
		var id float32
		if amax != 0 {
			id = 127 / amax
		}
		d := amax / 127
		var sum int32
		for j, f := range v {
			q := roundHalfEven(float32(f * id))
			out[4+j] = byte(q)
			sum += int32(q)
		}
		binary.LittleEndian.PutUint16(out[0:], quant.ToF16(d))
		binary.LittleEndian.PutUint16(out[2:], quant.ToF16(float32(d*float32(sum))))
	}
}

// QuantizeQ8_K encodes the activation row x (a multiple of 256 values) as
// Q8_K blocks, as llama.cpp's quantize_row_q8_K_ref (which its x86 build
// uses): with max the value of largest magnitude (the first one),
// iscale = -127/max, q = round(iscale·x) ties to even, d = 1/iscale as
// float32, and bsums the sums of each 16 values. An all-zero block gets
// d = 0 and zero sums (llama.cpp leaves its sums unwritten). NaN values
// encode as 0.
func QuantizeQ8_K(dst []byte, x []float32) {
	b := quantizeQ8_KArch(dst, x)
	quantizeQ8_KGeneric(dst[b*Q8_KBytes:], x[b*QKK:])
}

// quantizeQ8_KGeneric is QuantizeQ8_K in Go, the oracle for the assembly.
func quantizeQ8_KGeneric(dst []byte, x []float32) {
	for b := 0; b < len(x)/QKK; b++ {
		v := (*[QKK]float32)(x[b*QKK:])
		out := (*[Q8_KBytes]byte)(dst[b*Q8_KBytes:])
		var amax, mx float32
		for _, f := range v {
			if a := math.Float32frombits(math.Float32bits(f) &^ (1 << 31)); a > amax {
				amax, mx = a, f
			}
		}
		if amax == 0 {
			clear(out[:])
			continue
		}
		iscale := -127 / mx
		for j := 0; j < QKK/16; j++ {
			var sum int16
			for i := 16 * j; i < 16*j+16; i++ {
				q := nearestInt(float32(iscale * v[i]))
				out[4+i] = byte(q)
				sum += int16(q)
			}
			binary.LittleEndian.PutUint16(out[4+QKK+2*j:], uint16(sum))
		}
		binary.LittleEndian.PutUint32(out[0:], math.Float32bits(1/iscale))
	}
}

// nearestInt is ggml's nearest_int for |v| ≤ 127.5 (round to nearest, ties
// to even, through the float32 addition of 1.5·2²³), clamped to
// [-127, 127] with NaN sent to 0; a block's own scale keeps every finite
// value within ±127 so the clamp changes nothing ggml computes.
func nearestInt(v float32) int8 {
	if v != v {
		return 0
	}
	i := int32(math.Float32bits(v+12582912)&0x7fffff) - 0x400000
	return int8(min(127, max(-127, i)))
}

// q8_0TailBytes returns the size of the tail that follows a Q8_0
// activation row of nblocks blocks on CPUs whose multi-row forms read it
// (0 where none does): per whole group of four blocks (q8_0TailGroup
// bytes) their 128 values side by side (the Q8_0 forms' operand), the
// same values plus 128, each byte exclusive-or 0x80 (the Q4_0 forms'
// unsigned operand), and their four fp16 scales as float32. A row's
// blocks past the last whole group have no tail.
func q8_0TailBytes(nblocks int) int { return nblocks / 4 * q8_0TailGroup }

// quantizeQ8_0Row encodes x as QuantizeQ8_0 does, followed by the row's
// tail (q8_0TailBytes).
func quantizeQ8_0Row(dst []byte, x []float32) {
	nb := len(x) / QK
	QuantizeQ8_0(dst[:nb*Q8_0Bytes], x)
	q8_0Tail(dst[:nb*Q8_0Bytes+q8_0TailBytes(nb)], nb)
}

// q8_0Tail writes the tail of the Q8_0 row of nblocks blocks at the start
// of row after them.
func q8_0Tail(row []byte, nblocks int) {
	if q8_0TailGroup == 0 {
		return
	}
	tail := row[nblocks*Q8_0Bytes:]
	for g := range nblocks / 4 {
		grp := tail[g*q8_0TailGroup : (g+1)*q8_0TailGroup]
		for k := range 4 {
			blk := row[(4*g+k)*Q8_0Bytes : (4*g+k+1)*Q8_0Bytes]
			copy(grp[32*k:32*k+32], blk[2:])
			for i := 0; i < 32; i += 8 {
				v := binary.LittleEndian.Uint64(blk[2+i:])
				binary.LittleEndian.PutUint64(grp[128+32*k+i:], v^0x8080808080808080)
			}
			binary.LittleEndian.PutUint32(grp[256+4*k:], f16Bits32(binary.LittleEndian.Uint16(blk)))
		}
	}
}

// f16Bits32 returns the float32 bits of the fp16 h as x86's VCVTPH2PS
// converts it: quant.FromF16's value, and for a NaN its payload kept with
// the quiet bit set.
func f16Bits32(h uint16) uint32 {
	if h&0x7c00 == 0x7c00 && h&0x3ff != 0 {
		return uint32(h&0x8000)<<16 | 0x7fc00000 | uint32(h&0x3ff)<<13
	}
	return math.Float32bits(quant.FromF16(h))
}
