//go:build !purego

package asm

import (
	"unsafe"

	"github.com/klauspost/cpuid/v2"

	"github.com/q3m/q3m/quant"
)

// NEON (ASIMD) is part of every arm64 CPU Go runs on; SDOT is an optional
// extension (ARMv8.2 dot product, "asimddp").
var useDotProd = cpuid.CPU.Supports(cpuid.ASIMDDP)

// attnTiles: the attention tiles (attn_arm64.s) need NEON only.
const attnTiles = true

// NEON is the arm64 kernel.
var NEON = newKernel("neon", dotNEON, map[quant.Type]Dots{
	quant.F32:  {Float: dotF32NEON},
	quant.F16:  {Float: dotF16F32NEON},
	quant.BF16: {Float: dotBF16F32NEON},
	quant.Q8_0: {X1: dotQ8_0NEON, X2: dotQ8_0x2NEON, X4: dotQ8_0x4NEON},
	quant.Q4_0: {X1: dotQ4_0Q8_0NEON, X2: dotQ4_0Q8_0x2NEON, X4: dotQ4_0Q8_0x4NEON},
})

// NEONDotProd is the arm64 kernel for CPUs with SDOT; it differs from NEON
// only in the quantized products.
var NEONDotProd = newKernel("neon-dotprod", dotNEON, map[quant.Type]Dots{
	quant.F32:    {Float: dotF32NEON},
	quant.F16:    {Float: dotF16F32NEON},
	quant.BF16:   {Float: dotBF16F32NEON},
	quant.Q8_0:   {X1: dotQ8_0DotProd, X2: dotQ8_0x2DotProd, X4: dotQ8_0x4DotProd},
	quant.Q4_0:   {X1: dotQ4_0Q8_0DotProd, X2: dotQ4_0Q8_0x2DotProd, X4: dotQ4_0Q8_0x4DotProd},
	quant.Q4_1:   {X1: dotQ4_1Q8_1DotProd},
	quant.Q5_0:   {X1: dotQ5_0Q8_0DotProd},
	quant.Q5_1:   {X1: dotQ5_1Q8_1DotProd},
	quant.IQ4_NL: {X1: dotIQ4_NLQ8_0DotProd},
	quant.Q2_K:   {X1: dotQ2_KDotProd, X2: dotQ2_Kx2DotProd, X4: dotQ2_Kx4DotProd},
	quant.Q3_K:   {X1: dotQ3_KDotProd, X2: dotQ3_Kx2DotProd, X4: dotQ3_Kx4DotProd},
	quant.Q4_K:   {X1: dotQ4_KDotProd, X2: dotQ4_Kx2DotProd, X4: dotQ4_Kx4DotProd},
	quant.Q5_K:   {X1: dotQ5_KDotProd, X2: dotQ5_Kx2DotProd, X4: dotQ5_Kx4DotProd},
	quant.Q6_K:   {X1: dotQ6_KDotProd, X2: dotQ6_Kx2DotProd, X4: dotQ6_Kx4DotProd},
	quant.IQ4_XS: {X1: dotIQ4_XSDotProd, X2: dotIQ4_XSx2DotProd, X4: dotIQ4_XSx4DotProd},
})

func archKernels() []*Kernel {
	if useI8MM {
		return []*Kernel{NEON, NEONDotProd, NEONI8MM}
	}
	if useDotProd {
		return []*Kernel{NEON, NEONDotProd}
	}
	return []*Kernel{NEON}
}

// The assembly routines take raw pointers; the Go wrappers below check the
// lengths first, so that a short slice panics as in the generic kernel
// instead of reading past it.

//go:noescape
func q8_0NEON(w, x *byte, nblocks int) float32

//go:noescape
func q4_0Q8_0NEON(w, x *byte, nblocks int) float32

//go:noescape
func q8_0DotProd(w, x *byte, nblocks int) float32

//go:noescape
func q4_0Q8_0DotProd(w, x *byte, nblocks int) float32

// The four- and two-row routines set out[i] to the single-row routine's result for
// w and xi.

//go:noescape
func q8_0x4NEON(w, x0, x1, x2, x3 *byte, nblocks int, out *[4]float32)

