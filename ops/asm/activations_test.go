package asm

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/q3m/q3m/quant"
)

// llamaQuantizeQ8_1 is llama.cpp's AVX2 quantize_row_q8_1 written
// plainly: scale 127/amax, round to nearest with ties to even, s = d·Σq.
func llamaQuantizeQ8_1(x []float32) []byte {
	out := make([]byte, len(x)/32*36)
	for b := 0; b < len(x)/32; b++ {
		var amax float64
		for _, f := range x[b*32 : b*32+32] {
			amax = math.Max(amax, math.Abs(float64(f)))
		}
		a := float32(amax)
		var id float32
		if a != 0 {
			id = 127 / a
		}
		d := a / 127
		sum := 0
		for j, f := range x[b*32 : b*32+32] {
			q := int(math.RoundToEven(float64(f * id)))
			out[b*36+4+j] = byte(int8(q))
			sum += q
		}
		binary.LittleEndian.PutUint16(out[b*36:], quant.ToF16(d))
		binary.LittleEndian.PutUint16(out[b*36+2:], quant.ToF16(d*float32(sum)))
	}
	return out
}

// llamaQuantizeQ8_K is ggml's quantize_row_q8_K_ref written plainly.
func llamaQuantizeQ8_K(x []float32) []byte {
	out := make([]byte, len(x)/256*292)
	for b := 0; b < len(x)/256; b++ {
		o := out[b*292:]
		var amax, mx float32
		for _, f := range x[b*256 : b*256+256] {
			if float32(math.Abs(float64(f))) > amax {
				amax, mx = float32(math.Abs(float64(f))), f
			}
		}
		if amax == 0 {
			continue
		}
		iscale := -127 / mx
		for j := range 16 {
			sum := 0
			for i := 16 * j; i < 16*j+16; i++ {
				q := min(127, int(math.RoundToEven(float64(iscale*x[b*256+i]))))
				o[4+i] = byte(int8(q))
				sum += q
			}
			binary.LittleEndian.PutUint16(o[260+2*j:], uint16(int16(sum)))
		}
		binary.LittleEndian.PutUint32(o, math.Float32bits(1/iscale))
	}
	return out
}

// activationInputs returns rows of n values that exercise rounding: exact
// halves at scale 1, magnitudes over many decades, ties, zero blocks and
// a block whose largest magnitude is negative.
func activationInputs(n int) []float32 {
	r := rand.New(rand.NewPCG(31, 32))
	var x []float32
	for len(x) < 8*n {
		x = append(x, 127)
		for k := -126; k < 126 && len(x)%n != 0; k++ {
			h := float32(k) + 0.5
			x = append(x, h, math.Nextafter32(h, -200), math.Nextafter32(h, 200))
		}
		for len(x)%n != 0 {
			x = append(x, 0.25)
		}
	}
	for range 64 * n {
		x = append(x, float32(r.NormFloat64()*math.Exp(r.NormFloat64()*3)))
	}
	x = append(x, make([]float32, n)...)
	neg := make([]float32, n)
	for i := range neg {
		neg[i] = float32(i%9) - 3
	}
	neg[n/2] = -100
	return append(x, neg...)
}

func TestActivationQuantizersMatchLlamaCpp(t *testing.T) {
	for _, c := range []struct {
		name  string
		block int
		got   func(dst []byte, x []float32)
		want  func(x []float32) []byte
		size  int
	}{
		{"Q8_0", 32, QuantizeQ8_0, nil, Q8_0Bytes},
		{"Q8_1", 32, QuantizeQ8_1, llamaQuantizeQ8_1, Q8_1Bytes},
		{"Q8_K", 256, QuantizeQ8_K, llamaQuantizeQ8_K, Q8_KBytes},
	} {
		if c.want == nil {
			continue // Q8_0: ops/vector_test.go compares it with llama.cpp's
		}
		x := activationInputs(c.block)
		want := c.want(x)
		got := make([]byte, len(want))
		c.got(got, x)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: byte %d of block %d: got %#x, want %#x", c.name, i%c.size, i/c.size, got[i], want[i])
			}
		}
	}
}

