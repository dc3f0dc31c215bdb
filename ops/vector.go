package ops

import (
	"math"

	"github.com/q3m/q3m/ops/asm"
)

// QuantizeQ8_0 encodes the activation row x (a multiple of 32 values) as
// Q8_0 blocks into dst, as asm.QuantizeQ8_0 (llama.cpp's x86
// quantize_row_q8_0).
func QuantizeQ8_0(dst []byte, x []float32) { asm.QuantizeQ8_0(dst, x) }

// RMSNorm sets dst = x · 1/sqrt(mean(x²) + eps) · w, in float32 with the
// sum of squares accumulated in float64. dst may alias x.
func RMSNorm(dst, x, w []float32, eps float32) {
	var ss float64
	for _, v := range x {
		ss += float64(v) * float64(v)
	}
	scale := float32(1 / math.Sqrt(ss/float64(len(x))+float64(eps)))
	w = w[:len(x)]
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] = float32(v*scale) * w[i]
	}
}

// Softmax replaces x with exp(x - max x) / Σ exp(x - max x), in float32
// with exp in float32 as llama.cpp's soft_max computes it (asm.ExpSub,
// within one ulp of math.Exp) and the sum accumulated in float64.
func Softmax(x []float32) {
	if len(x) == 0 {
		return
	}
	mx := x[0]
	for _, v := range x[1:] {
		mx = max(mx, v)
	}
	asm.ExpSub(x, x, mx)
	var sum float64
	for _, e := range x {
		sum += float64(e)
	}
	inv := float32(1 / sum)
	for i := range x {
		x[i] *= inv
	}
}

// SiLU returns x·sigmoid(x) = x/(1+e^-x), in float32 with e^-x from
// asm.Exp32 (within one ulp), as SwiGLU computes it.
func SiLU(x float32) float32 {
	return x / float32(1+asm.Exp32(-x))
}

// SwiGLU sets dst[i] = SiLU(gate[i]) · up[i], bit for bit, with SIMD where
// the CPU has it (asm.SwiGLU). dst may alias gate or up.
func SwiGLU(dst, gate, up []float32) { asm.SwiGLU(dst, gate, up) }

// Add sets dst[i] += x[i].
func Add(dst, x []float32) {
	x = x[:len(dst)]
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		d, s := (*[8]float32)(dst[i:]), (*[8]float32)(x[i:])
		d[0] += s[0]
		d[1] += s[1]
		d[2] += s[2]
		d[3] += s[3]
		d[4] += s[4]
		d[5] += s[5]
		d[6] += s[6]
		d[7] += s[7]
	}
	for ; i < len(dst); i++ {
		dst[i] += x[i]
	}
}

// AddScaled sets dst[i] += a·x[i] (the product rounded to float32 first).
func AddScaled(dst []float32, a float32, x []float32) {
	x = x[:len(dst)]
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		d, s := (*[8]float32)(dst[i:]), (*[8]float32)(x[i:])
		d[0] += float32(a * s[0])
		d[1] += float32(a * s[1])
		d[2] += float32(a * s[2])
		d[3] += float32(a * s[3])
		d[4] += float32(a * s[4])
		d[5] += float32(a * s[5])
		d[6] += float32(a * s[6])
		d[7] += float32(a * s[7])
	}
	for ; i < len(dst); i++ {
		dst[i] += float32(a * x[i])
	}
}

// Rope rotates each of the heads (consecutive runs of 2·len(cos) values) of
// x by the angles whose cosines and sines are cos and sin, in the "rotate
// half" layout: element j pairs with element j + hd/2.
func Rope(x []float32, heads int, cos, sin []float32) {
	half := len(cos)
	sin = sin[:half]
	for h := range heads {
		a := x[h*2*half : h*2*half+half]
		b := x[h*2*half+half : (h+1)*2*half]
		for j := range half {
			x0, x1 := a[j], b[j]
			a[j] = float32(x0*cos[j]) - float32(x1*sin[j])
			b[j] = float32(x1*cos[j]) + float32(x0*sin[j])
		}
	}
}
