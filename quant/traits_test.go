package quant

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestTraitsMatchGGML pins each type's layout and activation type to
// ggml-common.h's block structs and ggml-cpu.c's type_traits_cpu
// (vec_dot_type); F16 and BF16 keep q3m's float32 activations.
func TestTraitsMatchGGML(t *testing.T) {
	tests := []struct {
		typ        Type
		name       string
		block      int
		bytes      int
		activation Type
		actOnly    bool
	}{
		{F32, "F32", 1, 4, F32, false},
		{F16, "F16", 1, 2, F32, false},
		{BF16, "BF16", 1, 2, F32, false},
		{Q4_0, "Q4_0", 32, 18, Q8_0, false},
		{Q4_1, "Q4_1", 32, 20, Q8_1, false},
		{Q5_0, "Q5_0", 32, 22, Q8_0, false},
		{Q5_1, "Q5_1", 32, 24, Q8_1, false},
		{Q8_0, "Q8_0", 32, 34, Q8_0, false},
		{Q8_1, "Q8_1", 32, 36, Q8_1, true},
		{Q2_K, "Q2_K", 256, 84, Q8_K, false},
		{Q3_K, "Q3_K", 256, 110, Q8_K, false},
		{Q4_K, "Q4_K", 256, 144, Q8_K, false},
		{Q5_K, "Q5_K", 256, 176, Q8_K, false},
		{Q6_K, "Q6_K", 256, 210, Q8_K, false},
		{Q8_K, "Q8_K", 256, 292, F32, true},
		{IQ4_NL, "IQ4_NL", 32, 18, Q8_0, false},
		{IQ4_XS, "IQ4_XS", 256, 136, Q8_K, false},
	}
	if got := len(Types()); got != len(tests) {
		t.Errorf("Types() has %d entries, the test %d", got, len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.typ.Known() || tc.typ.String() != tc.name || tc.typ.BlockSize() != tc.block || tc.typ.BlockBytes() != tc.bytes {
				t.Errorf("got %v known=%v block %d bytes %d", tc.typ, tc.typ.Known(), tc.typ.BlockSize(), tc.typ.BlockBytes())
			}
			if got := tc.typ.ActivationType(); got != tc.activation {
				t.Errorf("ActivationType = %v, want %v", got, tc.activation)
			}
			if got := tc.typ.ActivationOnly(); got != tc.actOnly {
				t.Errorf("ActivationOnly = %v, want %v", got, tc.actOnly)
			}
			for _, s := range []string{tc.name, strings.ToLower(tc.name)} {
				if got, err := ParseType(s); err != nil || got != tc.typ {
					t.Errorf("ParseType(%q) = %v, %v", s, got, err)
				}
			}
		})
	}
}

func TestUnknownTypes(t *testing.T) {
	for _, typ := range []Type{4, 5, 16, 19, 29, 31, 1 << 31} {
		if typ.Known() || typ.Convertible() || typ.BlockSize() != 0 || typ.BlockBytes() != 0 || typ.ActivationType() != F32 {
			t.Errorf("%v: known=%v convertible=%v", typ, typ.Known(), typ.Convertible())
		}
		if err := Quantize(typ, nil, nil); err == nil || !strings.Contains(err.Error(), "unknown type id") {
			t.Errorf("Quantize(%v): %v", typ, err)
		}
	}
	for _, s := range []string{"", "q4", "Q4_K_M", "iq4", "f64"} {
		if _, err := ParseType(s); err == nil {
			t.Errorf("ParseType(%q) accepted", s)
		}
	}
}

// bestIndexInt8 is ggml's best_index_int8 transcribed: a binary search
// then a float32 comparison of the distances to the two neighbours.
func bestIndexInt8(val []int8, x float32) uint8 {
	n := len(val)
	if x <= float32(val[0]) {
		return 0
	}
	if x >= float32(val[n-1]) {
		return uint8(n - 1)
	}
	ml, mu := 0, n-1
	for mu-ml > 1 {
		mav := (ml + mu) / 2
		if x < float32(val[mav]) {
			mu = mav
		} else {
			ml = mav
		}
	}
	if float32(x-float32(val[mu-1])) < float32(float32(val[mu])-x) {
		return uint8(mu - 1)
	}
	return uint8(mu)
}

func TestBestIndexIQ4MatchesGGMLSearch(t *testing.T) {
	check := func(x float32) {
		if got, want := bestIndexIQ4(x), bestIndexInt8(kvaluesIQ4NL[:], x); got != want {
			t.Fatalf("bestIndexIQ4(%v) = %d, ggml's search %d", x, got, want)
		}
	}
	for _, th := range iq4Thresholds {
		x := th
		for range 64 {
			x = math.Nextafter32(x, -200)
		}
		for range 128 {
			check(x)
			x = math.Nextafter32(x, 200)
		}
	}
	for _, x := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, -0.0, -127, 113, -200, 200} {
		check(x)
	}
	r := rand.New(rand.NewPCG(9, 10))
	for range 1 << 20 {
		check(float32(r.Float64()*260 - 130))
		check(math.Float32frombits(r.Uint32()))
	}
}
