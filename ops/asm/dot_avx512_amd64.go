//go:build !purego

package asm

import (
	"github.com/klauspost/cpuid/v2"

	"github.com/q3m/q3m/quant"
)

// The AVX-512 kernel needs F, BW and VL for 512-bit byte operations, masks
// and the 256-bit forms, and VNNI for VPDPBUSD; it runs the AVX2 kernel's
// code for every type it has no own routine for, so it needs AVX2 too.
var useAVX512 = useAVX2 && cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512BW, cpuid.AVX512VL, cpuid.AVX512VNNI)

// AVX512 is the amd64 kernel for CPUs with AVX-512 F, BW, VL and VNNI: the
// AVX2 kernel with its own Q8_0 and Q4_0 products (following dotQ8_0Lanes
// and dotQ4_0Q8_0Lanes, where the AVX2 kernel's follow the chain models:
// none of those AVX2 forms is inherited) and
// eight-row forms of the Q8_0, Q4_0, Q4_K, Q5_K and Q6_K products for
// prefill (q8_0_amd64.s, kquant_avx512_amd64.s), four- and two-row forms of
// the Q4_K, Q5_K and Q6_K products for batched decode
// (kquant_x4_avx512_amd64.s) and four-weight-row Q4_K and Q6_K forms for
// decode (kquant_r4_avx512_amd64.s); every other routine is the AVX2
// kernel's.
var AVX512 = extendKernel(AVX2, "avx512vnni", map[quant.Type]Dots{
	// dotQ8_0R4AVX512 is tested but not used: decoding the 8-layer Q8_0 file
	// with it measured 0.91× (four interleaved rounds; Q4_0's gave 1.10×).
	quant.Q8_0: {X1: dotQ8_0AVX512, X2: dotQ8_0x2AVX512, X4: dotQ8_0x4AVX512, X8: dotQ8_0x8AVX512},
	quant.Q4_0: {X1: dotQ4_0Q8_0AVX512, X2: dotQ4_0Q8_0x2AVX512, X4: dotQ4_0Q8_0x4AVX512, X8: dotQ4_0Q8_0x8AVX512, R4: dotQ4_0Q8_0R4AVX512},
	quant.Q4_K: {X2: dotQ4_Kx2AVX512, X4: dotQ4_Kx4AVX512, X8: dotQ4_Kx8AVX512, R4: dotQ4_KR4AVX512},
	quant.Q5_K: {X2: dotQ5_Kx2AVX512, X4: dotQ5_Kx4AVX512, X8: dotQ5_Kx8AVX512},
	quant.Q6_K: {X2: dotQ6_Kx2AVX512, X4: dotQ6_Kx4AVX512, X8: dotQ6_Kx8AVX512, R4: dotQ6_KR4AVX512},
})

// The wrappers check the lengths as the AVX2 ones do, and call each routine
// directly so that out stays on the caller's stack. The multi-row forms
// read each activation row's tail too (quantizeQ8_0Row).

func dotQ8_0AVX512(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*Q8_0Bytes], x[:nblocks*Q8_0Bytes]
	if nblocks == 0 {
		return 0
	}
	return q8_0AVX512(&w[0], &x[0], nblocks)
}

func dotQ4_0Q8_0AVX512(w, x []byte, nblocks int) float32 {
	w, x = w[:nblocks*Q4_0Bytes], x[:nblocks*Q8_0Bytes]
	if nblocks == 0 {
		return 0
	}
	return q4_0Q8_0AVX512(&w[0], &x[0], nblocks)
}

func dotQ8_0x4AVX512(w, x0, x1, x2, x3 []byte, nblocks int, out *[4]float32) {
	n := nblocks*Q8_0Bytes + q8_0TailBytes(nblocks)
	w, x0, x1, x2, x3 = w[:nblocks*Q8_0Bytes], x0[:n], x1[:n], x2[:n], x3[:n]
	if nblocks == 0 {
		*out = [4]float32{}
		return
	}
	q8_0x4AVX512(&w[0], &x0[0], &x1[0], &x2[0], &x3[0], nblocks, out)
}

