package quant

import (
	"encoding/binary"
	"math"

	"github.com/x448/float16"
)

func putF32(dst []byte, src []float32) {
	for i, v := range src {
		binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(v))
	}
}

func getF32(dst []float32, src []byte) {
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
	}
}

func putF16(dst []byte, src []float32) {
	for i, v := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], ToF16(v))
	}
}

func getF16(dst []float32, src []byte) {
	for i := range dst {
		dst[i] = float16.Frombits(binary.LittleEndian.Uint16(src[2*i:])).Float32()
	}
}

// ToBF16 rounds v to bfloat16 (nearest even), keeping NaNs quiet, as
// ggml_compute_fp32_to_bf16 does.
func ToBF16(v float32) uint16 {
	u := math.Float32bits(v)
	if u&0x7fffffff > 0x7f800000 {
		return uint16(u>>16) | 64
	}
	return uint16((u + (0x7fff + (u>>16)&1)) >> 16)
}

// FromBF16 widens a bfloat16 to float32.
func FromBF16(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// FromF16 widens an IEEE half to float32.
func FromF16(h uint16) float32 { return float16.Frombits(h).Float32() }

// ToF16 rounds v to an IEEE half (nearest even). NaNs become 0x7e00 with
// v's sign, as ggml_compute_fp32_to_fp16 makes them.
func ToF16(v float32) uint16 {
	if v != v {
		return 0x7e00 | uint16(math.Float32bits(v)>>16)&0x8000
	}
	return uint16(float16.Fromfloat32(v))
}

func putBF16(dst []byte, src []float32) {
	for i, v := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], ToBF16(v))
	}
}

func getBF16(dst []float32, src []byte) {
	for i := range dst {
		dst[i] = FromBF16(binary.LittleEndian.Uint16(src[2*i:]))
	}
}

// scaleF16 rounds a block scale to fp16 as ToF16 does, except that every
// NaN becomes 0xfe00. On rows without NaNs a NaN scale can only come from
// arithmetic on infinities, and on x86, where llama-quantize's output is the
// reference, such a NaN is the negative default NaN (ARM's is positive).
func scaleF16(v float32) uint16 {
	if v != v {
		return 0xfe00
	}
	return ToF16(v)
}