//go:noescape
func q4_0Q8_0x4NEON(w, x0, x1, x2, x3 *byte, nblocks int, out *[4]float32)

//go:noescape
func q8_0x4DotProd(w, x0, x1, x2, x3 *byte, nblocks int, out *[4]float32)

//go:noescape
func q4_0Q8_0x4DotProd(w, x0, x1, x2, x3 *byte, nblocks int, out *[4]float32)

//go:noescape
func q8_0x2NEON(w, x0, x1 *byte, nblocks int, out *[2]float32)

//go:noescape
func q4_0Q8_0x2NEON(w, x0, x1 *byte, nblocks int, out *[2]float32)

//go:noescape
func q8_0x2DotProd(w, x0, x1 *byte, nblocks int, out *[2]float32)

//go:noescape
func q4_0Q8_0x2DotProd(w, x0, x1 *byte, nblocks int, out *[2]float32)

// f32NEON, f16NEON and bf16NEON return the dot product of the first n&^15
// weights at w with the floats at x.

//go:noescape
func f32NEON(w unsafe.Pointer, x *float32, n int) float32

//go:noescape
func f16NEON(w *byte, x *float32, n int) float32

//go:noescape
func bf16NEON(w *byte, x *float32, n int) float32

func quantized(f func(w, x *byte, n int) float32, w, x []byte, nblocks, wsize int) float32 {
	w, x = w[:nblocks*wsize], x[:nblocks*Q8_0Bytes]
	if nblocks == 0 {
		return 0
	}
	return f(&w[0], &x[0], nblocks)
}

func quantizedX4(f func(w, x0, x1, x2, x3 *byte, n int, out *[4]float32), w, x0, x1, x2, x3 []byte, nblocks, wsize int, out *[4]float32) {
	n := nblocks * Q8_0Bytes
	w, x0, x1, x2, x3 = w[:nblocks*wsize], x0[:n], x1[:n], x2[:n], x3[:n]
	if nblocks == 0 {
		*out = [4]float32{}
		return
	}
	f(&w[0], &x0[0], &x1[0], &x2[0], &x3[0], nblocks, out)
}

func quantizedX2(f func(w, x0, x1 *byte, n int, out *[2]float32), w, x0, x1 []byte, nblocks, wsize int, out *[2]float32) {
	n := nblocks * Q8_0Bytes
	w, x0, x1 = w[:nblocks*wsize], x0[:n], x1[:n]
	if nblocks == 0 {
		*out = [2]float32{}
		return
	}
	f(&w[0], &x0[0], &x1[0], nblocks, out)
}

func dotQ8_0x4NEON(w, x0, x1, x2, x3 []byte, n int, out *[4]float32) {
	quantizedX4(q8_0x4NEON, w, x0, x1, x2, x3, n, Q8_0Bytes, out)
}

func dotQ4_0Q8_0x4NEON(w, x0, x1, x2, x3 []byte, n int, out *[4]float32) {
	quantizedX4(q4_0Q8_0x4NEON, w, x0, x1, x2, x3, n, Q4_0Bytes, out)
}

func dotQ8_0x2NEON(w, x0, x1 []byte, n int, out *[2]float32) {
	quantizedX2(q8_0x2NEON, w, x0, x1, n, Q8_0Bytes, out)
}

func dotQ4_0Q8_0x2NEON(w, x0, x1 []byte, n int, out *[2]float32) {
	quantizedX2(q4_0Q8_0x2NEON, w, x0, x1, n, Q4_0Bytes, out)
}

func dotQ8_0x4DotProd(w, x0, x1, x2, x3 []byte, n int, out *[4]float32) {
	quantizedX4(q8_0x4DotProd, w, x0, x1, x2, x3, n, Q8_0Bytes, out)
}

func dotQ4_0Q8_0x4DotProd(w, x0, x1, x2, x3 []byte, n int, out *[4]float32) {
	quantizedX4(q4_0Q8_0x4DotProd, w, x0, x1, x2, x3, n, Q4_0Bytes, out)
}

