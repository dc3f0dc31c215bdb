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

// scaleOffsets lists where the fp16 scales of a weight block are, so that
// random blocks can get finite, moderate scales.
var scaleOffsets = map[quant.Type][]int{
	quant.Q8_0: {0}, quant.Q4_0: {0}, quant.Q4_1: {0, 2}, quant.Q5_0: {0}, quant.Q5_1: {0, 2},
	quant.IQ4_NL: {0}, quant.Q2_K: {80, 82}, quant.Q3_K: {108}, quant.Q4_K: {0, 2},
	quant.Q5_K: {0, 2}, quant.Q6_K: {208}, quant.IQ4_XS: {0},
}

// quantizedTypes returns the table's weight types with quantized
// activations.
func quantizedTypes() []quant.Type {
	var ts []quant.Type
	for _, t := range Types() {
		if tr, _ := TypeTraits(t); tr.Quantized() {
			ts = append(ts, t)
		}
	}
	return ts
}

// randWeights returns n random blocks of type t with scales drawn by scale.
func randWeights(r *rand.Rand, t quant.Type, n int, scale func() float32) []byte {
	size := t.BlockBytes()
	b := make([]byte, n*size)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	for i := range n {
		for _, o := range scaleOffsets[t] {
			binary.LittleEndian.PutUint16(b[i*size+o:], uint16(float16.Fromfloat32(scale())))
		}
	}
	return b
}

// randActivations returns n blocks of the activation type of t, quantized
// from random values of varied magnitude.
func randActivations(r *rand.Rand, t quant.Type, n int) ([]byte, []float32) {
	tr, _ := TypeTraits(t)
	x := make([]float32, n*t.BlockSize())
	for i := range x {
		x[i] = float32(r.NormFloat64() * math.Exp(r.NormFloat64()))
	}
	xq := make([]byte, tr.ActivationBytes(len(x)))
	tr.Quantize(xq, x)
	return xq, x
}

// Every kernel's dot products for every quantized type of the table agree
// with the float64 product of the dequantized weights and activations.
// The observed worst relative error (against Σ|terms|) is about 3e-7; the
// bound allows for float32 scales and accumulation of up to 24 blocks.
func TestDotsOfEveryTypeMatchFloat64Reference(t *testing.T) {
	const tol = 2e-6
	r := rand.New(rand.NewPCG(21, 22))
	worst := 0.0
	for _, typ := range quantizedTypes() {
		tr, _ := TypeTraits(typ)
		for _, n := range []int{0, 1, 2, 3, 8, 24} {
			for trial := range 6 {
				w := randWeights(r, typ, n, func() float32 { return float32(r.NormFloat64() * 0.05) })
				x, _ := randActivations(r, typ, n)
				want, mag := refDotBound(typ, tr.Activation, w, x, n)
				for _, k := range allKernels() {
					d, _ := k.Dots(typ)
					got := float64(d.X1(w, x, n))
					if math.Abs(got-want) > tol*mag+1e-30 {
						t.Errorf("%s %s n=%d trial %d: %v, float64 %v (Σ|terms| %v)", k.Name, typ, n, trial, got, want, mag)
					}
					if mag > 0 {
						worst = max(worst, math.Abs(got-want)/mag)
					}
				}
			}
		}
	}
	t.Logf("worst |Δ|/Σ|terms| = %.3g", worst)
}

// A kernel that has its own version of a type gives the generic result
// bit for bit, and its multi-row forms equal its single-row form.
func TestKernelsEqualGenericTwinAndTheirSingleRowForm(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for _, typ := range quantizedTypes() {
		g, _ := Generic.Dots(typ)
		for _, n := range []int{1, 3, 16} {
			w := randWeights(r, typ, n, func() float32 { return float32(r.NormFloat64() * 0.05) })
			var xs [4][]byte
			for i := range xs {
				xs[i], _ = randActivations(r, typ, n)
			}
			for _, k := range allKernels() {
				d, _ := k.Dots(typ)
				one := [4]float32{}
				for i, x := range xs {
					one[i] = d.X1(w, x, n)
					if typ != quant.Q8_0 && typ != quant.Q4_0 { // those two are held to a tolerance (kernels_test.go)
						if want := g.X1(w, x, n); math.Float32bits(one[i]) != math.Float32bits(want) {
							t.Errorf("%s %s n=%d: %v, generic %v", k.Name, typ, n, one[i], want)
						}
					}
				}
				if d.X4 != nil {
					var out [4]float32
					d.X4(w, xs[0], xs[1], xs[2], xs[3], n, &out)
					if out != one {
						t.Errorf("%s %s x4 n=%d: %v, single-row %v", k.Name, typ, n, out, one)
					}
				}
				if d.X2 != nil {
					var out [2]float32
					d.X2(w, xs[0], xs[1], n, &out)
					if out != [2]float32(one[:2]) {
						t.Errorf("%s %s x2 n=%d: %v, single-row %v", k.Name, typ, n, out, one[:2])
					}
				}
			}
		}
	}
}

