//go:build !purego

package asm

import (
	"testing"

	"github.com/q3m/q3m/quant"
)

// A kernel extending another with its own single-row form of a type takes
// none of the other's forms of it (they equal the other's single-row form,
// not the new one); without one it keeps the other's forms it does not
// replace. The AVX-512 kernel's Q8_0 and Q4_0 (lane model) against the
// AVX2 kernel's (chain model, with decode and prefill forms) is the case.
func TestExtendKernelKeepsEachTypesFormsTogether(t *testing.T) {
	x1 := func(w, x []byte, n int) float32 { return 1 }
	x1b := func(w, x []byte, n int) float32 { return 2 }
	r4 := func(w []byte, stride int, x []byte, n int, out *[4]float32) {}
	g8 := func(w, g []byte, n int, out *[8]float32) {}
	x2 := func(w, x0, x1 []byte, n int, out *[2]float32) {}
	base := newKernel("base", Dot, map[quant.Type]Dots{
		quant.Q8_0: {X1: x1, R4: r4, G8: g8, G8From: 4},
		quant.Q4_K: {X1: x1, R4: r4},
	})
	k := extendKernel(base, "more", map[quant.Type]Dots{
		quant.Q8_0: {X1: x1b, X2: x2},
		quant.Q4_K: {X2: x2},
	})
	q8, _ := k.Dots(quant.Q8_0)
	if q8.X1 == nil || q8.X1(nil, nil, 0) != 2 || q8.X2 == nil || q8.R4 != nil || q8.G8 != nil || q8.G8From != 0 {
		t.Errorf("Q8_0 with its own single-row form kept the base's other forms: %+v", q8)
	}
	qk, _ := k.Dots(quant.Q4_K)
	if qk.X1 == nil || qk.X1(nil, nil, 0) != 1 || qk.R4 == nil || qk.X2 == nil {
		t.Errorf("Q4_K without a single-row form lost the base's forms: %+v", qk)
	}
	if AVX512 != nil {
		for _, typ := range []quant.Type{quant.Q8_0, quant.Q4_0} {
			if d, _ := AVX512.Dots(typ); d.G8 != nil {
				t.Errorf("avx512vnni %s has the AVX2 kernel's eight-token form", typ)
			}
		}
	}
}
