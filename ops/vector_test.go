package ops

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/q3m/q3m/quant"
)

func closeTo(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if math.Abs(float64(got[i])-want[i]) > tol*math.Max(1, math.Abs(want[i])) {
			t.Fatalf("%s[%d] = %v, float64 reference %v", what, i, got[i], want[i])
		}
	}
}

func TestRMSNormMatchesFloat64(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 3))
	for _, n := range []int{1, 7, 128, 2048} {
		x, w := randVec(r, n, 2), randVec(r, n, 1)
		var ss float64
		for _, v := range x {
			ss += float64(v) * float64(v)
		}
		inv := 1 / math.Sqrt(ss/float64(n)+1e-6)
		want := make([]float64, n)
		for i := range x {
			want[i] = float64(x[i]) * inv * float64(w[i])
		}
		got := make([]float32, n)
		RMSNorm(got, x, w, 1e-6)
		closeTo(t, "RMSNorm", got, want, 1e-6)
		RMSNorm(x, x, w, 1e-6) // in place
		closeTo(t, "RMSNorm in place", x, want, 1e-6)
	}
}

func TestSoftmaxMatchesFloat64(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 3))
	for _, x := range [][]float32{{0}, {1000, 1000, -1000}, randVec(r, 129, 5)} {
		var mx float64 = math.Inf(-1)
		for _, v := range x {
			mx = math.Max(mx, float64(v))
		}
		var sum float64
		want := make([]float64, len(x))
		for i, v := range x {
			want[i] = math.Exp(float64(v) - mx)
			sum += want[i]
		}
		for i := range want {
			want[i] /= sum
		}
		Softmax(x)
		closeTo(t, "Softmax", x, want, 1e-6)
	}
	Softmax(nil)
}

func TestSwiGLUMatchesFloat64(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	g, u := randVec(r, 100, 4), randVec(r, 100, 1)
	g[0], g[1] = -100, 100
	want := make([]float64, 100)
	for i := range g {
		gv := float64(g[i])
		want[i] = gv / (1 + math.Exp(-gv)) * float64(u[i])
	}
	got := make([]float32, 100)
	SwiGLU(got, g, u)
	closeTo(t, "SwiGLU", got, want, 1e-6)
}

// SiLU is SwiGLU's activation bit for bit: SwiGLU with up = 1 returns it.
func TestSiLUIsSwiGLUWithUnitUp(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 3))
	g := randVec(r, 99, 20)
	g[0], g[1], g[2] = -88.72, 88.72, 0
	one := make([]float32, len(g))
	for i := range one {
		one[i] = 1
	}
	got := make([]float32, len(g))
	SwiGLU(got, g, one)
	for i, v := range g {
		if math.Float32bits(SiLU(v)) != math.Float32bits(got[i]) {
			t.Fatalf("SiLU(%v) = %v, SwiGLU gives %v", v, SiLU(v), got[i])
		}
	}
}

func TestRopeRotatesHalves(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 3))
	const heads, hd = 3, 8
	x := randVec(r, heads*hd, 1)
	cos, sin := make([]float32, hd/2), make([]float32, hd/2)
	ang := make([]float64, hd/2)
	for j := range ang {
		ang[j] = 0.3 * float64(j+1)
		cos[j], sin[j] = float32(math.Cos(ang[j])), float32(math.Sin(ang[j]))
	}
	want := make([]float64, heads*hd)
	for h := range heads {
		for j := range hd / 2 {
			a, b := float64(x[h*hd+j]), float64(x[h*hd+j+hd/2])
			want[h*hd+j] = a*math.Cos(ang[j]) - b*math.Sin(ang[j])
			want[h*hd+j+hd/2] = b*math.Cos(ang[j]) + a*math.Sin(ang[j])
		}
	}
	Rope(x, heads, cos, sin)
	closeTo(t, "Rope", x, want, 1e-6)
}

// refAttend is attention for one query written from the definition.
func refAttend(q, k, v []float32, lo, hi int, a Attn) []float64 {
	out := make([]float64, a.Heads*a.HeadDim)
	group := a.Heads / a.KVHeads
	for h := range a.Heads {
		kh := h / group
		s := make([]float64, hi-lo)
		mx := math.Inf(-1)
		for p := lo; p < hi; p++ {
			var d float64
			for i := range a.HeadDim {
				d += float64(q[h*a.HeadDim+i]) * float64(k[(p*a.KVHeads+kh)*a.HeadDim+i])
			}
			s[p-lo] = d * float64(a.Scale)
			mx = math.Max(mx, s[p-lo])
		}
		var sum float64
		for i := range s {
			s[i] = math.Exp(s[i] - mx)
			sum += s[i]
		}
		for p := lo; p < hi; p++ {
			for i := range a.HeadDim {
				out[h*a.HeadDim+i] += s[p-lo] / sum * float64(v[(p*a.KVHeads+kh)*a.HeadDim+i])
			}
		}
	}
	return out
}

