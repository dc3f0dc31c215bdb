package runtime_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/runtime"
	"github.com/q3m/q3m/synth"
)

func TestMemoryPlanDividesTheLimit(t *testing.T) {
	spec := synth.Variants()["base"] // 3 MoE layers of 8 experts, 2 per token, H 64, I 32
	path := convertSpec(t, spec)
	f, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Q8_0: 34 bytes per 32 values; an expert is 3 matrices of H·I values.
	each := int64(3 * spec.Hidden * spec.ExpertFFN / 32 * 34)
	wantExperts := int64(spec.Layers*spec.Experts) * each
	wantWorkingSet := int64(spec.Layers*spec.ExpertsUsed) * each
	wantKV := int64(2 * spec.Layers * spec.KVHeads * spec.HeadDim * 2) // keys and values in f16, the default cache
	var all int64
	for _, ti := range f.Tensors {
		all += int64(ti.Bytes())
	}
	base, err := runtime.PlanMemory(f, 100, 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	fixed := base.NonExpertBytes + base.KVBytes + base.ScratchBytes + 64<<20 // all but the cache and the proportional margin
	for _, c := range []struct {
		name      string
		available int64
		fits      bool
		share     float64 // ±1e-6
		warn      bool
	}{
		{"plenty: all experts fit", 1 << 40, true, 1, false},
		{"exactly the experts", (fixed + wantExperts) * 32 / 31, true, 1, false},
		{"half the experts", (fixed + wantExperts/2) * 32 / 31, false, 0.5, false},
		{"one token's working set", (fixed + wantWorkingSet) * 32 / 31, false, float64(wantWorkingSet) / float64(wantExperts), false},
		{"below the working set", (fixed + wantWorkingSet/2) * 32 / 31, false, float64(wantWorkingSet/2) / float64(wantExperts), true},
		{"not even the other weights", 1 << 20, false, 0, true},
	} {
		p, err := runtime.PlanMemory(f, 100, c.available)
		if err != nil {
			t.Fatal(err)
		}
		if p.ExpertBytes != wantExperts || p.WorkingSet != wantWorkingSet || p.KVBytesPerToken != wantKV ||
			p.KVBytes != 100*wantKV || p.NonExpertBytes != all-wantExperts || p.Experts != spec.Layers*spec.Experts {
			t.Errorf("%s: plan %+v: want %d expert bytes, working set %d, KV %d per token, %d other bytes", c.name, p, wantExperts, wantWorkingSet, wantKV, all-wantExperts)
		}
		if p.Margin != 64<<20+c.available/32 {
			t.Errorf("%s: margin %d", c.name, p.Margin)
		}
		if want := max(c.available-p.NonExpertBytes-p.KVBytes-p.ScratchBytes-p.Margin, 0); p.ExpertCache != want {
			t.Errorf("%s: expert cache %d, want %d", c.name, p.ExpertCache, want)
		}
		// The ·32/31 above rounds down, so shares come out a few bytes short.
		if p.Fits != c.fits || p.ResidentShare < c.share-1e-3 || p.ResidentShare > c.share || (p.Warning() != "") != c.warn {
			t.Errorf("%s: fits %v, share %v, warning %q; want %v, %v, warning %v", c.name, p.Fits, p.ResidentShare, p.Warning(), c.fits, c.share, c.warn)
		}
		if p.UniformHitRate() != p.ResidentShare {
			t.Errorf("%s: uniform hit rate %v, share resident %v", c.name, p.UniformHitRate(), p.ResidentShare)
		}
		if b := p.Budget(); (b == 0) != p.Fits || (!p.Fits && b != max(p.ExpertCache, 1)) {
			t.Errorf("%s: budget %d for a cache of %d (fits %v)", c.name, b, p.ExpertCache, p.Fits)
		}
		// The mechanism --expert-io auto picks: the mapping when every
		// expert fits, O_DIRECT into slots when the cache is capped.
		wantIO := runtime.IODirect
		if c.fits {
			wantIO = runtime.IOMmap
		}
		if p.ExpertIO != wantIO || runtime.AutoExpertIO(p.Budget()) != wantIO {
			t.Errorf("%s: expert reads %v (auto: %v), want %v", c.name, p.ExpertIO, runtime.AutoExpertIO(p.Budget()), wantIO)
		}
		if s := p.String(); !strings.Contains(s, "expert cache:") || strings.Contains(s, "warning") != c.warn || !strings.Contains(s, "expert reads:       "+wantIO.String()+" (") {
			t.Errorf("%s: description\n%s", c.name, s)
		}
	}
}

func TestMemoryPlanRejectsNegativeFigures(t *testing.T) {
	f, err := format.Open(convertSpec(t, synth.Variants()["base"]))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := runtime.PlanMemory(f, -1, 1<<30); err == nil {
		t.Error("a negative context length was accepted")
	}
	if _, err := runtime.PlanMemory(f, 0, -1); err == nil {
		t.Error("a negative limit was accepted")
	}
}

func TestLoadSizesTheBudgetFromTheMemoryLimit(t *testing.T) {
	path := convertSpec(t, synth.Variants()["base"])
	want := pagerLogits(t, loadWith(t, path, runtime.LoadOptions{NoPager: true}))
	f, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := runtime.PlanMemory(f, 64, 1<<40)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	// A third of the experts fit.
	third := (p.NonExpertBytes + p.KVBytes + p.ScratchBytes + 64<<20 + p.ExpertBytes/3) * 32 / 31
	for _, c := range []struct {
		name       string
		opt        runtime.LoadOptions
		wantBudget func(runtime.MemoryPlan) int64
	}{
		{"a limit below the experts caps them", runtime.LoadOptions{MemoryLimit: third, ContextLen: 64},
			func(p runtime.MemoryPlan) int64 { return max(p.ExpertCache, 1) }},
		{"a limit above the experts sets no cap", runtime.LoadOptions{MemoryLimit: 1 << 40},
			func(runtime.MemoryPlan) int64 { return 0 }},
		{"a budget given wins", runtime.LoadOptions{MemoryLimit: 70 << 20, ExpertBudget: 12345},
			func(runtime.MemoryPlan) int64 { return 12345 }},
		{"no automatic budget", runtime.LoadOptions{MemoryLimit: 70 << 20, NoAutoBudget: true},
			func(runtime.MemoryPlan) int64 { return 0 }},
		{"the detected limit", runtime.LoadOptions{},
			func(p runtime.MemoryPlan) int64 { return p.Budget() }},
	} {
		m := loadWith(t, path, c.opt)
		plan, err := m.MemoryPlan()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if c.opt.MemoryLimit != 0 && (plan.Available != c.opt.MemoryLimit || plan.Source != "given") {
			t.Errorf("%s: plan for %d bytes from %q", c.name, plan.Available, plan.Source)
		}
		if c.opt.MemoryLimit == 0 && plan.Source == "given" {
			t.Errorf("%s: detected limit reported as given", c.name)
		}
		if got := pagerLogits(t, m); sameBits(got, want) >= 0 {
			t.Errorf("%s: logits differ from the run without a pager", c.name)
		}
		st, w := m.PagerStats(), c.wantBudget(plan)
		if st.Budget != w {
			t.Errorf("%s: budget %d, want %d (plan %+v)", c.name, st.Budget, w, plan)
		}
		// By default the experts are read through the mapping without a
		// cap and with O_DIRECT under one (plain pread, said in the plan,
		// where the file system refuses it); the plan names what is used.
		wantIO := []string{"mmap"}
		if w > 0 {
			wantIO = []string{"direct", "pread"}
		}
		if !slices.Contains(wantIO, st.ExpertIO) || plan.ExpertIO.String() != st.ExpertIO || (st.ExpertIO == "pread") != (plan.ExpertIONote != "") {
			t.Errorf("%s: budget %d: experts read with %s, plan says %v (%q); want one of %v", c.name, w, st.ExpertIO, plan.ExpertIO, plan.ExpertIONote, wantIO)
		}
		if c.opt.MemoryLimit == third && (w < p.ExpertBytes/4 || w > p.ExpertBytes/3 || st.Evictions == 0) {
			t.Errorf("%s: budget %d for %d expert bytes, %d evictions", c.name, w, p.ExpertBytes, st.Evictions)
		}
	}
}

func TestAutoExpertIOMapsWhenAllFitAndReadsDirectWhenCapped(t *testing.T) {
	for _, c := range []struct {
		budget int64
		want   runtime.ExpertIO
	}{{0, runtime.IOMmap}, {1, runtime.IODirect}, {8 << 30, runtime.IODirect}} {
		if got := runtime.AutoExpertIO(c.budget); got != c.want {
			t.Errorf("AutoExpertIO(%d) = %v, want %v", c.budget, got, c.want)
		}
	}
	if got, err := runtime.ParseExpertIO("auto"); err != nil || got != runtime.IOAuto || (runtime.LoadOptions{}).ExpertIO != runtime.IOAuto {
		t.Errorf("ParseExpertIO(auto) = %v, %v; the default is %v", got, err, (runtime.LoadOptions{}).ExpertIO)
	}
}
