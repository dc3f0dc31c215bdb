//go:build purego || !amd64

package asm

// attnValuesF16Arch computes nothing: AttnValuesF16 converts the values and
// runs AttnValues.
func attnValuesF16Arch(acc, alpha, p []float32, ldp int, v []byte, ldv, rows, keys, hd int) int {
	return 0
}
