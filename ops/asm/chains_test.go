package asm

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/q3m/q3m/quant"
)

// The chain models (generic_chains.go) are followed bit for bit, in every
// form, by the neon-i8mm and AVX2 kernels' Q8_0 and Q4_0 products; the
// models are held to a float64 reference written from ggml's
// dequantization.

// chainKernels are the kernels whose products of the listed types follow
// the chain models.
var chainKernels = map[string][]quant.Type{"neon-i8mm": {quant.Q8_0, quant.Q4_0}, "avx2": {quant.Q8_0, quant.Q4_0}}

// chainKernelsHere returns the kernels of this machine whose products of
// typ follow the chain model.
func chainKernelsHere(t testing.TB, typ quant.Type) []*Kernel {
	var ks []*Kernel
	for _, k := range allKernels() {
		if slices.Contains(chainKernels[k.Name], typ) {
			ks = append(ks, k)
		}
	}
	if len(ks) == 0 {
		t.Logf("no kernel following the chain model of %s on this machine (have %v)", typ, Kernels())
	}
	return ks
}

// signMoveKernels take the Q8_0 weights' signs onto the activations
// (VPSIGNB), exact for quantized activations, which lie in [-127, 127]:
// their Q8_0 products are checked on activations without -128.
var signMoveKernels = []string{"avx2"}

// quantizedRows returns a copy of the eight rows of n activation blocks
// stride bytes apart at x with every value -128 made -127.
func quantizedRows(x []byte, stride, n int) []byte {
	x = slices.Clone(x)
	for i := range 8 {
		asActivations(x[i*stride : i*stride+n*Q8_0Bytes])
	}
	return x
}

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

// sameResult reports whether got is want bit for bit, or both are NaN: the
// models do not follow the hardware's choice of NaN payload (the forms are
// held to each other's NaNs bit for bit).
func sameResult(got, want float32) bool {
	return math.Float32bits(got) == math.Float32bits(want) || got != got && want != want
}

