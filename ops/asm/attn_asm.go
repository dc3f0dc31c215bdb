//go:build !purego && (amd64 || arm64)

package asm

// attnScoresTiles and attnValuesTiles are attn_amd64.s's AVX2 and
// attn_arm64.s's NEON tiles: four rows of sixteen per step.

//go:noescape
func attnScoresTiles(s, q, kt *float32, rows, cols, hd int)

//go:noescape
func attnValuesTiles(acc, alpha, p *float32, ldp int, v *float32, ldv, rows, keys, hd int)

// attnScoresArch computes the first rows&^3 rows of AttnScores, four query
// heads against sixteen keys per step, when cols is a multiple of 16, and
// returns how many rows it computed.
func attnScoresArch(s, q, kt []float32, rows, cols, hd int) int {
	n := rows &^ 3
	if !attnTiles || n == 0 || cols%16 != 0 {
		return 0
	}
	attnScoresTiles(&s[0], &q[0], &kt[0], n, cols, hd)
	return n
}

// attnValuesArch computes the first rows&^3 rows of AttnValues, four rows
// of sixteen values per step, when hd is a multiple of 16, and returns how
// many rows it computed.
func attnValuesArch(acc, alpha, p []float32, ldp int, v []float32, ldv, rows, keys, hd int) int {
	n := rows &^ 3
	if !attnTiles || n == 0 || hd%16 != 0 {
		return 0
	}
	pp, vp := &alpha[0], &alpha[0] // not read when keys is 0
	if keys > 0 {
		pp, vp = &p[0], &v[0]
	}
	attnValuesTiles(&acc[0], &alpha[0], pp, ldp, vp, ldv, n, keys, hd)
	return n
}