// Quantized activations lie in [-127, 127] for any input: kernels multiply
// them with VPMADDUBSW after moving weight signs onto them, where -128
// would overflow.
func TestActivationValuesStayWithin127(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), math.MaxFloat32,
		-math.MaxFloat32, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, 0, -0.0, 1e-38, -1e38}
	for _, tr := range []Traits{table[quant.Q8_0], table[quant.Q4_1], table[quant.Q4_K]} {
		n := tr.Activation.BlockSize()
		for trial := range 300 {
			x := make([]float32, n)
			for i := range x {
				switch trial % 3 {
				case 0:
					x[i] = special[r.IntN(len(special))]
				case 1:
					x[i] = float32(r.NormFloat64() * math.Exp(r.NormFloat64()*20))
				default:
					x[i] = -float32(r.IntN(3)) * 1e-40
				}
			}
			dst := make([]byte, tr.ActivationBytes(n))
			tr.Quantize(dst, x)
			off := map[quant.Type]int{quant.Q8_0: 2, quant.Q8_1: 4, quant.Q8_K: 4}[tr.Activation]
			for i, v := range dst[off : off+n] {
				if int8(v) == -128 {
					t.Fatalf("%s trial %d: value %d is -128 (input %v)", tr.Activation, trial, i, x[i])
				}
			}
			if tr.Activation == quant.Q8_K {
				for j := range 16 {
					sum := 0
					for _, v := range dst[4+16*j : 4+16*j+16] {
						sum += int(int8(v))
					}
					if got := int(int16(binary.LittleEndian.Uint16(dst[260+2*j:]))); got != sum {
						t.Fatalf("Q8_K trial %d: bsums[%d] = %d, values sum to %d", trial, j, got, sum)
					}
				}
			}
		}
	}
}

