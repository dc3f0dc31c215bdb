package asm

import (
	"testing"

	"github.com/q3m/q3m/quant"
)

// TestActivationTypesAgreeWithQuant: for every weight type of the table,
// the activation type the kernels quantize to is the one package quant
// names (quant.Type.ActivationType, ggml's vec_dot_type), and the
// quantizer writes that type.
func TestActivationTypesAgreeWithQuant(t *testing.T) {
	quantizers := map[quant.Type]uintptr{
		quant.Q8_0: funcPtr(quantizeQ8_0Row), // QuantizeQ8_0 and the tail
		quant.Q8_1: funcPtr(QuantizeQ8_1),
		quant.Q8_K: funcPtr(QuantizeQ8_K),
	}
	types := Types()
	if len(types) != len(table) || len(types) == 0 {
		t.Fatalf("Types() lists %d types, the table holds %d", len(types), len(table))
	}
	for _, typ := range types {
		tr, ok := TypeTraits(typ)
		if !ok {
			t.Errorf("%s: listed but without traits", typ)
			continue
		}
		if tr.Weight != typ {
			t.Errorf("%s: traits of %s", typ, tr.Weight)
		}
		if want := typ.ActivationType(); tr.Activation != want {
			t.Errorf("%s: ops/asm quantizes activations to %s, quant says %s", typ, tr.Activation, want)
		}
		switch want, ok := quantizers[tr.Activation]; {
		case !tr.Quantized() && tr.Quantize != nil:
			t.Errorf("%s: float32 activations but a quantizer", typ)
		case tr.Quantized() && (!ok || funcPtr(tr.Quantize) != want):
			t.Errorf("%s: the quantizer does not write %s", typ, tr.Activation)
		}
	}
}
