//go:build !purego

package asm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/q3m/q3m/quant"
)

// The four-row decode forms give, for each weight row, exactly the float32
// of the single-row form (and so of the lane models).

type r4Func func(w []byte, stride int, x []byte, n int, out *[4]float32)

type r4Case struct {
	name  string
	typ   quant.Type
	wsize int
	avx2  r4Func // nil: none
	r4    r4Func // AVX-512
}

var r4Cases = []r4Case{
	{"Q8_0", quant.Q8_0, Q8_0Bytes, dotQ8_0R4AVX2, dotQ8_0R4AVX512},
	{"Q4_0Q8_0", quant.Q4_0, Q4_0Bytes, dotQ4_0Q8_0R4AVX2, dotQ4_0Q8_0R4AVX512},
}

// r4Routines returns c's four-row routines this machine runs, by the name
// of the kernel whose single-row form each must equal.
func r4Routines(c r4Case) map[*Kernel]r4Func {
	m := map[*Kernel]r4Func{}
	if useAVX2 && c.avx2 != nil {
		m[AVX2] = c.avx2
	}
	if useAVX512 {
		m[AVX512] = c.r4
	}
	return m
}

// checkR4 compares the R4 form of every kernel that has one with its X1
// form, and each routine of r4Routines with its kernel's X1.
func checkR4(t *testing.T, c r4Case, w []byte, stride int, x []byte, n int) {
	t.Helper()
	type form struct {
		r4 func([]byte, int, []byte, int, *[4]float32)
		x1 func([]byte, []byte, int) float32
	}
	forms := map[string]form{}
	for k, f := range r4Routines(c) {
		forms[k.Name] = form{f, dotsOf(k, c.typ).X1}
	}
	for _, k := range allKernels() {
		if d := dotsOf(k, c.typ); d.R4 != nil {
			forms[k.Name+" Dots.R4"] = form{d.R4, d.X1}
		}
	}
	for name, f := range forms {
		out := [4]float32{1, 2, 3, 4}
		f.r4(w, stride, x, n, &out)
		for i := range out {
			want := f.x1(w[i*stride:], x, n)
			if math.Float32bits(out[i]) != math.Float32bits(want) {
				t.Errorf("%s %s r4 n=%d stride=%d row %d: %v (%#x), single-row %v (%#x)", name, c.name, n, stride, i,
					out[i], math.Float32bits(out[i]), want, math.Float32bits(want))
			}
		}
	}
}

func TestR4KernelsEqualSingleRowOnEdgeData(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(31, 32))
	for _, c := range r4Cases {
		for _, n := range []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 64} {
			for _, xp := range patterns {
				for _, sc := range scales {
					rb := n * c.wsize
					stride := rb + r.IntN(3)
					// Four rows, each of its own weight pattern and scale.
					w := make([]byte, 3*stride+rb)
					for i := range 4 {
						wp, wsc := patterns[r.IntN(len(patterns))], scales[r.IntN(len(scales))]
						copy(w[i*stride:], makeBlocks(r, n, c.wsize, 0, wsc.bits, wp.fill))
					}
					x := asActivations(makeBlocks(r, n, Q8_0Bytes, r.IntN(4), sc.bits, xp.fill))
					t.Run(fmt.Sprintf("%s/n=%d/x=%s@%s", c.name, n, xp.name, sc.name),
						func(t *testing.T) { checkR4(t, c, w, stride, x, n) })
				}
			}
		}
	}
}

func TestR4KernelsEqualSingleRowOnRandomData(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(33, 34))
	for _, c := range r4Cases {
		for n := 1; n <= 70; n += 1 + n/8 {
			stride := n*c.wsize + r.IntN(40)
			w := randBlocks(r, 4*stride/c.wsize+1, c.wsize)
			x := asActivations(randBlocks(r, n, Q8_0Bytes))
			checkR4(t, c, w, stride, x, n)
		}
	}
}

func TestR4KernelsPanicOnShortRows(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2")
	}
	for _, c := range r4Cases {
		for k, r4 := range r4Routines(c) {
			for _, f := range []func(){
				func() { r4(make([]byte, 4*2*c.wsize-1), 2*c.wsize, make([]byte, 68), 2, new([4]float32)) },
				func() { r4(make([]byte, 4*2*c.wsize), 2*c.wsize, make([]byte, 67), 2, new([4]float32)) },
			} {
				func() {
					defer func() {
						if recover() == nil {
							t.Errorf("%s %s: no panic on a short row", k.Name, c.name)
						}
					}()
					f()
				}()
			}
		}
	}
}

func fuzzR4(f *testing.F, c r4Case) {
	f.Add([]byte{}, uint8(0))
	seed := make([]byte, 9*(4*c.wsize+Q8_0Bytes))
	for i := range seed {
		seed[i] = []byte{0x3c, 0x80, 0x7f, 0x81, 0xff, 0x00, 0x7b, 0x01}[i%8]
	}
	f.Add(seed, uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, pad uint8) {
		if !useAVX2 {
			t.Skip("no AVX2")
		}
		n := min(len(data)/(4*c.wsize+Q8_0Bytes), 64)
		stride := n*c.wsize + int(pad%8)
		w := make([]byte, 3*stride+n*c.wsize)
		for i := range 4 {
			copy(w[i*stride:], finiteScales(data[i*n*c.wsize:(i+1)*n*c.wsize], c.wsize))
		}
		x := asActivations(finiteScales(data[4*n*c.wsize:4*n*c.wsize+n*Q8_0Bytes], Q8_0Bytes))
		checkR4(t, c, w, stride, x, n)
	})
}

func FuzzR4Q8_0(f *testing.F)     { fuzzR4(f, r4Cases[0]) }
func FuzzR4Q4_0Q8_0(f *testing.F) { fuzzR4(f, r4Cases[1]) }

// BenchmarkDecodeR4 compares one weight row per call (x1) with four rows
// per call (r4) for decode products read from memory, for each kernel the
// machine runs: eight 4096×2048 matrices in turn, one thread. MB/s counts
// weight bytes.
func BenchmarkDecodeR4(b *testing.B) {
	if !useAVX2 {
		b.Skip("no AVX2")
	}
	const rows, cols, mats = 4096, 2048, 8
	r := rand.New(rand.NewPCG(35, 36))
	nb := cols / QK
	x := asActivations(randBlocks(r, nb, Q8_0Bytes))
	for _, c := range r4Cases {
		rb := nb * c.wsize
		ms := make([][]byte, mats)
		for i := range ms {
			ms[i] = randBlocks(r, rows*nb, c.wsize)
		}
		for k, r4 := range r4Routines(c) {
			for _, form := range []string{"x1", "r4"} {
				b.Run(c.name+"/"+k.Name+"/"+form, func(b *testing.B) {
					x1 := dotsOf(k, c.typ).X1
					var out [4]float32
					var sink float32
					b.SetBytes(int64(rows * rb))
					i := 0
					for b.Loop() {
						m := ms[i%mats]
						i++
						if form == "r4" {
							for j := 0; j < rows; j += 4 {
								r4(m[j*rb:], rb, x, nb, &out)
								sink += out[0]
							}
							continue
						}
						for j := range rows {
							sink += x1(m[j*rb:], x, nb)
						}
					}
					_ = sink
				})
			}
		}
	}
}
