package asm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/q3m/q3m/quant"
)

// The neon-i8mm kernel's Q8_0 and Q4_0 products, in every form, follow the
// chain models (generic_chains.go) bit for bit; the models are held to a
// float64 reference written from ggml's dequantization.

type chainCase struct {
	name  string
	typ   quant.Type
	wsize int
	model func(w, x []byte, n int) float32
}

var chainCases = []chainCase{
	{"Q8_0", quant.Q8_0, Q8_0Bytes, dotQ8_0Chains},
	{"Q4_0Q8_0", quant.Q4_0, Q4_0Bytes, dotQ4_0Q8_0Chains},
}

// chainPatterns are patterns plus one holding, in every run of 16 bytes,
// every nibble in both halves of a byte (every Q4_0 weight value).
var chainPatterns = append(patterns[:len(patterns):len(patterns)], struct {
	name string
	fill func(r *rand.Rand, q []byte)
}{"nibbles", func(r *rand.Rand, q []byte) {
	o := r.IntN(16)
	for i := range q {
		v := (i + o) % 16
		q[i] = byte(v | (15-v)<<4)
	}
}})

// i8mmKernel returns the neon-i8mm kernel, skipping t where the machine
// cannot run it.
func i8mmKernel(t testing.TB) *Kernel {
	k, ok := Lookup("neon-i8mm")
	if !ok {
		t.Skipf("no neon-i8mm kernel here (have %v)", Kernels())
	}
	return k
}

// sameResult reports whether got is want bit for bit, or both are NaN: the
// models do not follow the hardware's choice of NaN payload (the forms are
// held to each other's NaNs bit for bit).
func sameResult(got, want float32) bool {
	return math.Float32bits(got) == math.Float32bits(want) || got != got && want != want
}

// checkChains compares every form of kernel k's product of w with the
// eight activation rows of n blocks stride bytes apart at x: X1 with the
// model, X2, X4 and X8 with X1 bit for bit.
func checkChains(t *testing.T, k *Kernel, c chainCase, w, x []byte, stride, n int) {
	t.Helper()
	d := dotsOf(k, c.typ)
	row := func(i int) []byte { return x[i*stride:] }
	var one [8]float32
	for i := range one {
		one[i] = d.X1(w, row(i), n)
		if want := c.model(w, row(i), n); !sameResult(one[i], want) {
			t.Errorf("%s X1 n=%d row %d: %v (%#x), chain model %v (%#x)", c.name, n, i,
				one[i], math.Float32bits(one[i]), want, math.Float32bits(want))
		}
	}
	got8 := [8]float32{1, 2, 3, 4, 5, 6, 7, 8} // each form must overwrite its output
	d.X8(w, x, stride, n, &got8)
	var got4 [2][4]float32
	var got2 [4][2]float32
	for h := range got4 {
		got4[h] = [4]float32{9, 9, 9, 9}
		d.X4(w, row(4*h), row(4*h+1), row(4*h+2), row(4*h+3), n, &got4[h])
	}
	for p := range got2 {
		got2[p] = [2]float32{9, 9}
		d.X2(w, row(2*p), row(2*p+1), n, &got2[p])
	}
	for i, want := range one {
		for _, g := range []struct {
			form string
			got  float32
		}{{"X8", got8[i]}, {"X4", got4[i/4][i%4]}, {"X2", got2[i/2][i%2]}} {
			if math.Float32bits(g.got) != math.Float32bits(want) {
				t.Errorf("%s %s n=%d stride %d row %d: %v (%#x), X1 %v (%#x)", c.name, g.form, n, stride, i,
					g.got, math.Float32bits(g.got), want, math.Float32bits(want))
			}
		}
	}
}

// The models sum each block's products exactly: with unit scales and at
// most 16 blocks every partial sum is an integer below 2^24, so they equal
// the float64 reference exactly, for every byte pattern, -128 activations
// and all nibbles included.
func TestChainModelsAreExactOnIntegerData(t *testing.T) {
	r := rand.New(rand.NewPCG(81, 82))
	one := func(*rand.Rand) uint16 { return 0x3c00 }
	for _, c := range chainCases {
		for _, n := range []int{0, 1, 2, 3, 16} {
			for _, wp := range chainPatterns {
				for _, xp := range chainPatterns {
					w := makeBlocks(r, n, c.wsize, 0, one, wp.fill)
					x := makeBlocks(r, n, Q8_0Bytes, 0, one, xp.fill)
					want, _ := refDotBound(c.typ, quant.Q8_0, w, x, n)
					if got := c.model(w, x, n); float64(got) != want {
						t.Errorf("%s n=%d w=%s x=%s: model %v, exact %v", c.name, n, wp.name, xp.name, got, want)
					}
				}
			}
		}
	}
}

