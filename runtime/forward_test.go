package runtime

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/q3m/q3m/ops/asm"
	"github.com/q3m/q3m/quant"
)

func openTiny(t *testing.T, m *tinyModel) *Model {
	t.Helper()
	model, err := Load(m.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { model.Close() })
	return model
}

func newSession(t *testing.T, m *Model, threads int) *Session {
	t.Helper()
	s, err := m.NewSession(SessionOptions{Threads: threads, KVType: KVF32})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func randIDs(seed uint64, n, vocab int) []int32 {
	r := rand.New(rand.NewPCG(seed, 5))
	ids := make([]int32, n)
	for i := range ids {
		ids[i] = int32(r.IntN(vocab))
	}
	return ids
}

// maxDiff returns the largest |got-want| / max(1, |want|).
func maxDiff(got []float32, want []float64) float64 {
	var d float64
	for i := range want {
		d = math.Max(d, math.Abs(float64(got[i])-want[i])/math.Max(1, math.Abs(want[i])))
	}
	return d
}

func TestForwardMatchesFloat64Reference(t *testing.T) {
	yarn := tinyConfig()
	yarn.RopeScaling, yarn.RopeFactor, yarn.RopeOrigCtx = "yarn", 4, 16
	yarn.YarnBetaFast, yarn.YarnBetaSlow, yarn.YarnAttnFactor, yarn.YarnTruncate = 32, 1, yarnMscale(4), true
	yarnNoTrunc := yarn
	yarnNoTrunc.YarnTruncate, yarnNoTrunc.YarnAttnFactor = false, 1.3
	plain := tinyConfig()
	plain.AttentionBias, plain.NormTopKProb, plain.DenseLayers, plain.Tied = false, false, nil, true
	window := tinyConfig()
	window.SlidingWindow = 3
	one := tinyConfig()
	one.ExpertsUsed, one.NormTopKProb = 1, false
	cases := []struct {
		name string
		cfg  Config
		typ  quant.Type
		tol  float64
	}{
		{"F32", tinyConfig(), quant.F32, 1e-4},
		{"F16", tinyConfig(), quant.F16, 1e-4},
		{"BF16", tinyConfig(), quant.BF16, 1e-4},
		{"F32 tied, no bias, all MoE, unnormalized", plain, quant.F32, 1e-4},
		{"F32 sliding window", window, quant.F32, 1e-4},
		{"F32 top-1 unnormalized", one, quant.F32, 1e-4},
		{"F32 YaRN", yarn, quant.F32, 1e-4},
		{"F32 YaRN untruncated", yarnNoTrunc, quant.F32, 1e-4},
		// Quantized activations: relative L2 error of the logit vector,
		// against the dequantized weights (about 2-5% with Q8_0 activations
		// through three layers; unrelated logits would differ by ~140%).
		{"Q8_0", tinyConfig(), quant.Q8_0, 6e-2},
		{"Q4_0", tinyConfig(), quant.Q4_0, 6e-2},
		// The same with the reference rounding activations like the runtime.
		{"Q8_0 simulated activations", tinyConfig(), quant.Q8_0, 1e-6},
		{"Q4_0 simulated activations", tinyConfig(), quant.Q4_0, 1e-6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tm := buildTiny(t, c.cfg, buildOptions{typ: c.typ, seed: 3})
			ids := randIDs(1, 12, c.cfg.Vocab)
			ref := &ref64{m: tm, actQ8: strings.Contains(c.name, "simulated")}
			want := ref.logits(ids)
			model := openTiny(t, tm)
			for _, kname := range asm.Kernels() {
				restore, _ := asm.Use(kname)
				s := newSession(t, model, 2)
				got, err := s.Eval(ids, true)
				restore()
				if err != nil {
					t.Fatal(err)
				}
				V := c.cfg.Vocab
				for p := range ids {
					d := maxDiff(got[p*V:(p+1)*V], want[p])
					if c.typ.Convertible() && c.typ.BlockSize() > 1 {
						d = relL2(got[p*V:(p+1)*V], want[p])
					}
					if d > c.tol {
						t.Errorf("kernel %s position %d: logits differ from float64 by %.3g (tolerance %g)", kname, p, d, c.tol)
					}
				}
			}
		})
	}
}

// relL2 returns ‖got-want‖ / ‖want‖.
func relL2(got []float32, want []float64) float64 {
	var num, den float64
	for i := range want {
		num += (float64(got[i]) - want[i]) * (float64(got[i]) - want[i])
		den += want[i] * want[i]
	}
	return math.Sqrt(num / den)
}

