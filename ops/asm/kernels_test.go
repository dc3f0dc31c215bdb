package asm

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/q3m/q3m/quant"
	"github.com/x448/float16"
)

// These tests hold every kernel the machine has to the generic one. Integer
// block sums must be exact; the float accumulation may differ only by
// summation order, judged against the sum of the magnitudes of the terms.

// quantTol is the rounding allowed per unit of Σ|w·x|: far above what any
// summation order of up to 64 blocks produces, far below any real error
// (one wrong product in a block changes the sum by at least 1/(32·128²)
// of its magnitude).
const quantTol = 1e-5

// fill patterns for the quantized values of a block (after the scale).
var patterns = []struct {
	name string
	fill func(r *rand.Rand, q []byte)
}{
	{"zero", func(_ *rand.Rand, q []byte) { clear(q) }},
	{"random", func(r *rand.Rand, q []byte) {
		for i := range q {
			q[i] = byte(r.IntN(256))
		}
	}},
	{"+127", func(_ *rand.Rand, q []byte) { fillByte(q, 127) }},
	{"-128", func(_ *rand.Rand, q []byte) { fillByte(q, 0x80) }},
	{"-127", func(_ *rand.Rand, q []byte) { fillByte(q, 0x81) }},
	{"alternating", func(_ *rand.Rand, q []byte) {
		for i := range q {
			q[i] = []byte{0x7f, 0x80, 0x81, 0xff, 0x00, 0x01}[i%6]
		}
	}},
}

func fillByte(q []byte, v byte) {
	for i := range q {
		q[i] = v
	}
}

// scales are fp16 bit patterns: ordinary, negative, zero, largest finite,
// smallest subnormal and smallest normal.
var scales = []struct {
	name string
	bits func(r *rand.Rand) uint16
}{
	{"normal", func(r *rand.Rand) uint16 { return uint16(float16.Fromfloat32(float32(r.NormFloat64() * 0.01))) }},
	{"one", func(*rand.Rand) uint16 { return 0x3c00 }},
	{"zero", func(*rand.Rand) uint16 { return 0 }},
	{"max", func(r *rand.Rand) uint16 { return 0x7bff | uint16(r.IntN(2))<<15 }},
	{"subnormal", func(r *rand.Rand) uint16 { return 0x0001 | uint16(r.IntN(2))<<15 }},
	{"minnormal", func(*rand.Rand) uint16 { return 0x0400 }},
}

// makeBlocks returns n blocks of size bytes starting off bytes into a
// larger buffer, so that the kernels see unaligned rows.
func makeBlocks(r *rand.Rand, n, size, off int, scale func(*rand.Rand) uint16, fill func(*rand.Rand, []byte)) []byte {
	buf := make([]byte, off+n*size)
	b := buf[off:]
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint16(b[i*size:], scale(r))
		fill(r, b[i*size+2:(i+1)*size])
	}
	return b
}

// asActivations replaces -128 by -127 in the values of the Q8_0 blocks in
// x and returns x: quantized activations never hold -128
// (TestActivationValuesStayWithin127), and the Q8_0 kernels rely on it to
// move the weights' signs onto the activations (VPSIGNB) and multiply with
// VPMADDUBSW. Weights keep every int8, -128 included.
func asActivations(x []byte) []byte {
	for b := 0; b+Q8_0Bytes <= len(x); b += Q8_0Bytes {
		for i := b + 2; i < b+Q8_0Bytes; i++ {
			if x[i] == 0x80 {
				x[i] = 0x81
			}
		}
	}
	return x
}

func otherKernels(t testing.TB) []*Kernel {
	var ks []*Kernel
	for _, name := range Kernels() {
		if k, _ := Lookup(name); k != Generic {
			ks = append(ks, k)
		}
	}
	if len(ks) == 0 {
		t.Logf("only the generic kernel is available")
	}
	return ks
}

// checkQuantAgainstGeneric compares one kernel's quantized dots with the
// generic ones on the given blocks.
func checkQuantAgainstGeneric(t *testing.T, k *Kernel, w8, w4, x []byte, n int) {
	t.Helper()
	xf := dequantQ8(x, n)
	for _, c := range []struct {
		name      string
		got, want float32
		w         []float64
	}{
		{"DotQ8_0", dotsOf(k, quant.Q8_0).X1(w8, x, n), DotQ8_0(w8, x, n), dequantQ8(w8, n)},
		{"DotQ4_0Q8_0", dotsOf(k, quant.Q4_0).X1(w4, x, n), DotQ4_0Q8_0(w4, x, n), dequantQ4(w4, n)},
	} {
		scale := absDot(c.w, xf)
		if scale == 0 && c.got != 0 || !near(float64(c.got), float64(c.want), scale, quantTol) {
			t.Errorf("%s n=%d: %s %v, generic %v (Σ|terms| %v)", c.name, n, k.Name, c.got, c.want, scale)
		}
	}
}

