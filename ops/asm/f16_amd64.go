//go:build !purego

package asm

//go:noescape
func f16ToF32AVX2(dst *float32, src *byte, n int)

// f16ToF32Arch converts the first len(dst)&^7 values with VCVTPH2PS (F16C)
// and returns how many it converted.
func f16ToF32Arch(dst []float32, src []byte) int {
	n := len(dst) &^ 7
	if !useAVX2 || n == 0 {
		return 0
	}
	f16ToF32AVX2(&dst[0], &src[0], n)
	return n
}

//go:noescape
func f16ToF32TAVX2(dst *float32, ld int, src *byte, stride, rows, cols int)

// f16ToF32TArch converts and transposes the first rows&^7 rows, eight rows
// by eight values per step, when cols is a multiple of 8, and returns how
// many rows it converted.
func f16ToF32TArch(dst []float32, ld int, src []byte, stride, rows, cols int) int {
	n := rows &^ 7
	if !useAVX2 || n == 0 || cols%8 != 0 {
		return 0
	}
	f16ToF32TAVX2(&dst[0], ld, &src[0], stride, n, cols)
	return n
}