func dotQ4_0Q8_0x4AVX512(w, x0, x1, x2, x3 []byte, nblocks int, out *[4]float32) {
	n := nblocks*Q8_0Bytes + q8_0TailBytes(nblocks)
	w, x0, x1, x2, x3 = w[:nblocks*Q4_0Bytes], x0[:n], x1[:n], x2[:n], x3[:n]
	if nblocks == 0 {
		*out = [4]float32{}
		return
	}
	q4_0Q8_0x4AVX512(&w[0], &x0[0], &x1[0], &x2[0], &x3[0], nblocks, out)
}

func dotQ8_0x2AVX512(w, x0, x1 []byte, nblocks int, out *[2]float32) {
	n := nblocks*Q8_0Bytes + q8_0TailBytes(nblocks)
	w, x0, x1 = w[:nblocks*Q8_0Bytes], x0[:n], x1[:n]
	if nblocks == 0 {
		*out = [2]float32{}
		return
	}
	q8_0x2AVX512(&w[0], &x0[0], &x1[0], nblocks, out)
}

func dotQ4_0Q8_0x2AVX512(w, x0, x1 []byte, nblocks int, out *[2]float32) {
	n := nblocks*Q8_0Bytes + q8_0TailBytes(nblocks)
	w, x0, x1 = w[:nblocks*Q4_0Bytes], x0[:n], x1[:n]
	if nblocks == 0 {
		*out = [2]float32{}
		return
	}
	q4_0Q8_0x2AVX512(&w[0], &x0[0], &x1[0], nblocks, out)
}

// dotQ8_0x8AVX512 sets out[i] to dotQ8_0AVX512(w, x[i*stride:], nblocks)
// for the eight activation rows i < 8, bit for bit, decoding w once; each
// row is followed by its tail (quantizeQ8_0Row).
func dotQ8_0x8AVX512(w, x []byte, stride, nblocks int, out *[8]float32) {
	w, x = w[:nblocks*Q8_0Bytes], stridedRows(x, 8, stride, nblocks*Q8_0Bytes+q8_0TailBytes(nblocks))
	if nblocks == 0 {
		*out = [8]float32{}
		return
	}
	q8_0x8AVX512(&w[0], &x[0], stride, nblocks, out)
}

// dotQ4_0Q8_0x8AVX512 is dotQ8_0x8AVX512 for Q4_0 weights.
func dotQ4_0Q8_0x8AVX512(w, x []byte, stride, nblocks int, out *[8]float32) {
	w, x = w[:nblocks*Q4_0Bytes], stridedRows(x, 8, stride, nblocks*Q8_0Bytes+q8_0TailBytes(nblocks))
	if nblocks == 0 {
		*out = [8]float32{}
		return
	}
	q4_0Q8_0x8AVX512(&w[0], &x[0], stride, nblocks, out)
}

// dotQ8_0R4AVX512 sets out[i] to dotQ8_0AVX512(w[i*stride:], x, nblocks)
// for the four weight rows i < 4, bit for bit, loading x once.
func dotQ8_0R4AVX512(w []byte, stride int, x []byte, nblocks int, out *[4]float32) {
	w, x = stridedRows(w, 4, stride, nblocks*Q8_0Bytes), x[:nblocks*Q8_0Bytes]
	if nblocks == 0 {
		*out = [4]float32{}
		return
	}
	q8_0r4AVX512(&w[0], stride, &x[0], nblocks, out)
}

// dotQ4_0Q8_0R4AVX512 is dotQ8_0R4AVX512 for Q4_0 weights.
func dotQ4_0Q8_0R4AVX512(w []byte, stride int, x []byte, nblocks int, out *[4]float32) {
	w, x = stridedRows(w, 4, stride, nblocks*Q4_0Bytes), x[:nblocks*Q8_0Bytes]
	if nblocks == 0 {
		*out = [4]float32{}
		return
	}
	q4_0Q8_0r4AVX512(&w[0], stride, &x[0], nblocks, out)
}