func TestQuantizedKernelsMatchGenericOnEdgeData(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, k := range otherKernels(t) {
		for _, n := range []int{0, 1, 2, 7, 64} {
			for _, wp := range patterns {
				for _, xp := range patterns {
					for _, sc := range scales {
						off := r.IntN(4)
						name := fmt.Sprintf("%s/n=%d/w=%s/x=%s/scale=%s/off=%d", k.Name, n, wp.name, xp.name, sc.name, off)
						w8 := makeBlocks(r, n, Q8_0Bytes, off, sc.bits, wp.fill)
						w4 := makeBlocks(r, n, Q4_0Bytes, 3-off, sc.bits, wp.fill)
						x := asActivations(makeBlocks(r, n, Q8_0Bytes, (off+1)%4, sc.bits, xp.fill))
						t.Run(name, func(t *testing.T) { checkQuantAgainstGeneric(t, k, w8, w4, x, n) })
					}
				}
			}
		}
	}
}

// With unit scales and at most 16 blocks every partial sum is an integer
// below 2^24, so any summation order gives the same float32: the integer
// block sums must be exact, including for -128 weights.
func TestQuantizedKernelsExactWithUnitScales(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	one := func(*rand.Rand) uint16 { return 0x3c00 }
	for _, k := range otherKernels(t) {
		for _, n := range []int{1, 3, 16} {
			for _, wp := range patterns {
				for _, xp := range patterns {
					w8 := makeBlocks(r, n, Q8_0Bytes, 1, one, wp.fill)
					w4 := makeBlocks(r, n, Q4_0Bytes, 0, one, wp.fill)
					x := asActivations(makeBlocks(r, n, Q8_0Bytes, 2, one, xp.fill))
					if got, want := dotsOf(k, quant.Q8_0).X1(w8, x, n), DotQ8_0(w8, x, n); got != want {
						t.Errorf("%s DotQ8_0 n=%d w=%s x=%s: %v, generic %v", k.Name, n, wp.name, xp.name, got, want)
					}
					if got, want := dotsOf(k, quant.Q4_0).X1(w4, x, n), DotQ4_0Q8_0(w4, x, n); got != want {
						t.Errorf("%s DotQ4_0Q8_0 n=%d w=%s x=%s: %v, generic %v", k.Name, n, wp.name, xp.name, got, want)
					}
				}
			}
		}
	}
}

func TestQuantizedKernelsPanicOnShortRows(t *testing.T) {
	for _, name := range Kernels() {
		k, _ := Lookup(name)
		for _, c := range []struct {
			name string
			f    func()
		}{
			{"Q8_0 short w", func() { dotsOf(k, quant.Q8_0).X1(make([]byte, 33), make([]byte, 34), 1) }},
			{"Q8_0 short x", func() { dotsOf(k, quant.Q8_0).X1(make([]byte, 68), make([]byte, 67), 2) }},
			{"Q4_0 short w", func() { dotsOf(k, quant.Q4_0).X1(make([]byte, 17), make([]byte, 34), 1) }},
			{"Q4_0 short x", func() { dotsOf(k, quant.Q4_0).X1(make([]byte, 18), make([]byte, 33), 1) }},
		} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s %s: no panic", name, c.name)
					}
				}()
				c.f()
			}()
		}
	}
}

