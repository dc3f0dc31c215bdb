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

// F16ToF32T converts rows of cols fp16 values, row r at src[r·stride:],
// into dst transposed: dst[c·ld+r] is value c of row r, as F16ToF32 gives
// it. Attention lays a tile of keys out this way for its score kernel. It
// panics if a slice is too short or ld or stride is negative.
func F16ToF32T(dst []float32, ld int, src []byte, stride, rows, cols int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	if ld < 0 || stride < 0 {
		panic("asm: F16ToF32T with a negative ld or stride")
	}
	dst, src = dst[:(cols-1)*ld+rows], src[:(rows-1)*stride+2*cols]
	if n := f16ToF32TArch(dst, ld, src, stride, rows, cols); n < rows {
		f16ToF32TGeneric(dst[n:], ld, src[n*stride:], stride, rows-n, cols)
	}
}

// f16ToF32TGeneric is F16ToF32T in Go, the oracle for the assembly.
func f16ToF32TGeneric(dst []float32, ld int, src []byte, stride, rows, cols int) {
	for r := range rows {
		row := src[r*stride:]
		for c := range cols {
			dst[c*ld+r] = float16.Frombits(binary.LittleEndian.Uint16(row[2*c:])).Float32()
		}
	}
}
