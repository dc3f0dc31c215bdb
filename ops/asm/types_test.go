package asm

import (
	"reflect"
	"slices"
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

// Each assembly kernel implements the types it is written for (a routine
// left out of its kernel's table would silently fall back to Go).
func TestKernelsImplementTheirTypes(t *testing.T) {
	all := []quant.Type{quant.F32, quant.F16, quant.BF16, quant.Q8_0, quant.Q4_0}
	ks := []quant.Type{quant.Q2_K, quant.Q3_K, quant.Q4_K, quant.Q5_K, quant.Q6_K, quant.IQ4_XS}
	want := map[string][]quant.Type{
		"avx2":         append(append(append([]quant.Type(nil), all...), ks...), quant.Q4_1, quant.Q5_0, quant.Q5_1, quant.IQ4_NL),
		"avx512vnni":   append(append(append([]quant.Type(nil), all...), ks...), quant.Q4_1, quant.Q5_0, quant.Q5_1, quant.IQ4_NL),
		"neon":         all,
		"neon-dotprod": append(append(append([]quant.Type(nil), all...), ks...), quant.Q4_1, quant.Q5_0, quant.Q5_1, quant.IQ4_NL),
		"neon-i8mm":    append(append(append([]quant.Type(nil), all...), ks...), quant.Q4_1, quant.Q5_0, quant.Q5_1, quant.IQ4_NL),
	}
	for _, k := range allKernels() {
		if k == Generic {
			continue
		}
		var got []quant.Type
		for _, typ := range Types() {
			if k.Implements(typ) {
				got = append(got, typ)
			}
		}
		w := append([]quant.Type(nil), want[k.Name]...)
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Errorf("%s implements %v, want %v", k.Name, got, w)
		}
	}
}

// MaxActivationBytes(n) bounds the activation row of every weight type
// for every row length up to n: a Q8_K row of 4864 values (5548 bytes) is
// longer than a Q8_1 row of 4928 (5544).
func TestMaxActivationBytesBoundsShorterRows(t *testing.T) {
	for _, n := range []int{32, 256, 4928, 6016, 2048} {
		limit := MaxActivationBytes(n)
		for c := 32; c <= n; c += 32 {
			for _, typ := range Types() {
				tr, _ := TypeTraits(typ)
				if b := tr.ActivationBytes(c); b > limit {
					t.Errorf("MaxActivationBytes(%d) = %d, but %s rows of %d values take %d", n, limit, tr.Activation, c, b)
				}
			}
		}
	}
}