// FuzzActivationQuantizers quantizes arbitrary float32 bits with every
// activation quantizer: no panic, values in [-127, 127], and equal to
// llama.cpp's for finite input whose blocks are not all but zero.
func FuzzActivationQuantizers(f *testing.F) {
	f.Add([]byte{0, 0, 0x80, 0x7f, 0, 0, 0xc0, 0x7f, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, data []byte) {
		x := make([]float32, 256)
		finite := true
		for i := range x {
			if 4*i+4 <= len(data) {
				x[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
			}
			finite = finite && !math.IsNaN(float64(x[i])) && !math.IsInf(float64(x[i]), 0)
		}
		// Where a block's largest magnitude is below 127/MaxFloat32, 127/amax
		// overflows and llama.cpp's values are garbage (-128 and truncated
		// ints); q3m clamps them. Compare only rows without such blocks.
		for b := 0; b < len(x); b += 32 {
			var amax float64
			for _, v := range x[b : b+32] {
				amax = math.Max(amax, math.Abs(float64(v)))
			}
			finite = finite && (amax == 0 || amax > 1e-30)
		}
		for _, c := range []struct {
			name              string
			q                 func([]byte, []float32)
			ref               func([]float32) []byte
			values, size, off int
		}{
			{"Q8_0", QuantizeQ8_0, nil, 32, Q8_0Bytes, 2},
			{"Q8_1", QuantizeQ8_1, llamaQuantizeQ8_1, 32, Q8_1Bytes, 4},
			{"Q8_K", QuantizeQ8_K, llamaQuantizeQ8_K, 256, Q8_KBytes, 4},
		} {
			nb := len(x) / c.values
			dst := make([]byte, nb*c.size)
			c.q(dst, x)
			for b := range nb {
				for i, v := range dst[b*c.size+c.off : b*c.size+c.off+c.values] {
					if int8(v) == -128 {
						t.Fatalf("%s: value %d of block %d is -128", c.name, i, b)
					}
				}
			}
			if finite && c.ref != nil {
				if want := c.ref(x); string(want) != string(dst) {
					t.Fatalf("%s differs from llama.cpp:\n%x\n%x", c.name, dst, want)
				}
			}
		}
	})
}

// halfwayProducts returns values f for which f·s, rounded to float32, is
// exactly a half-integer while the exact product is not: rounding the
// rounded product to even (llama.cpp) and rounding the exact product (what
// a fused multiply-add would do) disagree on them.
func halfwayProducts(s float32) []float32 {
	var fs []float32
	for k := -120; k < 120; k++ {
		h := float64(k) + 0.5
		f0 := float32(h / float64(s))
		f := f0
		for range 8 {
			f = math.Nextafter32(f, -1000)
		}
		for range 16 {
			p := float64(f) * float64(s)
			if float64(float32(p)) == h && p != h && math.Abs(float64(f)) < 100 {
				fs = append(fs, f)
			}
			f = math.Nextafter32(f, 1000)
		}
	}
	return fs
}

// The quantizers round the float32 product x·(127/amax) (or x·iscale) to
// an integer, as llama.cpp does, not the exact product: a compiler that
// fused the two (Go does on arm64 unless told not to) fails here.
func TestActivationQuantizersRoundTheRoundedProduct(t *testing.T) {
	const amax = 100
	id := float32(127) / amax
	fs := halfwayProducts(id)
	if len(fs) < 10 {
		t.Fatalf("only %d halfway products found", len(fs))
	}
	for _, f := range fs {
		x := make([]float32, 256)
		x[0], x[1] = amax, f
		want := int8(math.RoundToEven(float64(float32(float64(f) * float64(id)))))
		q0 := make([]byte, 8*Q8_0Bytes)
		QuantizeQ8_0(q0, x)
		q1 := make([]byte, 8*Q8_1Bytes)
		QuantizeQ8_1(q1, x)
		if int8(q0[3]) != want || int8(q1[5]) != want {
			t.Errorf("x = %v at amax %v: Q8_0 %d, Q8_1 %d, want %d", f, amax, int8(q0[3]), int8(q1[5]), want)
		}
	}
	iscale := float32(-127) / amax
	for _, f := range halfwayProducts(iscale) {
		x := make([]float32, 256)
		x[0], x[1] = amax, f
		want := int8(math.RoundToEven(float64(float32(float64(f) * float64(iscale)))))
		qk := make([]byte, Q8_KBytes)
		QuantizeQ8_K(qk, x)
		if int8(qk[5]) != want {
			t.Errorf("x = %v at max %v: Q8_K %d, want %d", f, amax, int8(qk[5]), want)
		}
	}
}

// q8KRows returns rows of 256 values that stress the Q8_K quantizer: zero
// and negative-zero blocks, ±MaxFloat32, infinities and NaN, subnormal
// maxima (whose scale overflows to infinity), largest magnitudes repeated
// with both signs and placed last, and products at exact halves.
func q8KRows(r *rand.Rand) [][]float32 {
	fill := func(f func(i int) float32) []float32 {
		x := make([]float32, QKK)
		for i := range x {
			x[i] = f(i)
		}
		return x
	}
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	rows := [][]float32{
		fill(func(int) float32 { return 0 }),
		fill(func(int) float32 { return float32(math.Copysign(0, -1)) }),
		fill(func(i int) float32 { return []float32{math.MaxFloat32, -math.MaxFloat32}[i%2] }),
		fill(func(i int) float32 { return []float32{-math.MaxFloat32, math.MaxFloat32, 1, -1e-30}[i%4] }),
		fill(func(i int) float32 { return math.Float32frombits(uint32(i) + 1) }),
		fill(func(i int) float32 { return -math.Float32frombits(uint32(i)*0x3000 + 1) }),
		fill(func(i int) float32 {
			return []float32{math.SmallestNonzeroFloat32, 0, -math.SmallestNonzeroFloat32}[i%3]
		}),
		fill(func(i int) float32 { return []float32{nan, 1, -2, inf}[i%4] }),
		fill(func(i int) float32 { return []float32{nan, -inf, 0, 5}[i%4] }),
		fill(func(int) float32 { return nan }),
		fill(func(i int) float32 { return []float32{nan, 0}[i%2] }),
		fill(func(i int) float32 { return float32(i%255) - 127 }),
		fill(func(i int) float32 { return float32(i%254)/2 - 63.25 }),
		fill(func(i int) float32 { return float32(i) + 0.5 }),
		fill(func(i int) float32 { return -float32(i) - 0.5 }),
		fill(func(i int) float32 { return float32(i%7) * []float32{1, -1}[i/128] }),
	}
	// Largest magnitude only at the end, or first negative then positive.
	last := fill(func(i int) float32 { return float32(r.NormFloat64()) })
	last[QKK-1] = -50
	rows = append(rows, last)
	both := fill(func(i int) float32 { return float32(r.NormFloat64()) })
	both[100], both[200] = -9, 9
	rows = append(rows, both)
	// Values whose products with the scale are halves once rounded.
	for _, amax := range []float32{100, 3, 1e-20, 7e30} {
		hs := halfwayProducts(-127 / amax)
		for len(hs) > 0 {
			x := make([]float32, QKK)
			x[0] = amax
			n := copy(x[1:], hs)
			hs = hs[n:]
			rows = append(rows, x)
		}
	}
	// NaN with payloads (which survive multiplication) at random places,
	// the last ones included, among ordinary values.
	for k := range 32 {
		x := fill(func(int) float32 { return float32(r.NormFloat64()) })
		for range 1 + k%8 {
			x[r.IntN(QKK)] = math.Float32frombits(0x7f800001 + r.Uint32N(0x7fffff) | r.Uint32N(2)<<31)
		}
		x[QKK-1-k] = math.Float32frombits(0xffc00000 | uint32(k))
		rows = append(rows, x)
		// The largest magnitude at k, then NaN in every later position
		// that a SIMD lane shares with it.
		y := fill(func(int) float32 { return float32(r.NormFloat64()) })
		y[k] = -60
		for i := k + 8; i < QKK; i += 8 {
			y[i] = float32(math.NaN())
		}
		rows = append(rows, y)
	}
	for range 200 {
		scale := math.Exp(r.NormFloat64() * 20)
		rows = append(rows, fill(func(int) float32 { return float32(r.NormFloat64() * scale) }))
	}
	return rows
}

// f16TieScales returns block maxima amax whose scale amax/127, rounded to
// float32, lies halfway between two fp16 values (normal and subnormal),
// where the rounding of the fp16 conversion decides.
func f16TieScales() []float32 {
	var out []float32
	for _, bits := range []uint32{0x3f801000, 0x3f803000, 0x40001000, 0x3a002000, 0x33800000, 0x33c00000, 0x35001000, 0x477fe000, 0x477ff000} {
		d := math.Float32frombits(bits)
		for a := math.Nextafter32(d*127, 0); a <= math.Nextafter32(d*127, 1e38); a = math.Nextafter32(a, 1e38) {
			if a/127 == d {
				out = append(out, a)
			}
		}
	}
	return out
}

// quantizerRows returns q8KRows plus rows whose 32-value blocks have the
// maxima of f16TieScales.
func quantizerRows(r *rand.Rand) [][]float32 {
	rows := q8KRows(r)
	ties := f16TieScales()
	for len(ties) > 0 {
		x := make([]float32, QKK)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		for b := 0; b < QKK/QK && len(ties) > 0; b++ {
			x[b*QK+r.IntN(QK)] = ties[0] * []float32{1, -1}[b%2]
			for i := b * QK; i < (b+1)*QK; i++ {
				x[i] = max(-ties[0], min(ties[0], x[i]*ties[0]))
			}
			ties = ties[1:]
		}
		rows = append(rows, x)
	}
	return rows
}

// activationQuantizers are the quantizers with assembly, each beside its Go
// oracle.
var activationQuantizers = []struct {
	name          string
	q, generic    func([]byte, []float32)
	values, bytes int
}{
	{"Q8_0", QuantizeQ8_0, quantizeQ8_0Generic, QK, Q8_0Bytes},
	{"Q8_K", QuantizeQ8_K, quantizeQ8_KGeneric, QKK, Q8_KBytes},
}

// The assembly quantizers (where the machine has them) write the bytes
// the Go ones write, for every row and for rows of many blocks.
func TestActivationQuantizersMatchGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	rows := quantizerRows(r)
	if n := len(f16TieScales()); n < 9 {
		t.Fatalf("only %d fp16 tie scales", n)
	}
	for _, c := range activationQuantizers {
		var all []float32
		size := QKK / c.values * c.bytes
		for i, x := range rows {
			want := make([]byte, size)
			c.generic(want, x)
			got := make([]byte, size)
			for j := range got {
				got[j] = 0xAA // the quantizer must write every byte
			}
			c.q(got, x)
			if string(got) != string(want) {
				t.Fatalf("%s row %d (%v…): got\n%x\nwant\n%x", c.name, i, x[:4], got, want)
			}
			all = append(all, x...)
		}
		want := make([]byte, len(rows)*size)
		c.generic(want, all)
		got := make([]byte, len(want)+1)
		got[len(want)] = 0x5C
		c.q(got[:len(want)], all)
		if string(got[:len(want)]) != string(want) || got[len(want)] != 0x5C {
			t.Fatalf("%s: %d rows in one differ from one row at a time, or the quantizer wrote past dst", c.name, len(rows))
		}
	}
}