// checkChains compares every form of kernel k's product of w with the
// eight activation rows of n blocks stride bytes apart at x: X1 with the
// model, X2, X4, X8 and G8 (on the rows' group, and on the group of their
// first five) with X1 bit for bit, those the kernel has.
func checkChains(t *testing.T, k *Kernel, c chainCase, w, x []byte, stride, n int) {
	t.Helper()
	if c.typ == quant.Q8_0 && slices.Contains(signMoveKernels, k.Name) {
		x = quantizedRows(x, stride, n)
	}
	d := dotsOf(k, c.typ)
	row := func(i int) []byte { return x[i*stride:] }
	var one [8]float32
	for i := range one {
		one[i] = d.X1(w, row(i), n)
		if want := c.model(w, row(i), n); !sameResult(one[i], want) {
			t.Errorf("%s %s X1 n=%d row %d: %v (%#x), chain model %v (%#x)", k.Name, c.name, n, i,
				one[i], math.Float32bits(one[i]), want, math.Float32bits(want))
		}
	}
	type form struct {
		name string
		got  [8]float32
		rows int // the rows it computed, the first ones
	}
	var forms []form
	fresh := func() [8]float32 { return [8]float32{1, 2, 3, 4, 5, 6, 7, 8} } // each form must overwrite its output
	if d.X8 != nil {
		f := form{"X8", fresh(), 8}
		d.X8(w, x, stride, n, &f.got)
		forms = append(forms, f)
	}
	if d.X4 != nil {
		f := form{"X4", fresh(), 8}
		for h := range 2 {
			d.X4(w, row(4*h), row(4*h+1), row(4*h+2), row(4*h+3), n, (*[4]float32)(f.got[4*h:]))
		}
		forms = append(forms, f)
	}
	if d.X2 != nil {
		f := form{"X2", fresh(), 8}
		for p := range 4 {
			d.X2(w, row(2*p), row(2*p+1), n, (*[2]float32)(f.got[2*p:]))
		}
		forms = append(forms, f)
	}
	if d.G8 != nil {
		g := make([]byte, Group8Bytes(n))
		f := form{"G8", fresh(), 8}
		Group8(g, x, stride, 8, n)
		d.G8(w, g, n, &f.got)
		forms = append(forms, f)
		// Five rows: the rest of the group is zeros, whose products are +0.
		f = form{"G8 of five", fresh(), 5}
		Group8(g, x, stride, 5, n)
		d.G8(w, g, n, &f.got)
		for i := 5; i < 8; i++ {
			if math.Float32bits(f.got[i]) != 0 && !(f.got[i] != f.got[i]) {
				t.Errorf("%s %s G8 of five rows n=%d: row %d of zeros gives %v", k.Name, c.name, n, i, f.got[i])
			}
		}
		forms = append(forms, f)
	}
	for _, f := range forms {
		for i, want := range one[:f.rows] {
			if math.Float32bits(f.got[i]) != math.Float32bits(want) {
				t.Errorf("%s %s %s n=%d stride %d row %d: %v (%#x), X1 %v (%#x)", k.Name, c.name, f.name, n, stride, i,
					f.got[i], math.Float32bits(f.got[i]), want, math.Float32bits(want))
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
// activations included (the kernels' integer sums are exact for every
// int8, but for the Q8_0 products of signMoveKernels, checked without
// them); block counts around the two- and four-block steps; unaligned
// rows and strides from overlapping (0) to apart.
func TestKernelsFollowChainModelsOnEdgeData(t *testing.T) {
	r := rand.New(rand.NewPCG(85, 86))
	for _, c := range chainCases {
		for _, k := range chainKernelsHere(t, c.typ) {
			for _, n := range []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 33} {
				for _, wp := range chainPatterns {
					for _, sc := range x8q8Scales {
						w := makeBlocks(r, n, c.wsize, r.IntN(4), sc.bits, wp.fill)
						stride := []int{0, n * Q8_0Bytes, n*Q8_0Bytes + 1 + r.IntN(5)}[r.IntN(3)]
						x := x8Activations(n, stride, r.IntN(4), func(int) []byte {
							xp, xsc := chainPatterns[r.IntN(len(chainPatterns))], x8q8Scales[r.IntN(len(x8q8Scales))]
							return makeBlocks(r, n, Q8_0Bytes, 0, xsc.bits, xp.fill)
						})
						t.Run(fmt.Sprintf("%s/%s/n=%d/w=%s@%s", k.Name, c.name, n, wp.name, sc.name),
							func(t *testing.T) { checkChains(t, k, c, w, x, stride, n) })
					}
				}
			}
		}
	}
}

func TestKernelsFollowChainModelsOnRandomData(t *testing.T) {
	r := rand.New(rand.NewPCG(87, 88))
	for _, c := range chainCases {
		for _, k := range chainKernelsHere(t, c.typ) {
			for n := 1; n <= 70; n += 1 + n/8 {
				w := randBlocks(r, n, c.wsize)
				stride := n*Q8_0Bytes + r.IntN(40)
				x := x8Activations(n, stride, 0, func(int) []byte { return randBlocks(r, n, Q8_0Bytes) })
				checkChains(t, k, c, w, x, stride, n)
			}
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
		for _, k := range chainKernelsHere(t, c.typ) {
			checkChains(t, k, c, w, x, stride, n)
		}
	})
}

func FuzzChainsQ8_0(f *testing.F)     { fuzzChains(f, chainCases[0]) }
func FuzzChainsQ4_0Q8_0(f *testing.F) { fuzzChains(f, chainCases[1]) }

// Group8 writes what its Go form writes, byte for byte, on rows of every
// value pattern and scale (infinities and NaN included), for block counts
// around the assembly's one-block step and strides from overlapping (0)
// to apart; and its layout is the one the kernels read: dword j of row t
// at 32·j + 4·t, the scale, 8·Σx.
func TestGroup8MatchesGoForm(t *testing.T) {
	r := rand.New(rand.NewPCG(89, 90))
	for _, n := range []int{1, 2, 3, 24, 64} {
		for range 8 {
			stride := []int{0, n * Q8_0Bytes, n*Q8_0Bytes + 1 + r.IntN(40)}[r.IntN(3)]
			x := x8Activations(n, stride, r.IntN(4), func(int) []byte {
				xp, xsc := chainPatterns[r.IntN(len(chainPatterns))], x8q8Scales[r.IntN(len(x8q8Scales))]
				return makeBlocks(r, n, Q8_0Bytes, 0, xsc.bits, xp.fill)
			})
			got, want := make([]byte, Group8Bytes(n)), make([]byte, Group8Bytes(n))
			for i := range got {
				got[i], want[i] = 0xaa, 0x55
			}
			Group8(got, x, stride, 8, n)
			group8(want, x, stride, 8, n)
			if !slices.Equal(got, want) {
				i := 0
				for got[i] == want[i] {
					i++
				}
				t.Fatalf("n=%d stride %d: byte %d (block %d, offset %d) is %#x, Go form %#x", n, stride, i, i/group8Block, i%group8Block, got[i], want[i])
			}
			for b := range n {
				for row := range 8 {
					xb := x[row*stride+b*Q8_0Bytes:]
					g := want[b*group8Block:]
					var sum int32
					for j := range 32 {
						if g[32*(j/4)+4*row+j%4] != xb[2+j] {
							t.Fatalf("n=%d block %d row %d: value %d misplaced", n, b, row, j)
						}
						sum += int32(int8(xb[2+j]))
					}
					if s := int32(binary.LittleEndian.Uint32(g[288+4*row:])); s != 8*sum {
						t.Fatalf("n=%d block %d row %d: 8·Σx %d, want %d", n, b, row, s, 8*sum)
					}
					if d, want := math.Float32frombits(binary.LittleEndian.Uint32(g[256+4*row:])), f16(xb); !sameResult(d, want) {
						t.Fatalf("n=%d block %d row %d: scale %v, want %v", n, b, row, d, want)
					}
				}
			}
		}
	}
}
