package asm

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/q3m/q3m/quant"
	"github.com/x448/float16"
)

// The references below are written as plainly as possible from ggml's
// definitions, sharing no code with generic.go.

func refScale(b []byte) float32 {
	return float16.Frombits(uint16(b[0]) | uint16(b[1])<<8).Float32()
}

func refDotQ8_0(w, x []byte, nblocks int) float32 {
	var sum float32
	for b := 0; b < nblocks; b++ {
		isum := 0
		for j := 0; j < 32; j++ {
			isum += int(int8(w[b*34+2+j])) * int(int8(x[b*34+2+j]))
		}
		d := refScale(w[b*34:]) * refScale(x[b*34:])
		sum = sum + float32(float32(isum)*d) // float32(): no fused multiply-add
	}
	return sum
}

func refDotQ4_0Q8_0(w, x []byte, nblocks int) float32 {
	var sum float32
	for b := 0; b < nblocks; b++ {
		isum := 0
		for j := 0; j < 32; j++ {
			var q int
			if j < 16 {
				q = int(w[b*18+2+j]&15) - 8
			} else {
				q = int(w[b*18+2+j-16]>>4) - 8
			}
			isum += q * int(int8(x[b*34+2+j]))
		}
		p := float32(isum) * refScale(w[b*18:])
		sum = sum + float32(p*refScale(x[b*34:])) // float32(): no fused multiply-add
	}
	return sum
}

// refDot64 is the exact float64 dot product of two float vectors.
func refDot64(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func putScale(dst []byte, v float32) {
	binary.LittleEndian.PutUint16(dst, uint16(float16.Fromfloat32(v)))
}

// randBlocks returns n random blocks of the given size with a finite fp16
// scale of moderate size.
func randBlocks(r *rand.Rand, n, size int) []byte {
	b := make([]byte, n*size)
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	for i := 0; i < n; i++ {
		putScale(b[i*size:], float32(r.NormFloat64()*0.01))
	}
	return b
}

func dequantQ8(b []byte, n int) []float64 {
	out := make([]float64, n*32)
	for i := 0; i < n; i++ {
		d := float64(refScale(b[i*34:]))
		for j := 0; j < 32; j++ {
			out[i*32+j] = float64(int8(b[i*34+2+j])) * d
		}
	}
	return out
}

func dequantQ4(b []byte, n int) []float64 {
	out := make([]float64, n*32)
	for i := 0; i < n; i++ {
		d := float64(refScale(b[i*18:]))
		for j := 0; j < 16; j++ {
			out[i*32+j] = float64(int(b[i*18+2+j]&15)-8) * d
			out[i*32+j+16] = float64(int(b[i*18+2+j]>>4)-8) * d
		}
	}
	return out
}

// near reports whether got is within tol×(scale) of want.
func near(got, want float64, scale, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(scale, 1e-30)
}

// absDot is Σ|a·b|, the scale against which rounding error is judged.
func absDot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += math.Abs(a[i] * b[i])
	}
	return s
}

func eachKernel(t *testing.T, f func(t *testing.T, k *Kernel)) {
	for _, name := range Kernels() {
		k, _ := Lookup(name)
		t.Run(name, func(t *testing.T) { f(t, k) })
	}
}

func TestQuantizedDotsMatchGGMLFormula(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	eachKernel(t, func(t *testing.T, k *Kernel) {
		for _, n := range []int{0, 1, 2, 3, 7, 8, 64} {
			w8, w4, x := randBlocks(r, n, 34), randBlocks(r, n, 18), asActivations(randBlocks(r, n, 34))
			checkQuantized(t, k, w8, w4, x, n)
		}
	})
}

func checkQuantized(t *testing.T, k *Kernel, w8, w4, x []byte, n int) {
	t.Helper()
	xf := dequantQ8(x, n)
	cases := []struct {
		name string
		got  float32
		ref  float32
		w    []float64
	}{
		{"Q8_0", dotsOf(k, quant.Q8_0).X1(w8, x, n), refDotQ8_0(w8, x, n), dequantQ8(w8, n)},
		{"Q4_0", dotsOf(k, quant.Q4_0).X1(w4, x, n), refDotQ4_0Q8_0(w4, x, n), dequantQ4(w4, n)},
	}
	for _, c := range cases {
		exact := refDot64(c.w, xf)
		scale := absDot(c.w, xf)
		if k == Generic && math.Float32bits(c.got) != math.Float32bits(c.ref) {
			t.Errorf("%s n=%d: generic %v, ggml formula %v", c.name, n, c.got, c.ref)
		}
		if !near(float64(c.got), exact, scale, 1e-5) {
			t.Errorf("%s n=%d: got %v, exact %v (scale %v)", c.name, n, c.got, exact, scale)
		}
	}
}

