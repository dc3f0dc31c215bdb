package quant

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// roundTripBound is the largest |x - dequantize(quantize(x))| allowed,
// relative to the largest magnitude in x's block (super-block for the
// K-quants), for blocks whose largest magnitude is in [1, 1e4] (so that no
// fp16 scale is subnormal or infinite). Legacy types have their analytic
// bound; the others the worst seen over 20000 random blocks of six kinds
// (randomRow's kinds) times about 1.5. The figure seen is beside each.
var roundTripBound = map[Type]float64{
	Q4_0:   0.127,  // amax/8 at the clamped end, observed 0.1252
	Q8_0:   0.0045, // amax/254 + amax·2⁻¹¹ (fp16 d), observed 0.0044
	Q4_1:   0.070,  // (max-min)/15/2 ≤ amax/15, observed 0.0672
	Q5_0:   0.065,  // amax/16 at the clamped end, observed 0.0627
	Q5_1:   0.034,  // ≤ amax/31, observed 0.0329
	Q8_1:   0.0045, // amax/254 + amax·2⁻¹¹ (fp16 d), observed 0.0044
	Q2_K:   0.80,   // observed 0.585
	Q3_K:   0.35,   // observed 0.229
	Q4_K:   0.14,   // observed 0.091
	Q5_K:   0.08,   // observed 0.054
	Q6_K:   0.03,   // observed 0.0193
	Q8_K:   0.004,  // amax/254, observed 0.0039
	IQ4_NL: 0.18,   // observed 0.120
	IQ4_XS: 0.16,   // observed 0.102
}

// checkRoundTrip quantizes x (any values, NaN included) as typ and checks
// the round trip against roundTripBound where the bound applies.
func checkRoundTrip(t *testing.T, typ Type, x []float32) {
	t.Helper()
	n, err := typ.RowBytes(len(x))
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, n)
	y := make([]float32, len(x))
	if err := Quantize(typ, b, x); err != nil {
		t.Fatal(err)
	}
	if err := Dequantize(typ, y, b); err != nil {
		t.Fatal(err)
	}
	bs := typ.BlockSize()
	for blk := 0; blk < len(x)/bs; blk++ {
		var amax float64
		for _, v := range x[blk*bs : (blk+1)*bs] {
			amax = math.Max(amax, math.Abs(float64(v)))
		}
		if !(amax >= 1 && amax <= 1e4) {
			continue
		}
		for i := blk * bs; i < (blk+1)*bs; i++ {
			if d := math.Abs(float64(x[i]) - float64(y[i])); d > roundTripBound[typ]*amax {
				t.Fatalf("%s: block %d: |%v - %v| = %g > %g·%g", typ, blk, x[i], y[i], d, roundTripBound[typ], amax)
			}
		}
	}
}

func TestRoundTripErrorBounded(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	x := make([]float32, 1024)
	for typ := range roundTripBound {
		for kind := range 6 {
			randomRow(r, kind, x)
			checkRoundTrip(t, typ, x)
		}
	}
}

// randomRow fills x with values of one of six kinds.
func randomRow(r *rand.Rand, kind int, x []float32) {
	for i := range x {
		switch kind {
		case 0:
			x[i] = float32(r.NormFloat64())
		case 1:
			x[i] = float32(r.NormFloat64() * math.Exp(3*r.NormFloat64()))
		case 2:
			x[i] = 0
			if r.IntN(8) == 0 {
				x[i] = float32(r.NormFloat64())
			}
		case 3:
			x[i] = float32(r.IntN(5)) * 0.25
		case 4:
			x[i] = float32(r.NormFloat64()*0.01) + 1
		default:
			x[i] = math.Float32frombits(r.Uint32()&0x3fffffff | uint32(r.IntN(2))<<31)
		}
	}
}

// fuzzRow makes 256 values from the fuzzer's bytes (any float32 bit
// patterns, NaN and infinities included), repeating them to fill the row.
func fuzzRow(data []byte) []float32 {
	if len(data) < 4 {
		return nil
	}
	x := make([]float32, 256)
	for i := range x {
		j := (4 * i) % (len(data) - len(data)%4)
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[j:]))
	}
	return x
}

func fuzzSeeds(f *testing.F) {
	r := rand.New(rand.NewPCG(13, 14))
	x := make([]float32, 64)
	for kind := range 6 {
		randomRow(r, kind, x)
		b := make([]byte, 4*len(x))
		for i, v := range x {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		f.Add(b)
	}
	f.Add([]byte{0, 0, 0xc0, 0x7f})                               // NaN
	f.Add([]byte{0, 0, 0x80, 0x7f, 0, 0, 0x80, 0xff, 1, 0, 0, 0}) // ±Inf, subnormal
	f.Add([]byte{0xff, 0xff, 0x7f, 0x7f, 0, 0, 0, 0})             // MaxFloat32, 0
}

func fuzzFamily(f *testing.F, types ...Type) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		x := fuzzRow(data)
		if x == nil {
			return
		}
		for _, typ := range types {
			checkRoundTrip(t, typ, x)
			// Any bytes dequantize without panicking.
			n, _ := typ.RowBytes(256)
			b := make([]byte, n)
			for i := range b {
				b[i] = data[i%len(data)]
			}
			if err := Dequantize(typ, x[:0:0], nil); err != nil {
				t.Fatal(err)
			}
			if err := Dequantize(typ, make([]float32, 256), b); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func FuzzLegacyRoundTrip(f *testing.F) { fuzzFamily(f, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1) }
func FuzzKQuantRoundTrip(f *testing.F) { fuzzFamily(f, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K) }
func FuzzIQ4RoundTrip(f *testing.F)    { fuzzFamily(f, IQ4_NL, IQ4_XS) }
