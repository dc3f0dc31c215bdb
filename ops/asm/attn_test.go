package asm

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/x448/float16"
)

// attnCase is one shape of the attention tiles: rows query heads of hd
// values, cols (or keys) keys, value rows ldv apart, probabilities ldp apart.
type attnCase struct{ rows, cols, hd, ldv int }

var attnCases = []attnCase{
	{8, 32, 128, 512}, // the model's group of eight heads, one tile
	{4, 16, 16, 16},   // one step of the assembly
	{3, 32, 64, 64},   // a group of three: Go only
	{6, 32, 32, 96},   // one step and two rows of Go
	{8, 7, 128, 128},  // ragged keys: scores in Go, values in assembly
	{5, 48, 24, 24},   // head size not a multiple of 16: values in Go
	{12, 0, 16, 16},   // no keys: values only rescaled
	{1, 1, 1, 1},
}

func attnInputs(r *rand.Rand, c attnCase) (q, kt, p, v, acc, alpha []float32) {
	f := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		return x
	}
	q, kt = f(c.rows*c.hd), f(c.hd*max(c.cols, 1))
	p, acc, alpha = f(c.rows*max(c.cols, 1)), f(c.rows*c.hd), f(c.rows)
	v = f(max(c.cols, 1) * c.ldv)
	return
}

// TestAttnTilesMatchGoAndFloat64 checks the tiles against their Go twins
// bit for bit and against float64 sums of the same products.
func TestAttnTilesMatchGoAndFloat64(t *testing.T) {
	r := rand.New(rand.NewPCG(81, 82))
	for _, c := range attnCases {
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
			q, kt, p, v, acc, alpha := attnInputs(r, c)
			s, sg := make([]float32, c.rows*c.cols), make([]float32, c.rows*c.cols)
			AttnScores(s, q, kt, c.rows, c.cols, c.hd)
			attnScoresGeneric(sg, q, kt, c.rows, c.cols, c.hd)
			for i := range s {
				if math.Float32bits(s[i]) != math.Float32bits(sg[i]) {
					t.Fatalf("score %d: %v, Go %v", i, s[i], sg[i])
				}
				var want float64 // each product exact
				for d := range c.hd {
					want += float64(q[i/c.cols*c.hd+d]) * float64(kt[d*c.cols+i%c.cols])
				}
				// Observed: within 1e-5 of a sum of 128 products of N(0,1) values.
				if math.Abs(float64(s[i])-want) > 1e-6*float64(c.hd)+1e-6*math.Abs(want) {
					t.Fatalf("score %d: %v, float64 %v", i, s[i], want)
				}
			}
			a, ag := append([]float32(nil), acc...), append([]float32(nil), acc...)
			AttnValues(a, alpha, p, max(c.cols, 1), v, c.ldv, c.rows, c.cols, c.hd)
			attnValuesGeneric(ag, alpha, p, max(c.cols, 1), v, c.ldv, c.rows, c.cols, c.hd)
			for i := range a {
				if math.Float32bits(a[i]) != math.Float32bits(ag[i]) {
					t.Fatalf("value %d: %v, Go %v", i, a[i], ag[i])
				}
				row, d := i/c.hd, i%c.hd
				want := float64(acc[i]) * float64(alpha[row])
				for j := range c.cols {
					want += float64(p[row*c.cols+j]) * float64(v[j*c.ldv+d])
				}
				if math.Abs(float64(a[i])-want) > 1e-6*float64(c.cols+1)+1e-6*math.Abs(want) {
					t.Fatalf("value %d: %v, float64 %v", i, a[i], want)
				}
			}
		})
	}
}

// FuzzAttnTiles checks the assembly against the Go twins bit for bit on
// shapes and values taken from the input, with values over a wide range of
// magnitudes.
func FuzzAttnTiles(f *testing.F) {
	f.Add(uint8(8), uint8(32), uint8(128), uint8(0), []byte{1, 2, 3, 4, 5, 6, 7, 8})
	f.Add(uint8(5), uint8(17), uint8(16), uint8(3), []byte{255, 0, 128, 7})
	f.Fuzz(func(t *testing.T, rows, cols, hd, pad uint8, data []byte) {
		c := attnCase{rows: int(rows%20) + 1, cols: int(cols % 70), hd: int(hd%160) + 1}
		c.ldv = c.hd + int(pad%9)
		seed := uint64(len(data))
		for _, b := range data {
			seed = seed*131 + uint64(b)
		}
		r := rand.New(rand.NewPCG(seed, 7))
		q, kt, p, v, acc, alpha := attnInputs(r, c)
		for _, x := range [][]float32{q, kt, p, v, acc, alpha} {
			for i := range x {
				x[i] = float32(math.Ldexp(float64(x[i]), r.IntN(40)-20))
			}
		}
		s, sg := make([]float32, c.rows*c.cols), make([]float32, c.rows*c.cols)
		AttnScores(s, q, kt, c.rows, c.cols, c.hd)
		attnScoresGeneric(sg, q, kt, c.rows, c.cols, c.hd)
		for i := range s {
			if math.Float32bits(s[i]) != math.Float32bits(sg[i]) {
				t.Fatalf("%+v score %d: %v, Go %v", c, i, s[i], sg[i])
			}
		}
		ldp := max(c.cols, 1)
		a, ag := append([]float32(nil), acc...), append([]float32(nil), acc...)
		AttnValues(a, alpha, p, ldp, v, c.ldv, c.rows, c.cols, c.hd)
		attnValuesGeneric(ag, alpha, p, ldp, v, c.ldv, c.rows, c.cols, c.hd)
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(ag[i]) {
				t.Fatalf("%+v value %d: %v, Go %v", c, i, a[i], ag[i])
			}
		}
	})
}

