//go:build purego || !amd64

package asm

// swiGLUArch does nothing: SwiGLU does every value in Go.
func swiGLUArch(dst, gate, up []float32) int { return 0 }

// expSubArch does nothing: ExpSub does every value in Go.
func expSubArch(dst, x []float32, m float32) int { return 0 }
