//go:build purego || !amd64

package asm

// f16ToF32Arch converts nothing: F16ToF32 converts every value in Go.
func f16ToF32Arch(dst []float32, src []byte) int { return 0 }

// f16ToF32TArch converts nothing: F16ToF32T converts every value in Go.
func f16ToF32TArch(dst []float32, ld int, src []byte, stride, rows, cols int) int { return 0 }
