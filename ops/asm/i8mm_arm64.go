//go:build !purego

package asm

import (
	"github.com/klauspost/cpuid/v2"

	"github.com/q3m/q3m/quant"
)

// SMMLA is in the int8 matrix multiply extension (FEAT_I8MM: Apple M2 and
// later, Cortex-A510/A710/X2 and later; not the Pi 5's Cortex-A76); the
// kernel's single-row form uses SDOT.
var useI8MM = useDotProd && cpuid.CPU.Supports(cpuid.I8MM)

// NEONI8MM is the arm64 kernel for CPUs with SDOT and SMMLA.
var NEONI8MM = newNEONI8MM()

// newNEONI8MM returns the "neon-i8mm" kernel: neon-dotprod with Q8_0 and
// Q4_0 products in every form (one, two, four and eight activation rows)
// following dotQ8_0Chains and dotQ4_0Q8_0Chains, the multi-row forms with
// SMMLA (i8mm_arm64.s).
func newNEONI8MM() *Kernel {
	own := make(map[quant.Type]Dots)
	for t := range NEONDotProd.own {
		own[t] = NEONDotProd.dots[t]
	}
	own[quant.Q8_0] = Dots{X1: dotQ8_0I8MM, X2: dotQ8_0x2I8MM, X4: dotQ8_0x4I8MM, X8: dotQ8_0x8I8MM}
	own[quant.Q4_0] = Dots{X1: dotQ4_0Q8_0I8MM, X2: dotQ4_0Q8_0x2I8MM, X4: dotQ4_0Q8_0x4I8MM, X8: dotQ4_0Q8_0x8I8MM}
	return newKernel("neon-i8mm", dotNEON, own)
}

//go:noescape
func q8_0I8MM(w, x *byte, nblocks int) float32

//go:noescape
func q4_0Q8_0I8MM(w, x *byte, nblocks int) float32

//go:noescape
func q8_0x2I8MM(w, x0, x1 *byte, nblocks int, out *[2]float32)

//go:noescape
func q4_0Q8_0x2I8MM(w, x0, x1 *byte, nblocks int, out *[2]float32)

//go:noescape
func q8_0x4I8MM(w, x0, x1, x2, x3 *byte, nblocks int, out *[4]float32)

//go:noescape
func q4_0Q8_0x4I8MM(w, x0, x1, x2, x3 *byte, nblocks int, out *[4]float32)

//go:noescape
func q8_0x8I8MM(w, x *byte, stride, nblocks int, out *[8]float32)

//go:noescape
func q4_0Q8_0x8I8MM(w, x *byte, stride, nblocks int, out *[8]float32)

func dotQ8_0I8MM(w, x []byte, nblocks int) float32 {
	return quantized(q8_0I8MM, w, x, nblocks, Q8_0Bytes)
}

func dotQ4_0Q8_0I8MM(w, x []byte, nblocks int) float32 {
	return quantized(q4_0Q8_0I8MM, w, x, nblocks, Q4_0Bytes)
}

func dotQ8_0x2I8MM(w, x0, x1 []byte, n int, out *[2]float32) {
	quantizedX2(q8_0x2I8MM, w, x0, x1, n, Q8_0Bytes, out)
}

func dotQ4_0Q8_0x2I8MM(w, x0, x1 []byte, n int, out *[2]float32) {
	quantizedX2(q4_0Q8_0x2I8MM, w, x0, x1, n, Q4_0Bytes, out)
}

func dotQ8_0x4I8MM(w, x0, x1, x2, x3 []byte, n int, out *[4]float32) {
	quantizedX4(q8_0x4I8MM, w, x0, x1, x2, x3, n, Q8_0Bytes, out)
}

func dotQ4_0Q8_0x4I8MM(w, x0, x1, x2, x3 []byte, n int, out *[4]float32) {
	quantizedX4(q4_0Q8_0x4I8MM, w, x0, x1, x2, x3, n, Q4_0Bytes, out)
}

func dotQ8_0x8I8MM(w, x []byte, stride, nblocks int, out *[8]float32) {
	quantizedX8(q8_0x8I8MM, w, x, stride, nblocks, Q8_0Bytes, out)
}

func dotQ4_0Q8_0x8I8MM(w, x []byte, stride, nblocks int, out *[8]float32) {
	quantizedX8(q4_0Q8_0x8I8MM, w, x, stride, nblocks, Q4_0Bytes, out)
}

// quantizedX8 runs f on nblocks weight blocks of wsize bytes at w and the
// eight activation rows stride bytes apart at x, after cutting w and x to
// what f reads, so that a short slice or a negative stride panics as in
// the generic kernel instead of f reading past them.
func quantizedX8(f func(w, x *byte, stride, n int, out *[8]float32), w, x []byte, stride, nblocks, wsize int, out *[8]float32) {
	if stride < 0 {
		panic("asm: negative stride")
	}
	w, x = w[:nblocks*wsize], x[:7*stride+nblocks*Q8_0Bytes]
	if nblocks == 0 {
		*out = [8]float32{}
		return
	}
	f(&w[0], &x[0], stride, nblocks, out)
}
