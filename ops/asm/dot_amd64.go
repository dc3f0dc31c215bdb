//go:build !purego

package asm

import (
	"unsafe"

	"github.com/klauspost/cpuid/v2"

	"github.com/q3m/q3m/quant"
)

// The AVX2 kernel needs FMA for the accumulations and F16C (VCVTPH2PS) for
// the fp16 block scales and F16 rows.
var useAVX2 = cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3, cpuid.F16C)

// attnTiles: the attention tiles (attn_amd64.s) are AVX2.
var attnTiles = useAVX2

// AVX2 is the amd64 kernel for CPUs with AVX2, FMA and F16C. Its G8From,
// from MatMul on one thread, 768×2048 and 2048×768 (Zen 3): three rows
// through R4 cost 1.0–1.4× a group of three for Q4_0 and 0.55–0.9× for
// Q8_0; two rows 0.6–1.0× and 0.5×; nine rows (a group and one) 0.65–0.8×
// and 0.5–0.8× two groups.
var AVX2 = newKernel("avx2", dotAVX2, map[quant.Type]Dots{
	quant.F32:    {Float: dotF32AVX2},
	quant.F16:    {Float: dotF16F32AVX2},
	quant.BF16:   {Float: dotBF16F32AVX2},
	quant.Q8_0:   {X1: dotQ8_0AVX2, R4: dotQ8_0R4AVX2, G8: dotQ8_0G8AVX2, G8From: 4},
	quant.Q4_0:   {X1: dotQ4_0Q8_0AVX2, R4: dotQ4_0Q8_0R4AVX2, G8: dotQ4_0Q8_0G8AVX2, G8From: 3},
	quant.Q4_1:   {X1: dotQ4_1Q8_1AVX2},
	quant.Q5_0:   {X1: dotQ5_0Q8_0AVX2},
	quant.Q5_1:   {X1: dotQ5_1Q8_1AVX2},
	quant.IQ4_NL: {X1: dotIQ4_NLQ8_0AVX2},
	quant.Q2_K:   {X1: dotQ2_KAVX2, X2: dotQ2_Kx2AVX2, X4: dotQ2_Kx4AVX2},
	quant.Q3_K:   {X1: dotQ3_KAVX2, X2: dotQ3_Kx2AVX2, X4: dotQ3_Kx4AVX2},
	quant.Q4_K:   {X1: dotQ4_KAVX2, X2: dotQ4_Kx2AVX2, X4: dotQ4_Kx4AVX2},
	quant.Q5_K:   {X1: dotQ5_KAVX2, X2: dotQ5_Kx2AVX2, X4: dotQ5_Kx4AVX2},
	quant.Q6_K:   {X1: dotQ6_KAVX2, X2: dotQ6_Kx2AVX2, X4: dotQ6_Kx4AVX2},
	quant.IQ4_XS: {X1: dotIQ4_XSAVX2, X2: dotIQ4_XSx2AVX2, X4: dotIQ4_XSx4AVX2},
})

//go:generate go run -C _gen . -out ../q8_0_amd64.s -stubs ../q8_0_stubs_amd64.go -pkg asm

// archKernels returns the kernels the CPU supports, best last.
func archKernels() []*Kernel {
	switch {
	case useAVX512:
		return []*Kernel{AVX2, AVX512}
	case useAVX2:
		return []*Kernel{AVX2}
	}
	return nil
}

// The assembly routines take raw pointers; the Go wrappers below check the
// lengths first, so that a short slice panics as in the generic kernel
// instead of reading past it.

// The Q8_0 and Q4_0 routines (q8_0AVX2, q4_0Q8_0x4AVX2, …) are generated
// by _gen into q8_0_amd64.s; their declarations are in q8_0_stubs_amd64.go.

// f32AVX2, f16AVX2 and bf16AVX2 return the dot product of the first n&^7
// weights at w with the floats at x.

//go:noescape
func f32AVX2(w unsafe.Pointer, x *float32, n int) float32

//go:noescape
func f16AVX2(w *byte, x *float32, n int) float32

//go:noescape
func bf16AVX2(w *byte, x *float32, n int) float32

func dotQ8_0AVX2(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*Q8_0Bytes], x[:nblocks*Q8_0Bytes]
	if nblocks == 0 {
		return 0
	}
	return q8_0AVX2(&w[0], &x[0], nblocks)
}

func dotQ4_0Q8_0AVX2(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*Q4_0Bytes], x[:nblocks*Q8_0Bytes]
	if nblocks == 0 {
		return 0
	}
	return q4_0Q8_0AVX2(&w[0], &x[0], nblocks)
}