func dotQ8_0x2DotProd(w, x0, x1 []byte, n int, out *[2]float32) {
	quantizedX2(q8_0x2DotProd, w, x0, x1, n, Q8_0Bytes, out)
}

func dotQ4_0Q8_0x2DotProd(w, x0, x1 []byte, n int, out *[2]float32) {
	quantizedX2(q4_0Q8_0x2DotProd, w, x0, x1, n, Q4_0Bytes, out)
}

func dotQ8_0NEON(w, x []byte, nblocks int) float32 {
	return quantized(q8_0NEON, w, x, nblocks, Q8_0Bytes)
}

func dotQ4_0Q8_0NEON(w, x []byte, nblocks int) float32 {
	return quantized(q4_0Q8_0NEON, w, x, nblocks, Q4_0Bytes)
}

func dotQ8_0DotProd(w, x []byte, nblocks int) float32 {
	return quantized(q8_0DotProd, w, x, nblocks, Q8_0Bytes)
}

func dotQ4_0Q8_0DotProd(w, x []byte, nblocks int) float32 {
	return quantized(q4_0Q8_0DotProd, w, x, nblocks, Q4_0Bytes)
}

func dotF32NEON(w []byte, x []float32) float32 {
	w = w[:4*len(x)]
	n := len(x) &^ 15
	var s float32
	if n > 0 {
		s = f32NEON(unsafe.Pointer(&w[0]), &x[0], n)
	}
	return s + DotF32(w[4*n:], x[n:])
}

func dotNEON(a, b []float32) float32 {
	b = b[:len(a)]
	n := len(a) &^ 15
	var s float32
	if n > 0 {
		s = f32NEON(unsafe.Pointer(&a[0]), &b[0], n)
	}
	return s + Dot(a[n:], b[n:])
}

func dotF16F32NEON(w []byte, x []float32) float32 {
	w = w[:2*len(x)]
	n := len(x) &^ 15
	var s float32
	if n > 0 {
		s = f16NEON(&w[0], &x[0], n)
	}
	return s + DotF16F32(w[2*n:], x[n:])
}

func dotBF16F32NEON(w []byte, x []float32) float32 {
	w = w[:2*len(x)]
	n := len(x) &^ 15
	var s float32
	if n > 0 {
		s = bf16NEON(&w[0], &x[0], n)
	}
	return s + DotBF16F32(w[2*n:], x[n:])
}

// q4_KDotProd sets acc[0:8] to the float32 lanes of ggml's AVX2 Q4_K loop
// and acc[8:12] to those of its minimums, for nblocks ≥ 1.
//
//go:noescape
func q4_KDotProd(w, x *byte, nblocks int, acc *[12]float32)

func dotQ4_KDotProd(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*Q4_KBytes], x[:nblocks*Q8_KBytes]
	if nblocks == 0 {
		return 0
	}
	var acc [12]float32
	q4_KDotProd(&w[0], &x[0], nblocks, &acc)
	return hsum8((*[8]float32)(acc[:8])) + hsum4((*[4]float32)(acc[8:]))
}

// q6_KDotProd sets acc to the float32 lanes of ggml's AVX2 Q6_K loop, for
// nblocks ≥ 1.
//
//go:noescape
func q6_KDotProd(w, x *byte, nblocks int, acc *[8]float32)

func dotQ6_KDotProd(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*Q6_KBytes], x[:nblocks*Q8_KBytes]
	if nblocks == 0 {
		return 0
	}
	var acc [8]float32
	q6_KDotProd(&w[0], &x[0], nblocks, &acc)
	return hsum8(&acc)
}

// q5_KDotProd sets acc[0:8] to the float32 lanes of ggml's AVX2 Q5_K loop
// and acc[8] to its sum of the minimums, for nblocks ≥ 1.
//
//go:noescape
func q5_KDotProd(w, x *byte, nblocks int, acc *[9]float32)

func dotQ5_KDotProd(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*Q5_KBytes], x[:nblocks*Q8_KBytes]
	if nblocks == 0 {
		return 0
	}
	var acc [9]float32
	q5_KDotProd(&w[0], &x[0], nblocks, &acc)
	return hsum8((*[8]float32)(acc[:8])) + acc[8]
}

