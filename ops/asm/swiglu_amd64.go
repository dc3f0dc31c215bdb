//go:build !purego

package asm

//go:noescape
func swiGLUAVX2(dst, gate, up *float32, n int)

// swiGLUArch does the first len(gate)&^7 values with AVX2 and returns how
// many it did: Exp32 vectorizes eight lanes wide, where Go computes one
// value at a time.
func swiGLUArch(dst, gate, up []float32) int {
	n := len(gate) &^ 7
	if !useAVX2 || n == 0 {
		return 0
	}
	swiGLUAVX2(&dst[0], &gate[0], &up[0], n)
	return n
}

//go:noescape
func expSubAVX2(dst, x *float32, m float32, n int)

// expSubArch does the first len(x)&^7 values with AVX2 and returns how
// many it did.
func expSubArch(dst, x []float32, m float32) int {
	n := len(x) &^ 7
	if !useAVX2 || n == 0 {
		return 0
	}
	expSubAVX2(&dst[0], &x[0], m, n)
	return n
}
