//go:build !purego

package asm

// attnValuesTilesF16 is attn_amd64.s's attnValuesTiles reading fp16 values
// with F16C's VCVTPH2PS.
//
//go:noescape
func attnValuesTilesF16(acc, alpha, p *float32, ldp int, v *byte, ldv, rows, keys, hd int)

// attnValuesF16Arch computes the first rows&^3 rows of AttnValuesF16, four
// rows of sixteen values per step, when hd is a multiple of 16, and returns
// how many rows it computed.
func attnValuesF16Arch(acc, alpha, p []float32, ldp int, v []byte, ldv, rows, keys, hd int) int {
	n := rows &^ 3
	if !attnTiles || n == 0 || hd%16 != 0 {
		return 0
	}
	pp, vp := &alpha[0], (*byte)(nil) // neither read when keys is 0
	if keys > 0 {
		pp, vp = &p[0], &v[0]
	}
	attnValuesTilesF16(&acc[0], &alpha[0], pp, ldp, vp, ldv, n, keys, hd)
	return n
}