func TestDotsPanicOnShortRows(t *testing.T) {
	for _, typ := range quantizedTypes() {
		tr, _ := TypeTraits(typ)
		wb, xb := typ.BlockBytes(), tr.Activation.BlockBytes()
		for _, k := range allKernels() {
			d, _ := k.Dots(typ)
			for _, c := range []struct {
				name string
				w, x []byte
			}{
				{"short w", make([]byte, 2*wb-1), make([]byte, 2*xb)},
				{"short x", make([]byte, 2*wb), make([]byte, 2*xb-1)},
			} {
				func() {
					defer func() {
						if recover() == nil {
							t.Errorf("%s %s %s: no panic", k.Name, typ, c.name)
						}
					}()
					d.X1(c.w, c.x, 2)
				}()
			}
		}
	}
}

// FuzzQuantizedDots feeds arbitrary weight and activation bytes (non-finite
// fp16 scales replaced) to every quantized type: no panic, every kernel
// equal to the generic twin, and the generic twin near the float64
// reference when the activations are a quantizer's output.
func FuzzQuantizedDots(f *testing.F) {
	f.Add(byte(0), []byte{})
	for i := range quantizedTypes() {
		seed := make([]byte, 700)
		for j := range seed {
			seed[j] = []byte{0x3c, 0x80, 0x7f, 0x81, 0xff, 0x00, 0x7b}[j%7]
		}
		f.Add(byte(i), seed)
	}
	f.Fuzz(func(t *testing.T, sel byte, data []byte) {
		ts := quantizedTypes()
		typ := ts[int(sel)%len(ts)]
		tr, _ := TypeTraits(typ)
		wb := typ.BlockBytes()
		n := min(len(data)/wb, 8)
		w := append([]byte(nil), data[:n*wb]...)
		for i := range n {
			for _, o := range scaleOffsets[typ] {
				if h := float16.Frombits(binary.LittleEndian.Uint16(w[i*wb+o:])); h.IsNaN() || h.IsInf(0) {
					binary.LittleEndian.PutUint16(w[i*wb+o:], 0x3c00)
				}
			}
		}
		// Activations: the fuzz bytes after the weights as float32s.
		xf := make([]float32, n*typ.BlockSize())
		rest := data[n*wb:]
		for i := range xf {
			if 4*i+4 <= len(rest) {
				xf[i] = math.Float32frombits(binary.LittleEndian.Uint32(rest[4*i:]))
			} else {
				xf[i] = float32(i%7) - 3
			}
			if v := xf[i]; v != v || math.IsInf(float64(v), 0) || math.Abs(float64(v)) > 1e30 {
				xf[i] = 1
			}
		}
		x := make([]byte, tr.ActivationBytes(len(xf)))
		tr.Quantize(x, xf)
		g, _ := Generic.Dots(typ)
		want := g.X1(w, x, n)
		for _, k := range allKernels() {
			d, _ := k.Dots(typ)
			if got := d.X1(w, x, n); math.Float32bits(got) != math.Float32bits(want) && typ != quant.Q8_0 && typ != quant.Q4_0 {
				t.Fatalf("%s %s n=%d: %v, generic %v", k.Name, typ, n, got, want)
			}
		}
		// The float64 check needs blocks of comparable scale: ggml's
		// super-block dots accumulate each block's products in float32
		// lanes (and so do the kernels, bit for bit: testdata/fuzz's
		// b1ddcd410119ae28 gives -204.758789 in ggml's vec_dot too), so a
		// block scaled ~2^40 above the next loses the next one's share
		// even when its own terms cancel to nothing.
		if blockScaleSpread(xf, typ.BlockSize()) > 1<<20 {
			return
		}
		ref, mag := refDotBound(typ, tr.Activation, w, x, n)
		if !math.IsInf(mag, 0) && math.Abs(float64(want)-ref) > 1e-5*mag+1e-30 && !math.IsInf(float64(want), 0) {
			t.Fatalf("%s n=%d: %v, float64 %v (Σ|terms| %v)", typ, n, want, ref, mag)
		}
	})
}

