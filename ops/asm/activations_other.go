//go:build purego || !amd64

package asm

// quantizeQ8_KArch does nothing: QuantizeQ8_K does every block in Go.
func quantizeQ8_KArch(dst []byte, x []float32) int { return 0 }

// quantizeQ8_0Arch does nothing: QuantizeQ8_0 does every block in Go.
func quantizeQ8_0Arch(dst []byte, x []float32) int { return 0 }

// q8_0TailGroup: no eight-row form reads a tail here.
const q8_0TailGroup = 0

// group8Arch does nothing: Group8 writes every group in Go.
func group8Arch(dst, src []byte, stride, nblocks int) bool { return false }
