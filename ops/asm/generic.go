package asm

import (
	"encoding/binary"
	"math"

	"github.com/x448/float16"
)

// Block geometry of the quantized types the kernels read.
const (
	QK        = 32 // values per Q8_0 or Q4_0 block
	Q8_0Bytes = 34 // fp16 scale + 32 int8
	Q4_0Bytes = 18 // fp16 scale + 16 bytes of nibbles
)

func f16(b []byte) float32 {
	return float16.Frombits(binary.LittleEndian.Uint16(b)).Float32()
}

// DotQ8_0 returns the dot product of nblocks Q8_0 blocks of weights w with
// nblocks Q8_0 blocks of activations x, as ggml_vec_dot_q8_0_q8_0 does:
// sum += float32(isum) * (dw*dx) per block.
func DotQ8_0(w, x []byte, nblocks int) float32 {
	w = w[:nblocks*Q8_0Bytes]
	x = x[:nblocks*Q8_0Bytes]
	var sum float32
	for b := 0; b < nblocks; b++ {
		wb := (*[Q8_0Bytes]byte)(w[b*Q8_0Bytes:])
		xb := (*[Q8_0Bytes]byte)(x[b*Q8_0Bytes:])
		var isum int32
		for j := 2; j < Q8_0Bytes; j += 4 {
			isum += int32(int8(wb[j]))*int32(int8(xb[j])) +
				int32(int8(wb[j+1]))*int32(int8(xb[j+1])) +
				int32(int8(wb[j+2]))*int32(int8(xb[j+2])) +
				int32(int8(wb[j+3]))*int32(int8(xb[j+3]))
		}
		d := float32(f16(wb[:]) * f16(xb[:]))
		sum += float32(float32(isum) * d)
	}
	return sum
}

// DotQ4_0Q8_0 returns the dot product of nblocks Q4_0 blocks of weights w
// with nblocks Q8_0 blocks of activations x, as ggml_vec_dot_q4_0_q8_0 does:
// sum += float32(isum) * dw * dx per block (left to right).
func DotQ4_0Q8_0(w, x []byte, nblocks int) float32 {
	w = w[:nblocks*Q4_0Bytes]
	x = x[:nblocks*Q8_0Bytes]
	var sum float32
	for b := 0; b < nblocks; b++ {
		wb := (*[Q4_0Bytes]byte)(w[b*Q4_0Bytes:])
		xb := (*[Q8_0Bytes]byte)(x[b*Q8_0Bytes:])
		var isum int32
		for j := 0; j < QK/2; j++ {
			q := wb[2+j]
			isum += (int32(q&0x0f)-8)*int32(int8(xb[2+j])) + (int32(q>>4)-8)*int32(int8(xb[2+QK/2+j]))
		}
		sum += float32(float32(float32(isum)*f16(wb[:])) * f16(xb[:]))
	}
	return sum
}

// DotF32 returns the float32 dot product of the little-endian float32 row w
// with x, over len(x) values. It keeps four partial sums, added pairwise at
// the end.
func DotF32(w []byte, x []float32) float32 {
	w = w[:4*len(x)]
	var s0, s1, s2, s3 float32
	n := len(x) &^ 3
	for i := 0; i < n; i += 4 {
		s0 += float32(math.Float32frombits(binary.LittleEndian.Uint32(w[4*i:])) * x[i])
		s1 += float32(math.Float32frombits(binary.LittleEndian.Uint32(w[4*i+4:])) * x[i+1])
		s2 += float32(math.Float32frombits(binary.LittleEndian.Uint32(w[4*i+8:])) * x[i+2])
		s3 += float32(math.Float32frombits(binary.LittleEndian.Uint32(w[4*i+12:])) * x[i+3])
	}
	for i := n; i < len(x); i++ {
		s0 += float32(math.Float32frombits(binary.LittleEndian.Uint32(w[4*i:])) * x[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// DotF16F32 is DotF32 for a row of IEEE half-precision weights.
func DotF16F32(w []byte, x []float32) float32 {
	w = w[:2*len(x)]
	var s0, s1, s2, s3 float32
	n := len(x) &^ 3
	for i := 0; i < n; i += 4 {
		s0 += float32(f16(w[2*i:]) * x[i])
		s1 += float32(f16(w[2*i+2:]) * x[i+1])
		s2 += float32(f16(w[2*i+4:]) * x[i+2])
		s3 += float32(f16(w[2*i+6:]) * x[i+3])
	}
	for i := n; i < len(x); i++ {
		s0 += float32(f16(w[2*i:]) * x[i])
	}
	return (s0 + s1) + (s2 + s3)
}

func bf16(b []byte) float32 {
	return math.Float32frombits(uint32(binary.LittleEndian.Uint16(b)) << 16)
}

// DotBF16F32 is DotF32 for a row of bfloat16 weights.
func DotBF16F32(w []byte, x []float32) float32 {
	w = w[:2*len(x)]
	var s0, s1, s2, s3 float32
	n := len(x) &^ 3
	for i := 0; i < n; i += 4 {
		s0 += float32(bf16(w[2*i:]) * x[i])
		s1 += float32(bf16(w[2*i+2:]) * x[i+1])
		s2 += float32(bf16(w[2*i+4:]) * x[i+2])
		s3 += float32(bf16(w[2*i+6:]) * x[i+3])
	}
	for i := n; i < len(x); i++ {
		s0 += float32(bf16(w[2*i:]) * x[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// Dot returns the float32 dot product of a and b over len(a) values, with
// the same four-way summation as DotF32.
func Dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	n := len(a) &^ 3
	for i := 0; i < n; i += 4 {
		s0 += float32(a[i] * b[i])
		s1 += float32(a[i+1] * b[i+1])
		s2 += float32(a[i+2] * b[i+2])
		s3 += float32(a[i+3] * b[i+3])
	}
	for i := n; i < len(a); i++ {
		s0 += float32(a[i] * b[i])
	}
	return (s0 + s1) + (s2 + s3)
}