// dotQ8_0R4AVX2 sets out[i] to dotQ8_0AVX2(w[i*stride:], x, nblocks) for
// the four weight rows i < 4, bit for bit, loading x once.
func dotQ8_0R4AVX2(w []byte, stride int, x []byte, nblocks int, out *[4]float32) {
	w, x = stridedRows(w, 4, stride, nblocks*Q8_0Bytes), x[:nblocks*Q8_0Bytes]
	if nblocks == 0 {
		*out = [4]float32{}
		return
	}
	q8_0r4AVX2(&w[0], stride, &x[0], nblocks, out)
}

// dotQ8_0G8AVX2 sets out[t] to dotQ8_0AVX2(w, xt, nblocks) for the eight
// activation rows xt of the group g (Group8), bit for bit.
func dotQ8_0G8AVX2(w, g []byte, nblocks int, out *[8]float32) {
	w, g = w[:nblocks*Q8_0Bytes], g[:Group8Bytes(nblocks)]
	if nblocks == 0 {
		*out = [8]float32{}
		return
	}
	q8_0g8AVX2(&w[0], &g[0], nblocks, out)
}

// dotQ4_0Q8_0R4AVX2 sets out[i] to dotQ4_0Q8_0AVX2(w[i*stride:], x,
// nblocks) for the four weight rows i < 4, bit for bit, loading x once.
func dotQ4_0Q8_0R4AVX2(w []byte, stride int, x []byte, nblocks int, out *[4]float32) {
	w, x = stridedRows(w, 4, stride, nblocks*Q4_0Bytes), x[:nblocks*Q8_0Bytes]
	if nblocks == 0 {
		*out = [4]float32{}
		return
	}
	q4_0Q8_0r4AVX2(&w[0], stride, &x[0], nblocks, out)
}

// dotQ4_0Q8_0G8AVX2 sets out[t] to dotQ4_0Q8_0AVX2(w, xt, nblocks) for the
// eight activation rows xt of the group g (Group8), bit for bit.
func dotQ4_0Q8_0G8AVX2(w, g []byte, nblocks int, out *[8]float32) {
	w, g = w[:nblocks*Q4_0Bytes], g[:Group8Bytes(nblocks)]
	if nblocks == 0 {
		*out = [8]float32{}
		return
	}
	q4_0Q8_0g8AVX2(&w[0], &g[0], nblocks, out)
}

func dotF32AVX2(w []byte, x []float32) float32 {
	w = w[:4*len(x)]
	n := len(x) &^ 7
	var s float32
	if n > 0 {
		s = f32AVX2(unsafe.Pointer(&w[0]), &x[0], n)
	}
	return s + DotF32(w[4*n:], x[n:])
}

func dotAVX2(a, b []float32) float32 {
	b = b[:len(a)]
	n := len(a) &^ 7
	var s float32
	if n > 0 {
		s = f32AVX2(unsafe.Pointer(&a[0]), &b[0], n)
	}
	return s + Dot(a[n:], b[n:])
}

func dotF16F32AVX2(w []byte, x []float32) float32 {
	w = w[:2*len(x)]
	n := len(x) &^ 7
	var s float32
	if n > 0 {
		s = f16AVX2(&w[0], &x[0], n)
	}
	return s + DotF16F32(w[2*n:], x[n:])
}

func dotBF16F32AVX2(w []byte, x []float32) float32 {
	w = w[:2*len(x)]
	n := len(x) &^ 7
	var s float32
	if n > 0 {
		s = bf16AVX2(&w[0], &x[0], n)
	}
	return s + DotBF16F32(w[2*n:], x[n:])
}

// q4_KAVX2 sets acc[0:8] to the float32 lanes of ggml's AVX2 Q4_K loop
// (d·scaled sums) and acc[8:12] to those of its minimums, for nblocks ≥ 1.
//
//go:noescape
func q4_KAVX2(w, x *byte, nblocks int, acc *[12]float32)

// q6_KAVX2 sets acc to the float32 lanes of ggml's AVX2 Q6_K loop, for
// nblocks ≥ 1.
//
//go:noescape
func q6_KAVX2(w, x *byte, nblocks int, acc *[8]float32)

func dotQ4_KAVX2(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*Q4_KBytes], x[:nblocks*Q8_KBytes]
	if nblocks == 0 {
		return 0
	}
	var acc [12]float32
	q4_KAVX2(&w[0], &x[0], nblocks, &acc)
	return hsum8((*[8]float32)(acc[:8])) + hsum4((*[4]float32)(acc[8:]))
}