func TestFloatKernelsMatchGenericOnUnalignedRows(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, k := range otherKernels(t) {
		for _, n := range []int{0, 1, 7, 8, 9, 31, 32, 33, 100, 2048} {
			for off := 0; off < 4; off++ {
				w := make([]float32, n+1)[1:]
				x := make([]float32, n+1)[off%2:][:n]
				f32 := make([]byte, off+4*n)[off:]
				h16 := make([]byte, off+2*n)[off:]
				b16 := make([]byte, off+2*n)[off:]
				w64, h64, b64, x64 := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
				for i := range x {
					w[i], x[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
					binary.LittleEndian.PutUint32(f32[4*i:], math.Float32bits(w[i]))
					binary.LittleEndian.PutUint16(h16[2*i:], uint16(r.Uint32()&0x7fff|0x8000*uint32(r.IntN(2)))&^0x4000)
					binary.LittleEndian.PutUint16(b16[2*i:], uint16(math.Float32bits(w[i])>>16))
					w64[i], x64[i] = float64(w[i]), float64(x[i])
					h64[i] = float64(refScale(h16[2*i:]))
					b64[i] = float64(math.Float32frombits(uint32(binary.LittleEndian.Uint16(b16[2*i:])) << 16))
				}
				for _, c := range []struct {
					name      string
					got, want float32
					w         []float64
				}{
					{"DotF32", dotsOf(k, quant.F32).Float(f32, x), DotF32(f32, x), w64},
					{"DotF16F32", dotsOf(k, quant.F16).Float(h16, x), DotF16F32(h16, x), h64},
					{"DotBF16F32", dotsOf(k, quant.BF16).Float(b16, x), DotBF16F32(b16, x), b64},
					{"Dot", k.Dot(w, x), Dot(w, x), w64},
				} {
					if !near(float64(c.got), float64(c.want), absDot(c.w, x64), 1e-5) {
						t.Errorf("%s %s n=%d off=%d: %v, generic %v", k.Name, c.name, n, off, c.got, c.want)
					}
				}
			}
		}
	}
}

// fuzzBlocks splits fuzz data into n weight blocks of wsize bytes and n
// Q8_0 activation blocks, replacing NaN and infinite scales (whose sums
// depend on the order of accumulation) by ±1.
func fuzzBlocks(data []byte, wsize int) (w, x []byte, n int) {
	n = min(len(data)/(wsize+Q8_0Bytes), 64)
	w = append([]byte(nil), data[:n*wsize]...)
	x = asActivations(append([]byte(nil), data[n*wsize:n*(wsize+Q8_0Bytes)]...))
	for _, b := range []struct {
		buf  []byte
		size int
	}{{w, wsize}, {x, Q8_0Bytes}} {
		for i := 0; i < n; i++ {
			if s := b.buf[i*b.size:]; float16.Frombits(binary.LittleEndian.Uint16(s)).IsNaN() ||
				float16.Frombits(binary.LittleEndian.Uint16(s)).IsInf(0) {
				binary.LittleEndian.PutUint16(s, 0x3c00|binary.LittleEndian.Uint16(s)&0x8000)
			}
		}
	}
	return w, x, n
}

func fuzzQuantized(f *testing.F, wsize int, generic func(w, x []byte, n int) float32,
	ref func(w, x []byte, n int) float32, kernel func(*Kernel) func(w, x []byte, n int) float32,
	dequant func([]byte, int) []float64) {
	f.Add([]byte{})
	f.Add(make([]byte, 3*(wsize+Q8_0Bytes)))
	seed := make([]byte, 7*(wsize+Q8_0Bytes))
	for i := range seed {
		seed[i] = []byte{0x3c, 0x80, 0x7f, 0x81, 0xff, 0x00, 0x7b}[i%7]
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		w, x, n := fuzzBlocks(data, wsize)
		want := generic(w, x, n)
		if r := ref(w, x, n); math.Float32bits(r) != math.Float32bits(want) {
			t.Fatalf("generic n=%d: %v, ggml formula %v", n, want, r)
		}
		scale := absDot(dequant(w, n), dequantQ8(x, n))
		for _, k := range otherKernels(t) {
			if got := kernel(k)(w, x, n); !near(float64(got), float64(want), scale, quantTol) {
				t.Fatalf("%s n=%d: %v, generic %v (Σ|terms| %v)", k.Name, n, got, want, scale)
			}
		}
	})
}

func FuzzDotQ8_0(f *testing.F) {
	fuzzQuantized(f, Q8_0Bytes, DotQ8_0, refDotQ8_0,
		func(k *Kernel) func(w, x []byte, n int) float32 { return dotsOf(k, quant.Q8_0).X1 }, dequantQ8)
}

func FuzzDotQ4_0Q8_0(f *testing.F) {
	fuzzQuantized(f, Q4_0Bytes, DotQ4_0Q8_0, refDotQ4_0Q8_0,
		func(k *Kernel) func(w, x []byte, n int) float32 { return dotsOf(k, quant.Q4_0).X1 }, dequantQ4)
}

// dotsOf returns kernel k's dot products for t (empty if none).
func dotsOf(k *Kernel, t quant.Type) Dots {
	d, _ := k.Dots(t)
	return d
}