func TestFloatDotsMatchFloat64(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	eachKernel(t, func(t *testing.T, k *Kernel) {
		for _, n := range []int{0, 1, 3, 4, 5, 31, 128, 1000} {
			checkFloat(t, k, r, n)
		}
	})
}

func checkFloat(t *testing.T, k *Kernel, r *rand.Rand, n int) {
	t.Helper()
	x := make([]float32, n)
	x64 := make([]float64, n)
	w := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
		x64[i] = float64(x[i])
		w[i] = float32(r.NormFloat64())
	}
	f32 := make([]byte, 4*n)
	h16 := make([]byte, 2*n)
	b16 := make([]byte, 2*n)
	w32, w16, wb := make([]float64, n), make([]float64, n), make([]float64, n)
	for i, v := range w {
		binary.LittleEndian.PutUint32(f32[4*i:], math.Float32bits(v))
		h := float16.Fromfloat32(v)
		binary.LittleEndian.PutUint16(h16[2*i:], uint16(h))
		bb := uint16(math.Float32bits(v) >> 16) // truncation: any bf16 value will do
		binary.LittleEndian.PutUint16(b16[2*i:], bb)
		w32[i], w16[i], wb[i] = float64(v), float64(h.Float32()), float64(math.Float32frombits(uint32(bb)<<16))
	}
	cases := []struct {
		name string
		got  float32
		w    []float64
	}{
		{"F32", dotsOf(k, quant.F32).Float(f32, x), w32},
		{"F16", dotsOf(k, quant.F16).Float(h16, x), w16},
		{"BF16", dotsOf(k, quant.BF16).Float(b16, x), wb},
		{"Dot", k.Dot(w, x), w32},
	}
	for _, c := range cases {
		exact := refDot64(c.w, x64)
		if !near(float64(c.got), exact, absDot(c.w, x64), 1e-6) {
			t.Errorf("%s n=%d: got %v, float64 %v", c.name, n, c.got, exact)
		}
	}
}

func TestUseSelectsAndRestores(t *testing.T) {
	before := Active()
	restore, err := Use("generic")
	if err != nil {
		t.Fatal(err)
	}
	if Active() != Generic {
		t.Errorf("active kernel %q, want generic", Active().Name)
	}
	restore()
	if Active() != before {
		t.Errorf("restore left %q active, want %q", Active().Name, before.Name)
	}
	if _, err := Use("no-such-kernel"); err == nil {
		t.Error("Use accepted an unknown kernel")
	}
}

// blocksFrom builds n blocks of the given size from fuzz data, with scales
// forced finite.
func blocksFrom(data []byte, n, size int) []byte {
	b := make([]byte, n*size)
	for i := range b {
		if len(data) > 0 {
			b[i] = data[i%len(data)] ^ byte(i*131)
		}
	}
	for i := 0; i < n; i++ {
		h := float16.Frombits(binary.LittleEndian.Uint16(b[i*size:]))
		if h.IsNaN() || h.IsInf(0) {
			putScale(b[i*size:], 1)
		}
	}
	return b
}

func FuzzFloatDots(f *testing.F) {
	f.Add([]byte{0, 0, 128, 63, 0, 0, 0, 64})
	f.Fuzz(func(t *testing.T, data []byte) {
		n := min(len(data)/4, 1000) // keeps every partial sum exact in float32
		w := make([]float32, n)
		x := make([]float32, n)
		for i := range w {
			w[i] = float32(int8(data[4*i])) / 16
			x[i] = float32(int8(data[4*i+1])) / 16
		}
		wb := make([]byte, 4*n)
		for i, v := range w {
			binary.LittleEndian.PutUint32(wb[4*i:], math.Float32bits(v))
		}
		var want float32
		for i := range w {
			want += w[i] * x[i] // small dyadic values: every order sums exactly
		}
		for _, name := range Kernels() {
			k, _ := Lookup(name)
			if got := dotsOf(k, quant.F32).Float(wb, x); got != want {
				t.Fatalf("%s DotF32 n=%d: got %v, want %v", name, n, got, want)
			}
			if got := k.Dot(w, x); got != want {
				t.Fatalf("%s Dot n=%d: got %v, want %v", name, n, got, want)
			}
		}
	})
}