// blockScaleSpread returns the ratio of the largest block's largest |x|
// to the smallest nonzero such value among the blocks of bs values.
func blockScaleSpread(x []float32, bs int) float64 {
	lo, hi := math.Inf(1), 0.0
	for b := 0; b+bs <= len(x); b += bs {
		m := 0.0
		for _, v := range x[b : b+bs] {
			m = max(m, math.Abs(float64(v)))
		}
		if m > 0 {
			lo, hi = min(lo, m), max(hi, m)
		}
	}
	if hi == 0 {
		return 1
	}
	return hi / lo
}

func benchTypeName(t quant.Type) string { return fmt.Sprintf("%s", t) }

// Kernels with their own loops for a type equal the generic twin bit for
// bit on raw blocks too: every weight byte pattern, activations of any
// int8 and Q8_K bsums of any int16. -128 is included where the weights are
// the unsigned operand of VPMADDUBSW (the products stay exact); Q5_0,
// IQ4_NL and IQ4_XS weights are signed, their signs move onto the
// activations (VPSIGNB, as ggml does), and there the kernels rely on the
// quantizers' [-127, 127]. (Q8_0 and Q4_0 are held to a tolerance in
// kernels_test.go.)
func TestKernelsEqualGenericOnRawBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	fills := []func(b []byte){
		func(b []byte) {
			for i := range b {
				b[i] = byte(r.Uint32())
			}
		},
		func(b []byte) { fillByte(b, 0xff) },
		func(b []byte) { fillByte(b, 0x00) },
		func(b []byte) { fillByte(b, 0x80) },
		func(b []byte) { fillByte(b, 0x7f) },
	}
	signed := map[quant.Type]bool{quant.Q5_0: true, quant.IQ4_NL: true, quant.IQ4_XS: true}
	for _, typ := range quantizedTypes() {
		if typ == quant.Q8_0 || typ == quant.Q4_0 {
			continue
		}
		tr, _ := TypeTraits(typ)
		ab := tr.Activation.BlockBytes()
		g, _ := Generic.Dots(typ)
		for _, k := range allKernels() {
			if !k.Implements(typ) {
				continue
			}
			d, _ := k.Dots(typ)
			for _, n := range []int{1, 2, 5} {
				for wi, wf := range fills {
					for xi, xf := range fills {
						w := make([]byte, n*typ.BlockBytes())
						wf(w)
						x := make([]byte, n*ab)
						xf(x)
						for b := range n {
							for _, o := range scaleOffsets[typ] {
								binary.LittleEndian.PutUint16(w[b*typ.BlockBytes()+o:], uint16(float16.Fromfloat32(float32(r.NormFloat64()*0.1))))
							}
							xb := x[b*ab : (b+1)*ab]
							vals := xb[2:]
							switch tr.Activation {
							case quant.Q8_K:
								binary.LittleEndian.PutUint32(xb, math.Float32bits(float32(r.NormFloat64()*0.01)))
								vals = xb[4 : 4+QKK]
							case quant.Q8_1:
								binary.LittleEndian.PutUint16(xb[2:], uint16(float16.Fromfloat32(float32(r.NormFloat64()))))
								vals = xb[4:]
								fallthrough
							default:
								binary.LittleEndian.PutUint16(xb, uint16(float16.Fromfloat32(float32(r.NormFloat64()*0.01))))
							}
							for i, v := range vals {
								if signed[typ] && v == 0x80 {
									vals[i] = 0x81
								}
							}
						}
						got, want := d.X1(w, x, n), g.X1(w, x, n)
						if math.Float32bits(got) != math.Float32bits(want) {
							t.Errorf("%s %s n=%d fill w%d x%d: %v, generic %v", k.Name, typ, n, wi, xi, got, want)
						}
					}
				}
			}
		}
	}
}
