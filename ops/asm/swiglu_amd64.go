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
