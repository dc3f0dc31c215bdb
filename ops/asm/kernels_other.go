//go:build purego || !(amd64 || arm64)

package asm

// archKernels returns no assembly kernels: this build has only the generic
// one.
func archKernels() []*Kernel { return nil }
