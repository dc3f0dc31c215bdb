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

// The four- and two-row kernels must give, for each activation row, exactly the
// float32 the same kernel's single-row function gives: prefill (four rows
// at a time) and decode (one row) then produce identical logits.

// multiFunc runs a multi-row kernel on len(xs) rows (given as blocks; the
// call adds their tails) and returns its results, in memory that starts
// each call nonzero (the kernel must overwrite it) and is reused by the
// next call.
type multiFunc func(w []byte, xs [][]byte, n int) []float32

type x4Case struct {
	name  string
	typ   quant.Type
	wsize int
	rows  int // 2 or 4
}

// single returns kernel k's single-row form of c's type.
func (c x4Case) single(k *Kernel) func(w, x []byte, n int) float32 { return dotsOf(k, c.typ).X1 }

// multi returns kernel k's c.rows-row form of c's type, or nil if it has
// none (its callers then loop over X1, or it has other forms).
func (c x4Case) multi(k *Kernel) multiFunc {
	d := dotsOf(k, c.typ)
	switch {
	case c.rows == 2 && d.X2 != nil:
		return x2Of(d.X2)
	case c.rows == 4 && d.X4 != nil:
		return x4Of(d.X4)
	}
	return nil
}

func x4Of(f func(w, x0, x1, x2, x3 []byte, n int, out *[4]float32)) multiFunc {
	out := new([4]float32)
	return func(w []byte, xs [][]byte, n int) []float32 {
		*out = [4]float32{1, 2, 3, 4}
		xs = withTails(xs, n)
		f(w, xs[0], xs[1], xs[2], xs[3], n, out)
		return out[:]
	}
}

func x2Of(f func(w, x0, x1 []byte, n int, out *[2]float32)) multiFunc {
	out := new([2]float32)
	return func(w []byte, xs [][]byte, n int) []float32 {
		*out = [2]float32{1, 2}
		xs = withTails(xs, n)
		f(w, xs[0], xs[1], n, out)
		return out[:]
	}
}

var x4Cases = []x4Case{
	{"Q8_0x4", quant.Q8_0, Q8_0Bytes, 4},
	{"Q4_0Q8_0x4", quant.Q4_0, Q4_0Bytes, 4},
	{"Q8_0x2", quant.Q8_0, Q8_0Bytes, 2},
	{"Q4_0Q8_0x2", quant.Q4_0, Q4_0Bytes, 2},
}

func allKernels() []*Kernel {
	var ks []*Kernel
	for _, name := range Kernels() {
		k, _ := Lookup(name)
		ks = append(ks, k)
	}
	return ks
}

// checkX4 compares one kernel's multi-row product with its single-row one.
func checkX4(t *testing.T, k *Kernel, c x4Case, w []byte, xs [4][]byte, n int) {
	t.Helper()
	f := c.multi(k)
	if f == nil {
		return
	}
	out := f(w, xs[:c.rows], n)
	for i, x := range xs[:c.rows] {
		if want := c.single(k)(w, x, n); math.Float32bits(out[i]) != math.Float32bits(want) {
			t.Errorf("%s %s n=%d row %d: %v (%#x), single-row %v (%#x)",
				k.Name, c.name, n, i, out[i], math.Float32bits(out[i]), want, math.Float32bits(want))
		}
	}
}

func TestX4KernelsEqualSingleRowKernelsOnEdgeData(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, k := range allKernels() {
		for _, c := range x4Cases {
			for _, n := range []int{0, 1, 2, 7, 64} {
				for _, wp := range patterns {
					for _, sc := range scales {
						off := r.IntN(4)
						w := makeBlocks(r, n, c.wsize, off, sc.bits, wp.fill)
						var xs [4][]byte
						var names [4]string
						for i := range xs {
							xp := patterns[r.IntN(len(patterns))]
							xsc := scales[r.IntN(len(scales))]
							xs[i] = asActivations(makeBlocks(r, n, Q8_0Bytes, (off+i+1)%4, xsc.bits, xp.fill))
							names[i] = xp.name + "@" + xsc.name
						}
						name := fmt.Sprintf("%s/%s/n=%d/w=%s/scale=%s/x=%v", k.Name, c.name, n, wp.name, sc.name, names)
						t.Run(name, func(t *testing.T) { checkX4(t, k, c, w, xs, n) })
					}
				}
			}
		}
	}
}

