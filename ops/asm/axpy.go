package asm

// AddScaled sets dst[i] += a·x[i] for i < len(dst), the product rounded to
// float32 before the addition (no fused multiply-add), as ops.AddScaled
// does. It panics if x is shorter than dst. Attention accumulates its
// values through it.
func AddScaled(dst []float32, a float32, x []float32) {
	x = x[:len(dst)]
	for i := addScaledArch(dst, a, x); i < len(dst); i++ {
		dst[i] += float32(a * x[i])
	}
}