func TestTraceReportsTheReferenceRouting(t *testing.T) {
	c := tinyConfig()
	tm := buildTiny(t, c, buildOptions{seed: 4})
	ids := randIDs(2, 10, c.Vocab)
	ref := &ref64{m: tm}
	ref.logits(ids)
	s := newSession(t, openTiny(t, tm), 1)
	calls := 0
	s.Trace = func(layer, pos int, experts []int, weights []float32) {
		calls++
		if want := ref.route[[2]int{layer, pos}]; !slices.Equal(experts, want) {
			t.Errorf("layer %d position %d: experts %v, reference %v", layer, pos, experts, want)
		}
		var sum float32
		for _, w := range weights {
			sum += w
		}
		if math.Abs(float64(sum)-1) > 1e-6 {
			t.Errorf("layer %d position %d: normalized weights sum to %v", layer, pos, sum)
		}
	}
	if _, err := s.Eval(ids[:7], false); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids[7:] {
		if _, err := s.Eval([]int32{id}, false); err != nil {
			t.Fatal(err)
		}
	}
	if want := len(ids) * (c.Layers - len(c.DenseLayers)); calls != want {
		t.Errorf("Trace called %d times, want %d", calls, want)
	}
}

// TestPrefillEqualsDecode checks that evaluating a sequence in batches
// gives bit for bit the logits of feeding it one token at a time, for
// every weight type and on 1 and 4 threads: the kernels' multi-row and
// single-row paths, batched and single attention, and the grouped expert
// products all compute each value in the same order.
func TestPrefillEqualsDecode(t *testing.T) {
	c := tinyConfig()
	c.ContextLen = maxBatch + 9
	for _, typ := range []quant.Type{quant.F32, quant.F16, quant.BF16, quant.Q8_0, quant.Q4_0} {
		tm := buildTiny(t, c, buildOptions{typ: typ, seed: 5})
		model := openTiny(t, tm)
		ids := randIDs(3, maxBatch+9, c.Vocab) // crosses a batch boundary
		V := c.Vocab
		pre := newSession(t, model, 4)
		all, err := pre.Eval(ids, true)
		if err != nil {
			t.Fatal(err)
		}
		all = slices.Clone(all)
		dec := newSession(t, model, 1)
		for p, id := range ids {
			got, err := dec.Eval([]int32{id}, false)
			if err != nil {
				t.Fatal(err)
			}
			for i := range V {
				if math.Float32bits(got[i]) != math.Float32bits(all[p*V+i]) {
					t.Fatalf("%s: position %d logit %d: decode %v, prefill %v", typ, p, i, got[i], all[p*V+i])
				}
			}
		}
		last, err := newSession(t, model, 2).Eval(ids, false)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(last, all[(len(ids)-1)*V:]) {
			t.Errorf("%s: Eval(all=false) differs from the last row of Eval(all=true)", typ)
		}
	}
}

