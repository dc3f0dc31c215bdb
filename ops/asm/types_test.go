package asm

import (
	"reflect"
	"testing"

	"github.com/q3m/q3m/quant"
)

func funcPtr(f any) uintptr { return reflect.ValueOf(f).Pointer() }

func TestEveryKernelCoversTheTypeTable(t *testing.T) {
	for _, k := range allKernels() {
		for _, typ := range Types() {
			tr, _ := TypeTraits(typ)
			d, ok := k.Dots(typ)
			if !ok {
				t.Errorf("%s: no dot products for %s", k.Name, typ)
				continue
			}
			if tr.Quantized() != (d.X1 != nil) || tr.Quantized() == (d.Float != nil) {
				t.Errorf("%s %s: activation %s but X1 set %v, Float set %v", k.Name, typ, tr.Activation, d.X1 != nil, d.Float != nil)
			}
			if tr.Quantized() && (tr.Quantize == nil || tr.Activation.BlockSize() != typ.BlockSize()) {
				t.Errorf("%s: activation %s does not pair block for block", typ, tr.Activation)
			}
			if !k.Implements(typ) {
				g := genericDots[typ]
				if funcPtr(d.X1) != funcPtr(g.X1) || funcPtr(d.X4) != funcPtr(g.X4) || funcPtr(d.Float) != funcPtr(g.Float) {
					t.Errorf("%s lacks %s but does not fall back to the generic kernel", k.Name, typ)
				}
			}
		}
	}
	if _, ok := Generic.Dots(quant.Type(99)); ok {
		t.Errorf("dot products for an unknown type")
	}
}
