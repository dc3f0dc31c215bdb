package asm

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// exactFMA32 is a·b + c computed exactly and rounded once by math/big.
func exactFMA32(a, b, c float32) float32 {
	x := new(big.Float).SetPrec(200).SetFloat64(float64(a))
	x.Mul(x, new(big.Float).SetPrec(200).SetFloat64(float64(b)))
	x.Add(x, new(big.Float).SetPrec(200).SetFloat64(float64(c)))
	f, _ := x.Float32()
	return f
}

func TestFMA32RoundsOnce(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	check := func(a, b, c float32) {
		t.Helper()
		if got, want := fma32(a, b, c), exactFMA32(a, b, c); math.Float32bits(got) != math.Float32bits(want) && !(got == 0 && want == 0) {
			t.Fatalf("fma32(%g, %g, %g) = %g, exact %g", a, b, c, got, want)
		}
	}
	for range 50000 {
		a := float32(r.NormFloat64() * math.Exp(r.NormFloat64()*4))
		b := float32(r.NormFloat64() * math.Exp(r.NormFloat64()*4))
		c := float32(r.NormFloat64() * math.Exp(r.NormFloat64()*4))
		check(a, b, c)
		check(a, b, -float32(float64(a)*float64(b))) // cancellation
	}
	// a·b = ±(1/2 - 2^-47): added to an integer c in [2^23, 2^24) the
	// float64 sum rounds to c ± 1/2, exactly halfway between two float32s,
	// though the exact sum is just inside; a second rounding to even would
	// be wrong for half of the c. Scaling b and c by 2^k keeps that.
	a := float32(1 + 0x1p-23)
	b := float32(0.5 * (1 - 0x1p-23))
	wrong := 0
	for range 30000 {
		k := r.IntN(60) - 30
		c := float32(math.Ldexp(float64(1<<23+r.IntN(1<<23)), k))
		bk := float32(math.Ldexp(float64(b), k))
		for _, sa := range []float32{a, -a} {
			check(sa, bk, c)
			if float32(float64(sa)*float64(bk)+float64(c)) != exactFMA32(sa, bk, c) {
				wrong++
			}
		}
	}
	if wrong == 0 {
		t.Errorf("no case where plain double rounding is wrong: the test does not test the midpoint path")
	}
}

func TestHsum8Order(t *testing.T) {
	// 2^24 + 1 is lost when added to 2^24 alone; the order decides.
	a := [8]float32{1 << 24, 1, 0, 1, 0, 0, 0, 0}
	// (a0+a4)+(a2+a6) = 2^24, (a1+a5)+(a3+a7) = 2, total 2^24+2.
	if got := hsum8(&a); got != 1<<24+2 {
		t.Errorf("hsum8 = %v, want %v", got, float32(1<<24+2))
	}
}