func TestEvalErrorsLeaveSessionUnchanged(t *testing.T) {
	c := tinyConfig()
	tm := buildTiny(t, c, buildOptions{seed: 6})
	model := openTiny(t, tm)
	s, err := model.NewSession(SessionOptions{ContextLen: 8, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	ids := randIDs(4, 8, c.Vocab)
	if _, err := s.Eval(ids[:6], false); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		name string
		ids  []int32
		full bool
	}{
		{"past the context", ids[:3], true},
		{"id equal to vocab", []int32{int32(c.Vocab)}, false},
		{"negative id", []int32{1, -1}, false},
		{"no ids", nil, false},
	} {
		_, err := s.Eval(bad.ids, false)
		if err == nil {
			t.Errorf("%s: no error", bad.name)
		} else if errors.Is(err, ErrContextFull) != bad.full {
			t.Errorf("%s: error %v, ErrContextFull %v", bad.name, err, bad.full)
		}
		if s.Pos() != 6 {
			t.Fatalf("%s: position moved to %d", bad.name, s.Pos())
		}
	}
	got, err := s.Eval(ids[6:], false)
	if err != nil {
		t.Fatalf("filling the context exactly: %v", err)
	}
	want := (&ref64{m: tm, kv: quant.F16}).logits(ids)[7] // the default f16 KV cache
	if d := maxDiff(got, want); d > 1e-4 {
		t.Errorf("after rejected calls, logits differ from reference by %g", d)
	}
}

func TestTruncateReplaysTheSameLogits(t *testing.T) {
	c := tinyConfig()
	model := openTiny(t, buildTiny(t, c, buildOptions{seed: 7}))
	s := newSession(t, model, 1)
	ids := randIDs(5, 6, c.Vocab)
	first, err := s.Eval(ids, false)
	if err != nil {
		t.Fatal(err)
	}
	first = slices.Clone(first)
	if err := s.Truncate(7); err == nil {
		t.Error("Truncate past the position accepted")
	}
	if err := s.Truncate(3); err != nil {
		t.Fatal(err)
	}
	_, _ = s.Eval([]int32{1, 2, 3}, false) // overwrite positions 3..5
	s.Truncate(3)
	again, err := s.Eval(ids[3:], false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(first, again) {
		t.Error("logits after Truncate and replay differ")
	}
	s.Reset()
	again, _ = s.Eval(ids, false)
	if !slices.Equal(first, again) || s.Pos() != len(ids) {
		t.Error("logits after Reset and replay differ")
	}
}

func TestYarnChangesShortPromptsButNotPositionZero(t *testing.T) {
	c := tinyConfig()
	y := c
	y.RopeScaling, y.RopeFactor, y.RopeOrigCtx = "yarn", 4, 16
	y.YarnBetaFast, y.YarnBetaSlow, y.YarnAttnFactor, y.YarnTruncate = 32, 1, yarnMscale(4), true
	ids := randIDs(6, 3, c.Vocab)
	eval := func(cfg Config) []float32 {
		s := newSession(t, openTiny(t, buildTiny(t, cfg, buildOptions{seed: 8})), 1)
		l, err := s.Eval(ids, true)
		if err != nil {
			t.Fatal(err)
		}
		return slices.Clone(l)
	}
	plain, scaled := eval(c), eval(y)
	V := c.Vocab
	// At position 0 the only key is the token itself: softmax over one score
	// is 1 whatever RoPE does, so YaRN cannot change it.
	if d := maxDiff(scaled[:V], f64(plain[:V])); d > 1e-6 {
		t.Errorf("position 0 changed by %g", d)
	}
	if d := maxDiff(scaled[2*V:], f64(plain[2*V:])); d < 1e-3 {
		t.Errorf("YaRN changed position 2 of a 3-token prompt by only %g", d)
	}
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func TestDecodeAllocatesNothing(t *testing.T) {
	c := tinyConfig()
	for _, typ := range []quant.Type{quant.F32, quant.Q8_0} {
		s := newSession(t, openTiny(t, buildTiny(t, c, buildOptions{typ: typ, seed: 9})), 2)
		s.Trace = func(int, int, []int, []float32) {}
		if _, err := s.Eval([]int32{1, 2}, false); err != nil {
			t.Fatal(err)
		}
		id := []int32{3}
		allocs := testing.AllocsPerRun(10, func() {
			s.Truncate(2)
			if _, err := s.Eval(id, false); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per decoded token", typ, allocs)
		}
	}
}

func TestConcurrentSessionsShareAPool(t *testing.T) {
	c := tinyConfig()
	model := openTiny(t, buildTiny(t, c, buildOptions{typ: quant.Q8_0, seed: 10}))
	ids := randIDs(7, 20, c.Vocab)
	want, err := newSession(t, model, 2).Eval(ids, true)
	if err != nil {
		t.Fatal(err)
	}
	want = slices.Clone(want)
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			s, err := model.NewSession(SessionOptions{Threads: 2, KVType: KVF32}) // as newSession
			if err != nil {
				errs <- err
				return
			}
			for range 5 {
				s.Reset()
				got, err := s.Eval(ids, true)
				if err != nil {
					errs <- err
					return
				}
				if !slices.Equal(got, want) {
					errs <- errors.New("logits differ from a lone session's")
					return
				}
			}
			errs <- nil
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// BenchmarkDecode decodes one token at a time on a small random Q8_0 model
// (reported bytes: the weights one token reads).
func BenchmarkDecode(b *testing.B) {
	c := Config{Vocab: 4096, Hidden: 512, Layers: 4, Heads: 8, KVHeads: 2, HeadDim: 64,
		Experts: 16, ExpertsUsed: 4, ExpertFFN: 256, ContextLen: 4096,
		RopeTheta: 1e6, RMSEps: 1e-6, NormTopKProb: true}
	tm := buildTiny(b, c, buildOptions{typ: quant.Q8_0, seed: 11})
	model, err := Load(tm.path)
	if err != nil {
		b.Fatal(err)
	}
	defer model.Close()
	s, err := model.NewSession(SessionOptions{})
	if err != nil {
		b.Fatal(err)
	}
	row, _ := quant.Q8_0.RowBytes(c.Hidden)
	perLayer := row * (c.Heads*c.HeadDim*2 + c.KVHeads*c.HeadDim*2 + c.ExpertsUsed*c.ExpertFFN*3)
	b.SetBytes(int64(c.Layers*perLayer + c.Vocab*row))
	id := []int32{1}
	for b.Loop() {
		if s.Pos() == 512 {
			s.Reset()
		}
		if _, err := s.Eval(id, false); err != nil {
			b.Fatal(err)
		}
	}
}

func TestKVCacheGrowsPastItsFirstSize(t *testing.T) {
	c := tinyConfig()
	c.ContextLen = 600
	model := openTiny(t, buildTiny(t, c, buildOptions{seed: 12}))
	ids := randIDs(8, 300, c.Vocab)
	pre, err := newSession(t, model, 2).Eval(ids, true)
	if err != nil {
		t.Fatal(err)
	}
	pre = slices.Clone(pre)
	dec := newSession(t, model, 2)
	for i, id := range ids {
		got, err := dec.Eval([]int32{id}, false)
		if err != nil {
			t.Fatal(err)
		}
		if i%50 == 49 && !slices.Equal(got, pre[i*c.Vocab:(i+1)*c.Vocab]) {
			t.Fatalf("position %d: decode differs from prefill", i)
		}
	}
}
