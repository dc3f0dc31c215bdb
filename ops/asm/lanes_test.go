package asm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/q3m/q3m/quant"
)

// laneKernels are the kernels whose products of the listed types, in
// every form (X1, X2, X4), follow dotQ8_0Lanes and dotQ4_0Q8_0Lanes bit
// for bit: the AVX-512 kernel (the AVX2 one follows the chain models,
// chains_test.go).
var laneKernels = map[string][]quant.Type{"avx512vnni": {quant.Q8_0, quant.Q4_0}}

// followsLanes reports whether kernel k's products of typ follow the lane
// model.
func followsLanes(k *Kernel, typ quant.Type) bool { return slices.Contains(laneKernels[k.Name], typ) }

type laneCase struct {
	name  string
	typ   quant.Type
	wsize int
	model func(w, x []byte, n int) float32
	ref   func(w, x []byte, n int) float32
	deq   func([]byte, int) []float64
}

var laneCases = []laneCase{
	{"Q8_0", quant.Q8_0, Q8_0Bytes, dotQ8_0Lanes, refDotQ8_0, dequantQ8},
	{"Q4_0Q8_0", quant.Q4_0, Q4_0Bytes, dotQ4_0Q8_0Lanes, refDotQ4_0Q8_0, dequantQ4},
}

// laneKernelsHere returns the kernels of this machine whose products of
// typ follow the lane model.
func laneKernelsHere(t testing.TB, typ quant.Type) []*Kernel {
	var ks []*Kernel
	for _, k := range allKernels() {
		if followsLanes(k, typ) {
			ks = append(ks, k)
		}
	}
	if len(ks) == 0 {
		t.Logf("no kernel following the lane model of %s on this machine (have %v)", typ, Kernels())
	}
	return ks
}

// checkLanes compares kernel k's X1, X2 and X4 products of w with the rows
// xs with the lane model, bit for bit.
func checkLanes(t *testing.T, k *Kernel, c laneCase, w []byte, xs [4][]byte, n int) {
	t.Helper()
	var want [4]float32
	for i, x := range xs {
		want[i] = c.model(w, x, n)
	}
	d := dotsOf(k, c.typ)
	var got2 [2]float32
	got4 := [4]float32{1, 2, 3, 4}
	got2 = [2]float32{5, 6}
	tx := withTails(xs[:], n)
	d.X2(w, tx[0], tx[1], n, &got2)
	d.X4(w, tx[0], tx[1], tx[2], tx[3], n, &got4)
	for _, g := range []struct {
		form string
		row  int
		got  float32
	}{
		{"X1", 0, d.X1(w, xs[0], n)}, {"X1", 3, d.X1(w, xs[3], n)},
		{"X2", 0, got2[0]}, {"X2", 1, got2[1]},
		{"X4", 0, got4[0]}, {"X4", 1, got4[1]}, {"X4", 2, got4[2]}, {"X4", 3, got4[3]},
	} {
		if math.Float32bits(g.got) != math.Float32bits(want[g.row]) {
			t.Errorf("%s %s %s n=%d row %d: %v (%#x), lane model %v (%#x)", k.Name, c.name, g.form, n, g.row,
				g.got, math.Float32bits(g.got), want[g.row], math.Float32bits(want[g.row]))
		}
	}
}

