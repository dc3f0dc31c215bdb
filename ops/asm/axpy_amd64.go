//go:build !purego

package asm

//go:noescape
func addScaledAVX2(dst *float32, a float32, x *float32, n int)

// addScaledArch does the first len(dst)&^7 values with VMULPS and VADDPS
// and returns how many it did.
func addScaledArch(dst []float32, a float32, x []float32) int {
	n := len(dst) &^ 7
	if !useAVX2 || n == 0 {
		return 0
	}
	addScaledAVX2(&dst[0], a, &x[0], n)
	return n
}
