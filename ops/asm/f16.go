package asm

import (
	"encoding/binary"

	"github.com/x448/float16"
)

// F16ToF32 sets dst[i] to the little-endian fp16 value at src[2i:], for
// every i < len(dst): what quant.Dequantize gives for F16, bit for bit
// (NaN payloads aside). It panics if src is shorter than 2·len(dst) bytes.
// Attention reads an f16 KV cache through it.
func F16ToF32(dst []float32, src []byte) {
	src = src[:2*len(dst)]
	n := f16ToF32Arch(dst, src)
	for i := n; i < len(dst); i++ {
		dst[i] = float16.Frombits(binary.LittleEndian.Uint16(src[2*i:])).Float32()
	}
}