func TestX4KernelsEqualSingleRowKernelsOnRandomData(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, k := range allKernels() {
		for _, c := range x4Cases {
			for _, n := range []int{1, 3, 7, 8, 64, 192} {
				for range 4 {
					w := randBlocks(r, n, c.wsize)[:]
					var xs [4][]byte
					for i := range xs {
						xs[i] = randBlocks(r, n+1, Q8_0Bytes)[Q8_0Bytes/2:][:n*Q8_0Bytes]
						copy(xs[i], asActivations(randBlocks(r, n, Q8_0Bytes)))
					}
					checkX4(t, k, c, w, xs, n)
				}
			}
		}
	}
}

// Rows may alias: prefill of a repeated token, or one buffer passed twice.
func TestX4KernelsAcceptTheSameRowTwice(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, k := range allKernels() {
		for _, c := range x4Cases {
			n := 5
			w, x, y := randBlocks(r, n, c.wsize), asActivations(randBlocks(r, n, Q8_0Bytes)), asActivations(randBlocks(r, n, Q8_0Bytes))
			checkX4(t, k, c, w, [4][]byte{x, y, x, x}, n)
		}
	}
}

func TestX4KernelsPanicOnShortRows(t *testing.T) {
	for _, k := range allKernels() {
		for _, c := range x4Cases {
			if c.multi(k) == nil {
				continue
			}
			for row := -1; row < c.rows; row++ {
				xs := [4][]byte{make([]byte, 68), make([]byte, 68), make([]byte, 68), make([]byte, 68)}
				w := make([]byte, 2*c.wsize)
				if row < 0 {
					w = w[: 2*c.wsize-1 : 2*c.wsize-1]
				} else {
					xs[row] = xs[row][:67:67]
				}
				func() {
					defer func() {
						if recover() == nil {
							t.Errorf("%s %s short row %d: no panic", k.Name, c.name, row)
						}
					}()
					c.multi(k)(w, xs[:c.rows], 2)
				}()
			}
		}
	}
}

// fuzzX4 splits data into one weight row and four activation rows of n
// blocks each, with finite scales.
func fuzzX4(f *testing.F, c x4Case) {
	f.Add([]byte{})
	f.Add(make([]byte, 3*(c.wsize+4*Q8_0Bytes)))
	seed := make([]byte, 7*(c.wsize+4*Q8_0Bytes))
	for i := range seed {
		seed[i] = []byte{0x3c, 0x80, 0x7f, 0x81, 0xff, 0x00, 0x7b}[i%7]
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
		for _, k := range allKernels() {
			checkX4(t, k, c, w, xs, n)
		}
	})
}

// finiteScales returns a copy of the blocks of size bytes in b with NaN and
// infinite fp16 scales replaced by ±1.
func finiteScales(b []byte, size int) []byte {
	b = append([]byte(nil), b...)
	for i := 0; i+size <= len(b); i += size {
		if h := float16.Frombits(binary.LittleEndian.Uint16(b[i:])); h.IsNaN() || h.IsInf(0) {
			binary.LittleEndian.PutUint16(b[i:], 0x3c00|uint16(h)&0x8000)
		}
	}
	return b
}

func FuzzDotQ8_0x4(f *testing.F)     { fuzzX4(f, x4Cases[0]) }
func FuzzDotQ4_0Q8_0x4(f *testing.F) { fuzzX4(f, x4Cases[1]) }
func FuzzDotQ8_0x2(f *testing.F)     { fuzzX4(f, x4Cases[2]) }
func FuzzDotQ4_0Q8_0x2(f *testing.F) { fuzzX4(f, x4Cases[3]) }