func TestAttendCausalMatchesFloat64(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 3))
	a := Attn{Heads: 4, KVHeads: 2, HeadDim: 16, Scale: 0.25}
	const first, n = 5, 4
	ctx := first + n
	k, v := randVec(r, ctx*a.KVHeads*a.HeadDim, 1), randVec(r, ctx*a.KVHeads*a.HeadDim, 1)
	q := randVec(r, n*a.Heads*a.HeadDim, 1)
	qd := a.Heads * a.HeadDim
	for _, window := range []int{0, 1, 3} {
		for _, threads := range []int{1, 2} {
			pool := NewPool(threads)
			e := NewExec(pool)
			out := make([]float32, n*qd)
			e.AttendCausal(out, q, k, v, first, n, window, a)
			pool.Close()
			for tok := range n {
				p := first + tok
				lo := 0
				if window > 0 {
					lo = max(0, p-window+1)
				}
				want := refAttend(q[tok*qd:(tok+1)*qd], k, v, lo, p+1, a)
				closeTo(t, "AttendCausal", out[tok*qd:(tok+1)*qd], want, 1e-5)
			}
		}
	}
	one := make([]float32, qd)
	Attend(one, q[:qd], k, v, 2, 6, a, make([]float32, 4))
	closeTo(t, "Attend", one, refAttend(q[:qd], k, v, 2, 6, a), 1e-5)
}

type countTask struct{ hits []atomic.Int32 }

func (c *countTask) Run(worker, lo, hi int) {
	for i := lo; i < hi; i++ {
		c.hits[i].Add(1)
	}
}

func TestPoolCoversEveryIndexOnceWithConcurrentExecs(t *testing.T) {
	pool := NewPool(3)
	defer pool.Close()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var b batch
			for n := range 200 {
				c := &countTask{hits: make([]atomic.Int32, n+g)}
				pool.run(&b, c, n+g, 1)
				for i := range c.hits {
					if h := c.hits[i].Load(); h != 1 {
						t.Errorf("n=%d index %d run %d times", n+g, i, h)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestAddAndAddScaledMatchFloat32PerElement(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 3))
	for _, n := range []int{0, 1, 7, 8, 9, 64, 131} {
		dst, x := randVec(r, n, 2), randVec(r, n, 1)
		a := float32(0.37)
		sum, scaled := make([]float32, n), make([]float32, n)
		copy(sum, dst)
		copy(scaled, dst)
		Add(sum, x)
		AddScaled(scaled, a, x)
		for i := range n {
			// Each element is one float32 rounding of the float64 result.
			if want := float32(float64(dst[i]) + float64(x[i])); sum[i] != want {
				t.Fatalf("n=%d: Add[%d] = %v, want %v", n, i, sum[i], want)
			}
			p := float32(float64(a) * float64(x[i]))
			if want := float32(float64(dst[i]) + float64(p)); scaled[i] != want {
				t.Fatalf("n=%d: AddScaled[%d] = %v, want %v", n, i, scaled[i], want)
			}
		}
	}
}

// llamaQuantizeQ8_0 is llama.cpp's x86 activation quantizer written
// plainly: scale 127/amax, round to nearest with ties to even.
func llamaQuantizeQ8_0(x []float32) []byte {
	out := make([]byte, len(x)/32*34)
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
		binary.LittleEndian.PutUint16(out[b*34:], quant.ToF16(a/127))
		for j, f := range x[b*32 : b*32+32] {
			out[b*34+2+j] = byte(int8(math.RoundToEven(float64(f * id))))
		}
	}
	return out
}

func TestQuantizeQ8_0MatchesLlamaCppActivationQuantizer(t *testing.T) {
	// With amax 127 the scale is 1, so values land exactly on, just below
	// and just above every half-integer, and on tiny magnitudes.
	var x []float32
	for k := -127; k < 127; k++ {
		h := float32(k) + 0.5
		x = append(x, h, math.Nextafter32(h, -200), math.Nextafter32(h, 200), float32(k))
	}
	x = append(x, 1e-30, -1e-30, 0.49999997, -0.49999997, 0, float32(math.Copysign(0, -1)))
	for len(x)%31 != 0 {
		x = append(x, 0.25)
	}
	var blocks []float32
	for i := 0; i < len(x); i += 31 {
		blocks = append(blocks, 127) // the block's amax
		blocks = append(blocks, x[i:i+31]...)
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 64 * 32 {
		blocks = append(blocks, float32(r.NormFloat64()*math.Exp(r.NormFloat64()*3)))
	}
	blocks = append(blocks, make([]float32, 32)...) // an all-zero block
	want := llamaQuantizeQ8_0(blocks)
	got := make([]byte, len(want))
	QuantizeQ8_0(got, blocks)
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("byte %d (value %v): got %d, want %d", i, blocks[i/34*32+max(0, i%34-2)], int8(got[i]), int8(want[i]))
		}
	}
	// Ties go to even, unlike the weight quantizer's roundf: 2.5 → 2, -3.5 → -4.
	tie := append([]float32{127, 2.5, -3.5}, make([]float32, 29)...)
	QuantizeQ8_0(got[:34], tie)
	if int8(got[3]) != 2 || int8(got[4]) != -4 {
		t.Errorf("ties: 2.5 → %d, -3.5 → %d; want 2 and -4", int8(got[3]), int8(got[4]))
	}
}

func BenchmarkQuantizeQ8_0(b *testing.B) {
	x := randVec(rand.New(rand.NewPCG(1, 1)), 2048, 1)
	dst := make([]byte, 2048/32*34)
	b.SetBytes(4 * 2048)
	for b.Loop() {
		QuantizeQ8_0(dst, x)
	}
}