// FuzzQuantizeQ8_K holds the assembly Q8_K and Q8_0 quantizers to the Go
// ones on arbitrary float32 bits, NaN and infinities included, over one or
// two 256-value rows.
func FuzzQuantizeQ8_K(f *testing.F) {
	r := rand.New(rand.NewPCG(43, 44))
	for i, x := range q8KRows(r) {
		if i%8 != 0 {
			continue
		}
		b := make([]byte, 4*len(x))
		for j, v := range x {
			binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(v))
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n := QKK
		if len(data) > 4*QKK {
			n = 2 * QKK
		}
		x := make([]float32, n)
		for i := range x {
			if 4*i+4 <= len(data) {
				x[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
			}
		}
		for _, c := range activationQuantizers {
			want := make([]byte, n/c.values*c.bytes)
			c.generic(want, x)
			got := make([]byte, len(want))
			c.q(got, x)
			if string(got) != string(want) {
				t.Fatalf("%s: assembly differs from Go:\n%x\n%x", c.name, got, want)
			}
		}
	})
}

func BenchmarkActivationQuantizers(b *testing.B) {
	r := rand.New(rand.NewPCG(45, 46))
	x := make([]float32, 2048)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	for _, c := range activationQuantizers {
		dst := make([]byte, len(x)/c.values*c.bytes)
		for _, impl := range []struct {
			name string
			q    func([]byte, []float32)
		}{{"generic", c.generic}, {"arch", c.q}} {
			b.Run(c.name+"/"+impl.name, func(b *testing.B) {
				b.SetBytes(int64(4 * len(x)))
				for range b.N {
					impl.q(dst, x)
				}
			})
		}
	}
}
