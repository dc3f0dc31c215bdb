//go:build !purego

package asm

import (
	"github.com/q3m/q3m/quant"
)

// Eight-row forms of the super-block dot products with AVX-512 and VNNI
// (kquant_avx512_amd64.s), for prefill. Each sets out[i] to the dot
// product of the weight row w with the activation row x+i·stride, equal
// bit for bit to the single-row AVX2 kernel's (lanes reduced in the
// assembly as hsum8 and hsum4 do), for nblocks ≥ 1.

//go:noescape
func q4_Kx8AVX512(w, x *byte, stride, nblocks int, out *[8]float32)

//go:noescape
func q6_Kx8AVX512(w, x *byte, stride, nblocks int, out *[8]float32)

//go:noescape
func q5_Kx8AVX512(w, x *byte, stride, nblocks int, out *[8]float32)

// stridedRows returns b cut to rows rows of n bytes stride bytes apart,
// panicking as a slice expression does if b is too short, and on a
// negative stride.
func stridedRows(b []byte, rows, stride, n int) []byte {
	if stride < 0 {
		panic("asm: negative stride")
	}
	return b[:(rows-1)*stride+n]
}

func dotQ4_Kx8AVX512(w, x []byte, stride, nblocks int, out *[8]float32) {
	w, x = w[:nblocks*Q4_KBytes], stridedRows(x, 8, stride, nblocks*Q8_KBytes)
	if nblocks == 0 {
		*out = [8]float32{}
		return
	}
	q4_Kx8AVX512(&w[0], &x[0], stride, nblocks, out)
}

func dotQ6_Kx8AVX512(w, x []byte, stride, nblocks int, out *[8]float32) {
	w, x = w[:nblocks*Q6_KBytes], stridedRows(x, 8, stride, nblocks*Q8_KBytes)
	if nblocks == 0 {
		*out = [8]float32{}
		return
	}
	q6_Kx8AVX512(&w[0], &x[0], stride, nblocks, out)
}

func dotQ5_Kx8AVX512(w, x []byte, stride, nblocks int, out *[8]float32) {
	w, x = w[:nblocks*Q5_KBytes], stridedRows(x, 8, stride, nblocks*Q8_KBytes)
	if nblocks == 0 {
		*out = [8]float32{}
		return
	}
	q5_Kx8AVX512(&w[0], &x[0], stride, nblocks, out)
}

// extendKernel returns the kernel called name with base's dot products,
// each field of more's entries replacing base's; an entry with its own
// single-row form (X1) replaces base's entry whole, since base's other
// forms equal base's single-row form bit for bit, not the new one.
func extendKernel(base *Kernel, name string, more map[quant.Type]Dots) *Kernel {
	own := make(map[quant.Type]Dots)
	for t := range base.own {
		own[t] = base.dots[t]
	}
	for t, m := range more {
		if m.X1 != nil {
			own[t] = m
			continue
		}
		d := own[t]
		if m.X2 != nil {
			d.X2 = m.X2
		}
		if m.X4 != nil {
			d.X4 = m.X4
		}
		if m.X8 != nil {
			d.X8 = m.X8
		}
		if m.R4 != nil {
			d.R4 = m.R4
		}
		if m.Float != nil {
			d.Float = m.Float
		}
		own[t] = d
	}
	return newKernel(name, base.Dot, own)
}
