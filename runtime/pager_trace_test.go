package runtime_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	routes "github.com/q3m/q3m/routing"
	"github.com/q3m/q3m/runtime"
	"github.com/q3m/q3m/synth"
)

// routeRun evaluates pagerIDs (a prompt batch, then single tokens) in a
// new session of m, replaying tr if not nil, and returns the logits of
// every position and the routing recorded meanwhile, seen both through
// RecordRouting and through the Trace callback.
func routeRun(t *testing.T, m *runtime.Model, tr *routes.Trace) (logits []float32, rec []byte, seen map[[2]int][]int) {
	t.Helper()
	s, err := m.NewSession(runtime.SessionOptions{ContextLen: 64, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	s.RecordRouting(&buf)
	if err := s.ReplayRouting(tr); err != nil {
		t.Fatal(err)
	}
	seen = map[[2]int][]int{}
	s.Trace = func(layer, pos int, experts []int, _ []float32) { seen[[2]int{pos, layer}] = slices.Clone(experts) }
	out, err := s.Eval(pagerIDs[:pagerPrompt], true)
	if err != nil {
		t.Fatal(err)
	}
	logits = append(logits, out...)
	for _, id := range pagerIDs[pagerPrompt:] {
		out, err := s.Eval([]int32{id}, false)
		if err != nil {
			t.Fatal(err)
		}
		logits = append(logits, out...)
	}
	if err := s.RecordingError(); err != nil {
		t.Fatal(err)
	}
	return logits, buf.Bytes(), seen
}

func TestRecordedRoutingIsTheModelsAndReplaysToTheSameLogits(t *testing.T) {
	spec := synth.Variants()["dense-mix"] // layer 0 dense: MoE layers 1 and 3 … as the spec says
	path := convertSpec(t, spec)
	m := loadWith(t, path, runtime.LoadOptions{NoPager: true})
	logits, rec, seen := routeRun(t, m, nil)
	tr, err := routes.Read(bytes.NewReader(rec), "recorded", m.RouteGeometry())
	if err != nil {
		t.Fatal(err)
	}
	cfg := m.Config()
	var moe []int
	for l := range cfg.Layers {
		if cfg.MoE(l) {
			moe = append(moe, l)
		}
	}
	if tr.Tokens() != len(pagerIDs) || !slices.Equal(tr.Layers, moe) || tr.Weights == nil {
		t.Fatalf("recorded %d tokens of layers %v, want %d of %v with weights", tr.Tokens(), tr.Layers, len(pagerIDs), moe)
	}
	// The lines come token by token, layers in order.
	lines := strings.Split(strings.TrimSpace(string(rec)), "\n")
	for i, line := range lines {
		want := fmt.Sprintf(`{"token":%d,"layer":%d,"experts":[`, i/len(moe), moe[i%len(moe)])
		if !strings.HasPrefix(line, want) {
			t.Fatalf("line %d is %s, want it to start %s", i+1, line, want)
		}
	}
	for tok := range tr.Tokens() {
		for i, l := range tr.Layers {
			e, _ := tr.At(tok, i)
			if got := seen[[2]int{tok, l}]; !slices.Equal(toInts(e), got) {
				t.Errorf("token %d layer %d: recorded %v, the session routed %v", tok, l, e, got)
			}
		}
	}
	for _, opt := range []runtime.LoadOptions{{NoPager: true}, {ExpertIO: runtime.IOMmap, ExpertBudget: 1}} {
		logits2, rec2, _ := routeRun(t, loadWith(t, path, opt), tr)
		if !bytes.Equal(rec2, rec) {
			t.Errorf("%+v: replaying the recording records another routing", opt)
		}
		if i := sameBits(logits2, logits); i >= 0 {
			t.Errorf("%+v: replaying the model's own routing changes the logits at value %d", opt, i)
		}
	}
}

func toInts(e []int32) []int {
	out := make([]int, len(e))
	for i, x := range e {
		out[i] = int(x)
	}
	return out
}

// foreignTrace routes token T of layer l to experts (T+l+r)·3 mod E, a
// pattern no router chose, over 3 tokens, without weights.
func foreignTrace(cfg runtime.Config) *routes.Trace {
	tr := &routes.Trace{Name: "foreign", K: cfg.ExpertsUsed}
	for l := range cfg.Layers {
		tr.Layers = append(tr.Layers, l)
	}
	for tok := range 3 {
		for l := range cfg.Layers {
			for r := range cfg.ExpertsUsed {
				tr.Experts = append(tr.Experts, int32((tok+l+r*3)%cfg.Experts))
			}
		}
	}
	return tr
}

func TestReplayForcesAForeignRoutingUnderAnyBudget(t *testing.T) {
	path := convertSpec(t, synth.Variants()["base"])
	m := loadWith(t, path, runtime.LoadOptions{NoPager: true})
	cfg := m.Config()
	own, _, _ := routeRun(t, m, nil)
	tr := foreignTrace(cfg)
	want, rec, seen := routeRun(t, m, tr)
	if sameBits(want, own) < 0 {
		t.Error("a foreign routing left the logits as they were")
	}
	for tok := range len(pagerIDs) {
		for l := range cfg.Layers {
			e, _ := tr.At(tok%tr.Tokens(), l)
			if got := seen[[2]int{tok, l}]; !slices.Equal(got, toInts(e)) {
				t.Errorf("token %d layer %d: routed %v, the trace forces %v", tok, l, got, e)
			}
		}
	}
	got, err := routes.Read(bytes.NewReader(rec), "recorded", m.RouteGeometry())
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range got.Weights {
		if w != 1/float32(cfg.ExpertsUsed) {
			t.Fatalf("weight %d is %v, want 1/k without weights in the trace", i, w)
		}
	}
	for _, c := range []struct {
		name string
		opt  runtime.LoadOptions
	}{
		{"no budget", runtime.LoadOptions{NoAutoBudget: true}},
		{"one-byte budget", runtime.LoadOptions{ExpertIO: runtime.IOMmap, ExpertBudget: 1}},
		{"one-byte budget, no prefetch", runtime.LoadOptions{ExpertIO: runtime.IOMmap, ExpertBudget: 1, NoPrefetch: true}},
	} {
		pm := loadWith(t, path, c.opt)
		l, _, _ := routeRun(t, pm, tr)
		if i := sameBits(l, want); i >= 0 {
			t.Errorf("%s: replayed logits differ from the run without a pager at value %d", c.name, i)
		}
		if st := pm.PagerStats(); st.Predicted != 0 || st.Misses == 0 {
			t.Errorf("%s: %d predictions and %d misses while replaying", c.name, st.Predicted, st.Misses)
		}
	}
}

func TestReplayRenormalisesWeightsAsTheModelWould(t *testing.T) {
	path := convertSpec(t, synth.Variants()["base"]) // norm_topk_prob
	m := loadWith(t, path, runtime.LoadOptions{NoPager: true})
	tr := foreignTrace(m.Config())
	for range tr.Experts {
		tr.Weights = append(tr.Weights, 0.25) // k = 2: they sum to 0.5
	}
	_, rec, _ := routeRun(t, m, tr)
	got, err := routes.Read(bytes.NewReader(rec), "recorded", m.RouteGeometry())
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range got.Weights {
		if w != 0.5 {
			t.Fatalf("weight %d applied as %v, want 0.25/0.5", i, w)
		}
	}
}

func TestReplayRejectsATraceThatDoesNotFitTheModel(t *testing.T) {
	m := loadWith(t, convertSpec(t, synth.Variants()["base"]), runtime.LoadOptions{NoPager: true})
	s, err := m.NewSession(runtime.SessionOptions{ContextLen: 16, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	cfg := m.Config()
	for _, c := range []struct {
		name  string
		edit  func(*routes.Trace)
		error string
	}{
		{"expert id beyond the model's", func(tr *routes.Trace) { tr.Experts[3] = int32(cfg.Experts) }, "outside [0, 8)"},
		{"a layer missing", func(tr *routes.Trace) {
			tr.Layers = tr.Layers[:2]
			tr.Experts = tr.Experts[:2*tr.K]
		}, "no layer 2"},
		{"another k", func(tr *routes.Trace) { tr.K = 1 }, "1 experts a token"},
		{"an expert twice", func(tr *routes.Trace) { tr.Experts[1] = tr.Experts[0] }, "chosen twice"},
	} {
		tr := foreignTrace(cfg)
		c.edit(tr)
		if err := s.ReplayRouting(tr); err == nil || !strings.Contains(err.Error(), c.error) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.error)
		}
	}
}

type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n++; w.n > 1 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestRecordingStopsAtTheFirstWriteError(t *testing.T) {
	m := loadWith(t, convertSpec(t, synth.Variants()["base"]), runtime.LoadOptions{NoPager: true})
	s, err := m.NewSession(runtime.SessionOptions{ContextLen: 16, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	w := &failingWriter{}
	s.RecordRouting(w)
	for _, id := range []int32{1, 2, 3} {
		if _, err := s.Eval([]int32{id}, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RecordingError(); err == nil || !strings.Contains(err.Error(), "disk full") || w.n != 2 {
		t.Errorf("recording error %v after %d writes", err, w.n)
	}
}

// TestReplayedTraceHitsAsSimulated decodes a generated trace token by token
// under a budget of a whole number of experts: the pager's hits and misses
// must be the simulator's for the same trace, cache size and policy.
func TestReplayedTraceHitsAsSimulated(t *testing.T) {
	spec := synth.Variants()["base"] // 3 layers of 8 experts, k 2, all MoE
	path := convertSpec(t, spec)
	each := int64(3 * spec.Hidden * spec.ExpertFFN / 32 * 34) // Q8_0
	tr, err := routes.Generate(routes.GenSpec{Layers: spec.Layers, Experts: spec.Experts, K: spec.ExpertsUsed, Tokens: 60, Pattern: routes.Qwen3, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"lru", routes.DefaultPolicy} {
		for _, capacity := range []int{5, 7, 10} {
			pol, _ := routes.NewPolicy(name, spec.Layers, spec.Experts)
			want, err := routes.Simulate(tr, spec.Experts, capacity, pol)
			if err != nil {
				t.Fatal(err)
			}
			m := loadWith(t, path, runtime.LoadOptions{ExpertIO: runtime.IOMmap, ExpertBudget: int64(capacity) * each, Policy: name, NoPrefetch: true})
			s, err := m.NewSession(runtime.SessionOptions{ContextLen: 64, Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.ReplayRouting(tr); err != nil {
				t.Fatal(err)
			}
			for i := range tr.Tokens() {
				if _, err := s.Eval([]int32{int32(i)}, false); err != nil {
					t.Fatal(err)
				}
			}
			if want.Hits == 0 || want.Misses <= int64(spec.Layers*spec.Experts) { // more misses than the experts: some were evicted
				t.Errorf("%s, room for %d: %d hits, %d misses: no evictions to compare", name, capacity, want.Hits, want.Misses)
			}
			if st := m.PagerStats(); int64(st.Hits) != want.Hits || int64(st.Misses) != want.Misses {
				t.Errorf("%s, room for %d: pager %d hits %d misses, simulator %d, %d", name, capacity, st.Hits, st.Misses, want.Hits, want.Misses)
			}
		}
	}
}
