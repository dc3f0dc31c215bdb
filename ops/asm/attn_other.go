//go:build purego || !(amd64 || arm64)

package asm

// attnScoresArch does nothing: AttnScores computes every row in Go.
func attnScoresArch(s, q, kt []float32, rows, cols, hd int) int { return 0 }

// attnValuesArch does nothing: AttnValues computes every row in Go.
func attnValuesArch(acc, alpha, p []float32, ldp int, v []float32, ldv, rows, keys, hd int) int {
	return 0
}