func dotQ6_KAVX2(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*Q6_KBytes], x[:nblocks*Q8_KBytes]
	if nblocks == 0 {
		return 0
	}
	var acc [8]float32
	q6_KAVX2(&w[0], &x[0], nblocks, &acc)
	return hsum8(&acc)
}

// q5_KAVX2 sets acc[0:8] to the float32 lanes of ggml's AVX2 Q5_K loop and
// acc[8] to its sum of the minimums, for nblocks ≥ 1.
//
//go:noescape
func q5_KAVX2(w, x *byte, nblocks int, acc *[9]float32)

func dotQ5_KAVX2(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*Q5_KBytes], x[:nblocks*Q8_KBytes]
	if nblocks == 0 {
		return 0
	}
	var acc [9]float32
	q5_KAVX2(&w[0], &x[0], nblocks, &acc)
	return hsum8((*[8]float32)(acc[:8])) + acc[8]
}

// q2_KAVX2, q3_KAVX2 and iq4_XSAVX2 set acc to the float32 lanes of
// ggml's AVX2 loops for their types, for nblocks ≥ 1.

//go:noescape
func q2_KAVX2(w, x *byte, nblocks int, acc *[8]float32)

//go:noescape
func q3_KAVX2(w, x *byte, nblocks int, acc *[8]float32)

//go:noescape
func iq4_XSAVX2(w, x *byte, nblocks int, acc *[8]float32)

// The wrappers call each routine directly (not through a function value),
// so that their lanes stay on the stack.

func dotQ2_KAVX2(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*Q2_KBytes], x[:nblocks*Q8_KBytes]
	if nblocks == 0 {
		return 0
	}
	var acc [8]float32
	q2_KAVX2(&w[0], &x[0], nblocks, &acc)
	return hsum8(&acc)
}

func dotQ3_KAVX2(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*Q3_KBytes], x[:nblocks*Q8_KBytes]
	if nblocks == 0 {
		return 0
	}
	var acc [8]float32
	q3_KAVX2(&w[0], &x[0], nblocks, &acc)
	return hsum8(&acc)
}

func dotIQ4_XSAVX2(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*IQ4_XSBytes], x[:nblocks*Q8_KBytes]
	if nblocks == 0 {
		return 0
	}
	var acc [8]float32
	iq4_XSAVX2(&w[0], &x[0], nblocks, &acc)
	return hsum8(&acc)
}

// q4_1AVX2 and q5_1AVX2 set acc[0:8] to the float32 lanes of ggml's AVX2
// loops and acc[8] to their Σ m·s; q5_0AVX2 sets acc to its lanes;
// iq4_NLAVX2 sets acc[0:8] and acc[8:16] to the lanes of the even and odd
// blocks of npairs pairs. All need at least one block (pair).

//go:noescape
func q4_1AVX2(w, x *byte, nblocks int, acc *[9]float32)

//go:noescape
func q5_1AVX2(w, x *byte, nblocks int, acc *[9]float32)

//go:noescape
func q5_0AVX2(w, x *byte, nblocks int, acc *[8]float32)

//go:noescape
func iq4_NLAVX2(w, x *byte, npairs int, acc *[16]float32)

func dotQ4_1Q8_1AVX2(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*Q4_1Bytes], x[:nblocks*Q8_1Bytes]
	if nblocks == 0 {
		return 0
	}
	var acc [9]float32
	q4_1AVX2(&w[0], &x[0], nblocks, &acc)
	return hsum8((*[8]float32)(acc[:8])) + acc[8]
}

func dotQ5_1Q8_1AVX2(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*Q5_1Bytes], x[:nblocks*Q8_1Bytes]
	if nblocks == 0 {
		return 0
	}
	var acc [9]float32
	q5_1AVX2(&w[0], &x[0], nblocks, &acc)
	return hsum8((*[8]float32)(acc[:8])) + acc[8]
}

func dotQ5_0Q8_0AVX2(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*Q5_0Bytes], x[:nblocks*Q8_0Bytes]
	if nblocks == 0 {
		return 0
	}
	var acc [8]float32
	q5_0AVX2(&w[0], &x[0], nblocks, &acc)
	return hsum8(&acc)
}

// dotIQ4_NLQ8_0AVX2 runs the assembly over whole pairs of blocks and adds
// a last odd block as ggml does, with the generic code's one fused
// multiply-add.
func dotIQ4_NLQ8_0AVX2(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*IQ4_NLBytes], x[:nblocks*Q8_0Bytes]
	var sum float32
	if p := nblocks / 2; p > 0 {
		var acc [16]float32
		iq4_NLAVX2(&w[0], &x[0], p, &acc)
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