// chainTol bounds |model − float64 reference| / Σ|terms| on random rows of
// up to 200 blocks; observed worst 2.6e-8 (Q8_0) and 2.2e-8 (Q4_0) over
// these seeds. One rounding per block (the fused multiply-add; the scale
// product of two fp16 values is exact in float32) and one for the final
// sum bound it by about (n/2 + 1)·2^-24.
const chainTol = 1e-7

func TestChainModelsMatchFloat64Reference(t *testing.T) {
	r := rand.New(rand.NewPCG(83, 84))
	for _, c := range chainCases {
		var worst float64
		for _, n := range []int{1, 2, 7, 64, 200} {
			for range 20 {
				w, x := randBlocks(r, n, c.wsize), randBlocks(r, n, Q8_0Bytes)
				want, mag := refDotBound(c.typ, quant.Q8_0, w, x, n)
				got := c.model(w, x, n)
				rel := math.Abs(float64(got)-want) / mag
				worst = max(worst, rel)
				if rel > chainTol {
					t.Errorf("%s n=%d: model %v, float64 %v (|Δ|/Σ|terms| %.3g)", c.name, n, got, want, rel)
				}
			}
		}
		t.Logf("%s: worst |Δ|/Σ|terms| %.3g", c.name, worst)
	}
}

// Edge blocks: every weight pattern and scale (zero, largest, subnormal,
// infinite, NaN) against eight rows of random patterns and scales, -128
// activations included (the kernel's integer sums are exact for every
// int8); block counts around the two-block step; unaligned rows and
// strides from overlapping (0) to apart.
func TestNEONI8MMFollowsChainModelsOnEdgeData(t *testing.T) {
	k := i8mmKernel(t)
	r := rand.New(rand.NewPCG(85, 86))
	for _, c := range chainCases {
		for _, n := range []int{0, 1, 2, 3, 4, 5, 8, 9, 33} {
			for _, wp := range chainPatterns {
				for _, sc := range x8q8Scales {
					w := makeBlocks(r, n, c.wsize, r.IntN(4), sc.bits, wp.fill)
					stride := []int{0, n * Q8_0Bytes, n*Q8_0Bytes + 1 + r.IntN(5)}[r.IntN(3)]
					x := x8Activations(n, stride, r.IntN(4), func(int) []byte {
						xp, xsc := chainPatterns[r.IntN(len(chainPatterns))], x8q8Scales[r.IntN(len(x8q8Scales))]
						return makeBlocks(r, n, Q8_0Bytes, 0, xsc.bits, xp.fill)
					})
					t.Run(fmt.Sprintf("%s/n=%d/w=%s@%s", c.name, n, wp.name, sc.name),
						func(t *testing.T) { checkChains(t, k, c, w, x, stride, n) })
				}
			}
		}
	}
}

func TestNEONI8MMFollowsChainModelsOnRandomData(t *testing.T) {
	k := i8mmKernel(t)
	r := rand.New(rand.NewPCG(87, 88))
	for _, c := range chainCases {
		for n := 1; n <= 70; n += 1 + n/8 {
			w := randBlocks(r, n, c.wsize)
			stride := n*Q8_0Bytes + r.IntN(40)
			x := x8Activations(n, stride, 0, func(int) []byte { return randBlocks(r, n, Q8_0Bytes) })
			checkChains(t, k, c, w, x, stride, n)
		}
	}
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

// fuzzChains splits data into a weight row and eight activation rows of n
// blocks each, gap bytes apart, every byte kept as it is.
func fuzzChains(f *testing.F, c chainCase) {
	f.Add([]byte{}, uint8(0))
	seed := make([]byte, 9*(c.wsize+8*Q8_0Bytes))
	for i := range seed {
		seed[i] = []byte{0x3c, 0x80, 0x7f, 0x81, 0xff, 0x00, 0x7b, 0x01, 0x7c, 0x0f}[i%10]
	}
	f.Add(seed, uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, gap uint8) {
		n := min(len(data)/(c.wsize+8*Q8_0Bytes), 64)
		w := data[:n*c.wsize]
		stride := n*Q8_0Bytes + int(gap%8)
		x := x8Activations(n, stride, 0, func(i int) []byte {
			lo := n * (c.wsize + i*Q8_0Bytes)
			return data[lo : lo+n*Q8_0Bytes]
		})
		checkChains(t, i8mmKernel(t), c, w, x, stride, n)
	})
}

func FuzzNEONI8MMQ8_0(f *testing.F)     { fuzzChains(f, chainCases[0]) }
func FuzzNEONI8MMQ4_0Q8_0(f *testing.F) { fuzzChains(f, chainCases[1]) }
