package asm

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// ulpDistance returns how many float32 values lie between a and b, both
// of one sign.
func ulpDistance(a, b float32) int64 {
	d := int64(math.Float32bits(a)) - int64(math.Float32bits(b))
	return max(d, -d)
}

// Exp32 is within one ulp of math.Exp rounded to float32 over its whole
// range: scanning every third float32 of [-104, 89] found 0.8% of them one
// ulp off (the largest 1 ulp, at 3.397459e-06) and none further.
func TestExp32WithinOneUlp(t *testing.T) {
	const bound = 1 // observed 1
	var worst int64
	for _, span := range [][2]uint32{{0, math.Float32bits(89)}, {0x80000000, math.Float32bits(-104)}} {
		for u := span[0]; u < span[1]; u += 997 {
			x := math.Float32frombits(u)
			want := float32(math.Exp(float64(x)))
			if d := ulpDistance(Exp32(x), want); d > bound {
				t.Fatalf("Exp32(%v) = %v, math.Exp %v: %d ulp", x, Exp32(x), want, d)
			} else {
				worst = max(worst, d)
			}
		}
	}
	t.Logf("largest error %d ulp", worst)
}

// Exp32 overflows to +Inf and underflows to 0 where float32 does, and
// keeps its one ulp at the ends of the range.
func TestExp32Limits(t *testing.T) {
	inf := float32(math.Inf(1))
	for _, c := range []struct{ x, want float32 }{
		{0, 1},
		{float32(math.Copysign(0, -1)), 1},
		{88.7229, inf},
		{89, inf},
		{1000, inf},
		{inf, inf},
		{-104, 0},
		{-1000, 0},
		{-inf, 0},
	} {
		if got := Exp32(c.x); got != c.want {
			t.Errorf("Exp32(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	// Largest finite, smallest normal and subnormal results.
	for _, x := range []float32{88.72283, 88.7228, -87.33654, -87.3365, -95, -103.2789, -103.9} {
		want := float32(math.Exp(float64(x)))
		if got := Exp32(x); ulpDistance(got, want) > 1 {
			t.Errorf("Exp32(%v) = %v, math.Exp %v", x, got, want)
		}
	}
	if got := Exp32(float32(math.NaN())); got == got {
		t.Errorf("Exp32(NaN) = %v, want NaN", got)
	}
}

// SwiGLU's SiLU is within two ulp of g/(1+e^-g) in float64 rounded to
// float32 wherever the result is a normal float32 (observed: 2 ulp), for g
// above -88.7228: below, 1+e^-g overflows float32 and SiLU returns -0
// where the float64 formula gives values of about -2.6e-37.
func TestSwiGLUWithinTwoUlpOfFloat64(t *testing.T) {
	const bound = 2
	var worst int64
	one := []float32{1}
	got := []float32{0}
	for u := uint32(0); u < 0xff800000; u += 1237 {
		g := math.Float32frombits(u)
		if g != g || math.IsInf(float64(g), 0) || g < -88.7228 {
			continue
		}
		want := float32(float64(g) / (1 + math.Exp(-float64(g))))
		if math.Abs(float64(want)) < 0x1p-126 {
			continue
		}
		swiGLUGeneric(got, []float32{g}, one)
		if d := ulpDistance(got[0], want); d > bound {
			t.Fatalf("SiLU(%v) = %v, float64 %v: %d ulp", g, got[0], want, d)
		} else {
			worst = max(worst, d)
		}
	}
	t.Logf("largest error %d ulp", worst)
}

// sameBits reports whether a and b are the same float32 bits, or both NaN.
func sameBits(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b
}

func checkSwiGLU(t *testing.T, what string, gate, up []float32) {
	t.Helper()
	want := make([]float32, len(gate))
	swiGLUGeneric(want, gate, up)
	got := make([]float32, len(gate)+1)
	got[len(gate)] = 42
	SwiGLU(got[:len(gate)], gate, up)
	for i := range want {
		if !sameBits(got[i], want[i]) {
			t.Fatalf("%s: value %d (gate %v, up %v): %v, Go %v", what, i, gate[i], up[i], got[i], want[i])
		}
	}
	if got[len(gate)] != 42 {
		t.Fatalf("%s: SwiGLU wrote past dst", what)
	}
}

// The assembly SwiGLU (where the machine has one) returns the Go one's
// bits for every length, in place, and for the extreme values.
func TestSwiGLUMatchesGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)),
		float32(math.Inf(-1)), math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32,
		-88.72283, -88.7229, -89, 88.72283, 103.5, -103.28, 104, -104, 1e-20, -1e-20}
	for n := range 50 {
		g, u := make([]float32, n), make([]float32, n)
		for i := range g {
			g[i], u[i] = float32(r.NormFloat64()*math.Exp(r.NormFloat64()*2)), float32(r.NormFloat64())
		}
		checkSwiGLU(t, "random", g, u)
	}
	g := make([]float32, 0, 4096)
	for range 4096 {
		g = append(g, special[r.IntN(len(special))]*[]float32{1, 0.5, 1.5}[r.IntN(3)])
	}
	u := make([]float32, len(g))
	for i := range u {
		u[i] = special[r.IntN(len(special))]
	}
	checkSwiGLU(t, "special", g, u)
	for x := float32(-110); x < 110; x += 1.0 / 64 {
		g = append(g, x)
		u = append(u, 1)
	}
	checkSwiGLU(t, "ramp", g, u)

	want := make([]float32, len(g))
	swiGLUGeneric(want, g, u)
	SwiGLU(g, g, u)
	for i := range g {
		if !sameBits(g[i], want[i]) {
			t.Fatalf("in place: value %d: %v, want %v", i, g[i], want[i])
		}
	}
}

