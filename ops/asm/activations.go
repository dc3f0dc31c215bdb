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
// llama.cpp agree token for token on the same file.
func QuantizeQ8_0(dst []byte, x []float32) {
	for b := 0; b < len(x)/QK; b++ {
		v := (*[QK]float32)(x[b*QK:])
		out := (*[Q8_0Bytes]byte)(dst[b*Q8_0Bytes:])
		var amax float32
		for _, f := range v {
			amax = max(amax, math.Float32frombits(math.Float32bits(f)&^(1<<31)))
		}
		var id float32
		if amax != 0 {
			id = 127 / amax
		}
		binary.LittleEndian.PutUint16(out[:], quant.ToF16(amax/127))
		for j, f := range v {
			out[2+j] = byte(roundHalfEven(f * id))
		}
	}
}

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
