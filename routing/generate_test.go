package routing

import (
	"math"
	"slices"
	"testing"
)

func TestGeneratedTracesHaveThePublishedStatistics(t *testing.T) {
	for _, c := range []struct {
		spec                  GenSpec
		prev, window, massShr float64 // targets
		tol                   [3]float64
	}{
		// Qwen3-30B-A3B's geometry (observed 0.423, 0.801, 65.1/128 at
		// 4096 tokens; shorter traces look a little more concentrated).
		{GenSpec{Layers: 48, Experts: 128, K: 8, Tokens: 2048, Pattern: Qwen3, Seed: 1}, Qwen3PrevShare, Qwen3WindowShare, Qwen3MassShare, [3]float64{0.02, 0.02, 0.03}},
		{GenSpec{Layers: 6, Experts: 64, K: 4, Tokens: 2048, Pattern: Qwen3, Seed: 2}, Qwen3PrevShare, Qwen3WindowShare, Qwen3MassShare, [3]float64{0.02, 0.02, 0.04}},
		// Uniform: a given expert is among the previous token's k with
		// probability k/E, among 8 tokens' with 1-(1-k/E)^8.
		{GenSpec{Layers: 8, Experts: 128, K: 8, Tokens: 4096, Pattern: Uniform, Seed: 3}, 8.0 / 128, 1 - math.Pow(1-8.0/128, 8), 0.9, [3]float64{0.005, 0.01, 0.03}},
	} {
		tr, err := Generate(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Check(Geometry{Layers: c.spec.Layers, Experts: c.spec.Experts, K: c.spec.K}); err != nil {
			t.Fatal(err)
		}
		st := Measure(tr)
		t.Logf("%+v: %+v", c.spec, st)
		if math.Abs(st.PrevShare-c.prev) > c.tol[0] || math.Abs(st.WindowShare-c.window) > c.tol[1] || math.Abs(st.MassShare-c.massShr) > c.tol[2] {
			t.Errorf("%+v: previous token %.3f, 8 tokens %.3f, 90%% mass on %.3f of the experts; want %.3f, %.3f, %.3f", c.spec, st.PrevShare, st.WindowShare, st.MassShare, c.prev, c.window, c.massShr)
		}
		for o := 0; o < len(tr.Weights); o += tr.K {
			w := tr.Weights[o : o+tr.K]
			var sum float64
			for _, v := range w {
				sum += float64(v)
			}
			if math.Abs(sum-1) > 1e-5 || !slices.IsSortedFunc(w, func(a, b float32) int { return cmpFloat(float64(b), float64(a)) }) {
				t.Fatalf("weights %v: not descending or summing to %v", w, sum)
			}
		}
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	g := GenSpec{Layers: 3, Experts: 16, K: 2, Tokens: 100, Pattern: Qwen3, Seed: 7}
	a, _ := Generate(g)
	b, _ := Generate(g)
	g.Seed = 8
	c, _ := Generate(g)
	if !slices.Equal(a.Experts, b.Experts) || !slices.Equal(a.Weights, b.Weights) || slices.Equal(a.Experts, c.Experts) {
		t.Error("the same seed gives another trace, or another seed the same")
	}
}

func TestGenerateRejectsImpossibleSpecs(t *testing.T) {
	for _, g := range []GenSpec{
		{Layers: 0, Experts: 8, K: 2, Tokens: 1, Pattern: Uniform},
		{Layers: 1, Experts: 8, K: 9, Tokens: 1, Pattern: Uniform},
		{Layers: 1, Experts: 8, K: 2, Tokens: 0, Pattern: Uniform},
		{Layers: 1, Experts: 1 << 20, K: 2, Tokens: 1, Pattern: Uniform},
		{Layers: 1000, Experts: 128, K: 8, Tokens: 1 << 20, Pattern: Uniform},
		{Layers: 1 << 16, Experts: 1 << 16, K: 1 << 16, Tokens: 1 << 62, Pattern: Uniform},
		{Layers: 1, Experts: 8, K: 2, Tokens: 1, Pattern: "zipf"},
	} {
		if _, err := Generate(g); err == nil {
			t.Errorf("%+v accepted", g)
		}
	}
}

func TestMeasureOfAHandCountedTrace(t *testing.T) {
	// One layer, k = 2, 10 tokens: {0,1} {1,2} {3,4} {5,6} {7,8} {10,11}
	// {12,13} {14,15} {0,9} {1,16}.
	tr := &Trace{Layers: []int{0}, K: 2, Experts: []int32{
		0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 0, 9, 1, 16,
	}}
	st := Measure(tr)
	// Previous token: only token 1 shares one (1) with token 0: 1 of 18.
	if want := 1.0 / 18; math.Abs(st.PrevShare-want) > 1e-12 {
		t.Errorf("previous-token share %v, want %v", st.PrevShare, want)
	}
	// Window over tokens 8 and 9: 0 (token 0, 8 back) yes, 9 no, 1 (token
	// 1, 8 back) yes, 16 no: 2 of 4.
	if st.WindowShare != 0.5 {
		t.Errorf("window share %v, want 0.5", st.WindowShare)
	}
	// Counts: 1 thrice, 0 twice, 15 others once: 20 choices, 90% is 18:
	// 3 + 2 + 13 ones, 15 experts.
	if st.MassExperts != 15 || st.Distinct != 17 {
		t.Errorf("90%% of the mass on %v experts, %d distinct; want 15, 17", st.MassExperts, st.Distinct)
	}
}