func checkExpSub(t *testing.T, what string, x []float32, m float32) {
	t.Helper()
	want := make([]float32, len(x))
	expSubGeneric(want, x, m)
	got := make([]float32, len(x)+1)
	got[len(x)] = 42
	ExpSub(got[:len(x)], x, m)
	for i := range want {
		if !sameBits(got[i], want[i]) {
			t.Fatalf("%s: value %d (x %v, m %v): %v, Go %v", what, i, x[i], m, got[i], want[i])
		}
	}
	if got[len(x)] != 42 {
		t.Fatalf("%s: ExpSub wrote past dst", what)
	}
}

// The assembly ExpSub (where the machine has one) returns the Go one's
// bits for every length, in place, and for the extreme values.
func TestExpSubMatchesGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(55, 56))
	for n := range 50 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64() * 30)
		}
		checkExpSub(t, "random", x, float32(r.NormFloat64()))
	}
	inf := float32(math.Inf(1))
	var x []float32
	for v := float32(-120); v < 120; v += 1.0 / 128 {
		x = append(x, v)
	}
	x = append(x, inf, -inf, float32(math.NaN()), math.MaxFloat32, -math.MaxFloat32, 0, math.SmallestNonzeroFloat32)
	for _, m := range []float32{0, 1.5, -7, 100, inf, -inf, float32(math.NaN())} {
		checkExpSub(t, "ramp", x, m)
	}
	want := make([]float32, len(x))
	expSubGeneric(want, x, 3)
	ExpSub(x, x, 3)
	for i := range x {
		if !sameBits(x[i], want[i]) {
			t.Fatalf("in place: value %d: %v, want %v", i, x[i], want[i])
		}
	}
}

// FuzzSwiGLU holds the assembly SwiGLU and ExpSub to the Go ones on
// arbitrary gate and up bits (ExpSub taking gate and up's first value).
func FuzzSwiGLU(f *testing.F) {
	f.Add([]byte{0, 0, 0x80, 0x7f, 0, 0, 0xc0, 0x7f, 0x3b, 0xaa, 0xb8, 0xc2})
	f.Fuzz(func(t *testing.T, data []byte) {
		n := len(data) / 8
		g, u := make([]float32, n), make([]float32, n)
		for i := range n {
			g[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[8*i:]))
			u[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[8*i+4:]))
		}
		checkSwiGLU(t, "fuzz", g, u)
		if n > 0 {
			checkExpSub(t, "fuzz", g, u[0])
		}
	})
}

func BenchmarkSwiGLU(b *testing.B) {
	r := rand.New(rand.NewPCG(53, 54))
	g, u := make([]float32, 768), make([]float32, 768)
	for i := range g {
		g[i], u[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
	}
	dst := make([]float32, len(g))
	for _, c := range []struct {
		name string
		f    func(dst, g, u []float32)
	}{{"generic", swiGLUGeneric}, {"arch", SwiGLU}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(8 * len(g)))
			for range b.N {
				c.f(dst, g, u)
			}
		})
	}
}
