package asm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// AddScaled rounds the product and then the sum, bit for bit as the two
// float32 operations in Go, at every length around the vector width, with
// infinities, NaNs, subnormals and products that overflow.
func TestAddScaledRoundsProductThenSum(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.NaN()), 1e-45, 3e38, -3e38, 1e-40}
	for _, a := range []float32{0.37, -1e30, 1e-30, float32(math.Inf(-1))} {
		for n := range 41 {
			dst, x := make([]float32, n), make([]float32, n)
			for i := range n {
				dst[i] = float32(r.NormFloat64())
				x[i] = float32(r.NormFloat64() * math.Exp(3*r.NormFloat64()))
				if r.IntN(5) == 0 {
					x[i] = special[r.IntN(len(special))]
				}
			}
			want := make([]float32, n)
			for i := range n {
				want[i] = dst[i] + float32(a*x[i])
			}
			AddScaled(dst, a, x)
			for i := range n {
				if math.Float32bits(dst[i]) != math.Float32bits(want[i]) && !(dst[i] != dst[i] && want[i] != want[i]) {
					t.Fatalf("a=%v n=%d value %d: %v, want %v", a, n, i, dst[i], want[i])
				}
			}
		}
	}
}

func TestAddScaledPanicsOnShortInput(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	AddScaled(make([]float32, 9), 1, make([]float32, 8))
}