// The lane models are independent of the kernels' code only if they are
// right: within rounding of ggml's formula, and exact where every partial
// sum is an integer below 2^24 (unit scales, at most 16 blocks), which
// checks their integer lane sums for every weight and activation pattern.
func TestLaneModelsMatchGGMLFormula(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	one := func(*rand.Rand) uint16 { return 0x3c00 }
	for _, c := range laneCases {
		for _, n := range []int{0, 1, 2, 3, 16} {
			for _, wp := range patterns {
				for _, xp := range patterns {
					w := makeBlocks(r, n, c.wsize, 0, one, wp.fill)
					x := asActivations(makeBlocks(r, n, Q8_0Bytes, 0, one, xp.fill))
					if got, want := c.model(w, x, n), c.ref(w, x, n); got != want {
						t.Errorf("%s n=%d w=%s x=%s: model %v, ggml formula %v", c.name, n, wp.name, xp.name, got, want)
					}
				}
			}
		}
		for _, n := range []int{1, 7, 64, 200} {
			w, x := randBlocks(r, n, c.wsize), asActivations(randBlocks(r, n, Q8_0Bytes))
			scale := absDot(c.deq(w, n), dequantQ8(x, n))
			if got, want := c.model(w, x, n), c.ref(w, x, n); !near(float64(got), float64(want), scale, quantTol) {
				t.Errorf("%s n=%d random: model %v, ggml formula %v (Σ|terms| %v)", c.name, n, got, want, scale)
			}
		}
	}
}

// Extreme blocks: activations ±127 and -128 weights, zero, largest,
// subnormal and smallest normal scales, every block count around the
// kernels' four-, two- and one-block steps, rows at odd addresses.
func TestAmd64KernelsFollowLaneModelsOnEdgeData(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for _, c := range laneCases {
		for _, k := range laneKernelsHere(t, c.typ) {
			for _, n := range []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 64} {
				for _, wp := range patterns {
					for _, sc := range scales {
						off := r.IntN(4)
						w := makeBlocks(r, n, c.wsize, off, sc.bits, wp.fill)
						var xs [4][]byte
						var names [4]string
						for i := range xs {
							xp, xsc := patterns[r.IntN(len(patterns))], scales[r.IntN(len(scales))]
							xs[i] = asActivations(makeBlocks(r, n, Q8_0Bytes, (off+i+1)%4, xsc.bits, xp.fill))
							names[i] = xp.name + "@" + xsc.name
						}
						t.Run(fmt.Sprintf("%s/%s/n=%d/w=%s@%s/x=%v", k.Name, c.name, n, wp.name, sc.name, names),
							func(t *testing.T) { checkLanes(t, k, c, w, xs, n) })
					}
				}
			}
		}
	}
}

func TestAmd64KernelsFollowLaneModelsOnRandomData(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	for _, c := range laneCases {
		for _, k := range laneKernelsHere(t, c.typ) {
			for n := 1; n <= 70; n += 1 + n/8 {
				w := randBlocks(r, n, c.wsize)
				var xs [4][]byte
				for i := range xs {
					xs[i] = asActivations(randBlocks(r, n, Q8_0Bytes))
				}
				checkLanes(t, k, c, w, xs, n)
			}
		}
	}
}

// fuzzLanes splits data into one weight row and four activation rows of n
// blocks each, with finite scales.
func fuzzLanes(f *testing.F, c laneCase) {
	f.Add([]byte{})
	f.Add(make([]byte, 5*(c.wsize+4*Q8_0Bytes)))
	seed := make([]byte, 9*(c.wsize+4*Q8_0Bytes))
	for i := range seed {
		seed[i] = []byte{0x3c, 0x80, 0x7f, 0x81, 0xff, 0x00, 0x7b, 0x01}[i%8]
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		n := min(len(data)/(c.wsize+4*Q8_0Bytes), 64)
		w := finiteScales(data[:n*c.wsize], c.wsize)
		var xs [4][]byte
		for i := range xs {
			lo := n * (c.wsize + i*Q8_0Bytes)
			xs[i] = asActivations(finiteScales(data[lo:lo+n*Q8_0Bytes], Q8_0Bytes))
		}
		for _, k := range laneKernelsHere(t, c.typ) {
			checkLanes(t, k, c, w, xs, n)
		}
	})
}

func FuzzLanesQ8_0(f *testing.F)     { fuzzLanes(f, laneCases[0]) }
func FuzzLanesQ4_0Q8_0(f *testing.F) { fuzzLanes(f, laneCases[1]) }
