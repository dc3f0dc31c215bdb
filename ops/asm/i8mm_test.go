package asm

import (
	"testing"

	"github.com/q3m/q3m/quant"
)

// i8mmKernel returns the neon-i8mm kernel, skipping t where the machine
// cannot run it.
func i8mmKernel(t testing.TB) *Kernel {
	k, ok := Lookup("neon-i8mm")
	if !ok {
		t.Skipf("no neon-i8mm kernel here (have %v)", Kernels())
	}
	return k
}

// The kernel is the NEON dot-product kernel with its own Q8_0 and Q4_0
// products: every other type keeps neon-dotprod's routines.
func TestNEONI8MMKeepsDotProdRoutinesForOtherTypes(t *testing.T) {
	k := i8mmKernel(t)
	dp, ok := Lookup("neon-dotprod")
	if !ok {
		t.Fatalf("neon-i8mm without neon-dotprod (have %v)", Kernels())
	}
	for _, typ := range Types() {
		if typ == quant.Q8_0 || typ == quant.Q4_0 {
			if !k.Implements(typ) || dotsOf(k, typ).X8 == nil {
				t.Errorf("neon-i8mm lacks its own eight-row %s form", typ)
			}
			continue
		}
		a, b := dotsOf(k, typ), dotsOf(dp, typ)
		if k.Implements(typ) != dp.Implements(typ) || funcPtr(a.X1) != funcPtr(b.X1) || funcPtr(a.X2) != funcPtr(b.X2) ||
			funcPtr(a.X4) != funcPtr(b.X4) || funcPtr(a.X8) != funcPtr(b.X8) || funcPtr(a.Float) != funcPtr(b.Float) {
			t.Errorf("%s: neon-i8mm's routines differ from neon-dotprod's", typ)
		}
	}
}