// attnScoresByDefinition is AttnScores' definition written one score at a
// time: attnScoresGeneric, which runs keys side by side, must equal it.
func attnScoresByDefinition(s, q, kt []float32, rows, cols, hd int) {
	for r := range rows {
		for j := range cols {
			var sum float32
			for c := 0; c < hd; c += attnChunk {
				var acc float32
				for d := c; d < min(c+attnChunk, hd); d++ {
					acc += float32(q[r*hd+d] * kt[d*cols+j])
				}
				sum += acc
			}
			s[r*cols+j] = sum
		}
	}
}

func TestAttnScoresGenericFollowsTheDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct{ rows, cols, hd int }{
		{1, 1, 1}, {3, 5, 31}, {4, 16, 128}, {2, 64, 33}, {5, 65, 64}, {8, 130, 96},
	} {
		q, kt := make([]float32, c.rows*c.hd), make([]float32, c.hd*c.cols)
		for i := range q {
			q[i] = float32(rng.NormFloat64())
		}
		for i := range kt {
			kt[i] = float32(rng.NormFloat64() * 3)
		}
		kt[0], q[len(q)-1] = float32(math.Inf(1)), 1e-40 // an infinity and a subnormal
		got, want := make([]float32, c.rows*c.cols), make([]float32, c.rows*c.cols)
		attnScoresGeneric(got, q, kt, c.rows, c.cols, c.hd)
		attnScoresByDefinition(want, q, kt, c.rows, c.cols, c.hd)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
				t.Fatalf("%+v: score %d = %v, the definition gives %v", c, i, got[i], want[i])
			}
		}
	}
}

// checkValuesF16 runs AttnValuesF16 over v rounded to fp16 and checks it
// bit for bit against the Go twin of AttnValues on the converted rows, and
// that it leaves the scratch's neighbours alone.
func checkValuesF16(t *testing.T, c attnCase, p, v, acc, alpha []float32) {
	t.Helper()
	h := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(h[2*i:], float16.Fromfloat32(x).Bits())
	}
	vf := make([]float32, len(v))
	F16ToF32(vf, h)
	ldp := max(c.cols, 1)
	a, ag := append([]float32(nil), acc...), append([]float32(nil), acc...)
	buf := make([]float32, c.cols*c.hd+1)
	buf[len(buf)-1] = 42
	AttnValuesF16(a, alpha, p, ldp, h, c.ldv, c.rows, c.cols, c.hd, buf[:len(buf)-1])
	attnValuesGeneric(ag, alpha, p, ldp, vf, c.ldv, c.rows, c.cols, c.hd)
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(ag[i]) {
			t.Fatalf("%+v value %d: %v, Go on converted rows %v", c, i, a[i], ag[i])
		}
	}
	if buf[len(buf)-1] != 42 {
		t.Fatalf("%+v: scratch written past keys·hd values", c)
	}
}

// AttnValuesF16 is AttnValues on the converted rows, whether the assembly
// reads the fp16 values or Go converts them first.
func TestAttnValuesF16IsAttnValuesOnConvertedRows(t *testing.T) {
	r := rand.New(rand.NewPCG(83, 84))
	for _, c := range attnCases {
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
			_, _, p, v, acc, alpha := attnInputs(r, c)
			checkValuesF16(t, c, p, v, acc, alpha)
		})
	}
}

func FuzzAttnValuesF16(f *testing.F) {
	f.Add(uint8(8), uint8(32), uint8(128), uint16(384), uint64(1))
	f.Add(uint8(5), uint8(3), uint8(16), uint16(0), uint64(2))
	f.Fuzz(func(t *testing.T, rows, keys, hd uint8, pad uint16, seed uint64) {
		c := attnCase{rows: int(rows%20) + 1, cols: int(keys % 70), hd: int(hd%160) + 1}
		c.ldv = c.hd + int(pad%600)
		r := rand.New(rand.NewPCG(seed, 11))
		_, _, p, v, acc, alpha := attnInputs(r, c)
		for _, x := range [][]float32{p, v, acc, alpha} {
			for i := range x {
				x[i] = float32(math.Ldexp(float64(x[i]), r.IntN(30)-15))
			}
		}
		checkValuesF16(t, c, p, v, acc, alpha)
	})
}