// iq4_XSDotProd sets acc to the float32 lanes of ggml's AVX2 IQ4_XS loop,
// for nblocks ≥ 1.
//
//go:noescape
func iq4_XSDotProd(w, x *byte, nblocks int, acc *[8]float32)

func dotIQ4_XSDotProd(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*IQ4_XSBytes], x[:nblocks*Q8_KBytes]
	if nblocks == 0 {
		return 0
	}
	var acc [8]float32
	iq4_XSDotProd(&w[0], &x[0], nblocks, &acc)
	return hsum8(&acc)
}

// q2_KDotProd and q3_KDotProd set acc to the float32 lanes of ggml's AVX2
// loops for their types, for nblocks ≥ 1.

//go:noescape
func q2_KDotProd(w, x *byte, nblocks int, acc *[8]float32)

//go:noescape
func q3_KDotProd(w, x *byte, nblocks int, acc *[8]float32)

func dotQ2_KDotProd(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*Q2_KBytes], x[:nblocks*Q8_KBytes]
	if nblocks == 0 {
		return 0
	}
	var acc [8]float32
	q2_KDotProd(&w[0], &x[0], nblocks, &acc)
	return hsum8(&acc)
}

func dotQ3_KDotProd(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*Q3_KBytes], x[:nblocks*Q8_KBytes]
	if nblocks == 0 {
		return 0
	}
	var acc [8]float32
	q3_KDotProd(&w[0], &x[0], nblocks, &acc)
	return hsum8(&acc)
}

// q4_1DotProd and q5_1DotProd set acc[0:8] to the float32 lanes of ggml's
// AVX2 loops and acc[8] to their Σ m·s; q5_0DotProd sets acc to its
// lanes; iq4_NLDotProd sets acc[0:8] and acc[8:16] to the lanes of the
// even and odd blocks of npairs pairs. All need at least one block (pair).

//go:noescape
func q4_1DotProd(w, x *byte, nblocks int, acc *[9]float32)

//go:noescape
func q5_1DotProd(w, x *byte, nblocks int, acc *[9]float32)

//go:noescape
func q5_0DotProd(w, x *byte, nblocks int, acc *[8]float32)

//go:noescape
func iq4_NLDotProd(w, x *byte, npairs int, acc *[16]float32)

func dotQ4_1Q8_1DotProd(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*Q4_1Bytes], x[:nblocks*Q8_1Bytes]
	if nblocks == 0 {
		return 0
	}
	var acc [9]float32
	q4_1DotProd(&w[0], &x[0], nblocks, &acc)
	return hsum8((*[8]float32)(acc[:8])) + acc[8]
}

func dotQ5_1Q8_1DotProd(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*Q5_1Bytes], x[:nblocks*Q8_1Bytes]
	if nblocks == 0 {
		return 0
	}
	var acc [9]float32
	q5_1DotProd(&w[0], &x[0], nblocks, &acc)
	return hsum8((*[8]float32)(acc[:8])) + acc[8]
}

func dotQ5_0Q8_0DotProd(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*Q5_0Bytes], x[:nblocks*Q8_0Bytes]
	if nblocks == 0 {
		return 0
	}
	var acc [8]float32
	q5_0DotProd(&w[0], &x[0], nblocks, &acc)
	return hsum8(&acc)
}

// dotIQ4_NLQ8_0DotProd runs the assembly over whole pairs of blocks and
// adds a last odd block as ggml does.
func dotIQ4_NLQ8_0DotProd(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*IQ4_NLBytes], x[:nblocks*Q8_0Bytes]
	var sum float32
	if p := nblocks / 2; p > 0 {
		var acc [16]float32
		iq4_NLDotProd(&w[0], &x[0], p, &acc)
		var both [8]float32
		for l := range both {
			both[l] = acc[l] + acc[8+l]
		}
		sum = hsum8(&both)
	}
	if nblocks%2 == 1 {
		b := nblocks - 1
		sum = iq4NLTail(w[b*IQ4_NLBytes:], x[b*Q8_0Bytes:], sum)
	}
	return sum
}
