package runtime_test

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"testing"

	"github.com/q3m/q3m/runtime"
	"github.com/q3m/q3m/synth"
)

// loadIO loads path with opt, skipping the test when the system refuses
// uncached reads of the file (O_DIRECT on a file system without it).
func loadIO(t *testing.T, path string, opt runtime.LoadOptions) *runtime.Model {
	t.Helper()
	m, err := runtime.LoadWith(path, opt)
	if opt.ExpertIO == runtime.IODirect && errors.Is(err, syscall.EINVAL) {
		t.Skipf("O_DIRECT refused for %s: %v", path, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// TestEveryExpertIOKeepsTheLogits runs the prompt and decoded tokens under
// each mechanism, policy and budget: a budget of one byte gives the pool
// one token's experts of a layer (k slots), so the 8-token prompt's batch
// reads most of its experts through the mapping; 200 KiB holds a few
// more, evicting; no budget holds every expert.
func TestEveryExpertIOKeepsTheLogits(t *testing.T) {
	path := convertSpec(t, synth.Variants()["base"])
	want := pagerLogits(t, loadWith(t, path, runtime.LoadOptions{NoPager: true}))
	for _, mech := range []runtime.ExpertIO{runtime.IOPread, runtime.IODirect} {
		for _, c := range []struct {
			budget     int64
			policy     string
			noPrefetch bool
		}{
			{0, "", false}, {1, "", false}, {1, "", true}, {200 << 10, "", false},
			{1, "lru", false}, {200 << 10, "lfu", false}, {200 << 10, "cyclic", true},
		} {
			name := fmt.Sprintf("%s, budget %d, policy %q, prefetch %v", mech, c.budget, c.policy, !c.noPrefetch)
			m := loadIO(t, path, runtime.LoadOptions{ExpertIO: mech, ExpertBudget: c.budget, NoAutoBudget: c.budget == 0, Policy: c.policy, NoPrefetch: c.noPrefetch})
			if i := sameBits(pagerLogits(t, m), want); i >= 0 {
				t.Errorf("%s: logits differ from the run without a pager at value %d", name, i)
			}
			st := m.PagerStats()
			if st.ExpertIO != mech.String() || st.Slots == 0 || st.Misses == 0 || st.Errors != 0 || st.InMemory == 0 {
				t.Errorf("%s: stats %+v", name, st)
			}
			cfg := m.Config()
			if all := cfg.Layers * cfg.Experts; (st.Slots < all) != (st.Evictions > 0) || (c.budget == 0) != (st.Slots == all) {
				t.Errorf("%s: %d evictions with %d slots for %d experts", name, st.Evictions, st.Slots, all)
			}
			if c.budget == 1 && st.Slots != cfg.ExpertsUsed {
				t.Errorf("%s: %d slots, want one token's %d experts of a layer", name, st.Slots, cfg.ExpertsUsed)
			}
		}
	}
}

// TestSlotsAreSharedSafelyBySessions runs three sessions at once on a pool
// of 8 slots: they pin, evict and read through the mapping each other's
// experts. Run it with -race.
func TestSlotsAreSharedSafelyBySessions(t *testing.T) {
	path := convertSpec(t, synth.Variants()["base"])
	want := pagerLogits(t, loadWith(t, path, runtime.LoadOptions{NoPager: true}))
	m := loadIO(t, path, runtime.LoadOptions{ExpertIO: runtime.IOPread, ExpertBudget: 1})
	var wg sync.WaitGroup
	got := make([][]float32, 3)
	for i := range got {
		wg.Go(func() { got[i] = pagerLogits(t, m) })
	}
	wg.Wait()
	for i, g := range got {
		if j := sameBits(g, want); j >= 0 {
			t.Errorf("session %d: logits differ from the run without a pager at value %d", i, j)
		}
	}
}

func TestDecodeFromSlotsAllocatesNothing(t *testing.T) {
	m := loadIO(t, convertSpec(t, synth.Variants()["base"]), runtime.LoadOptions{ExpertIO: runtime.IOPread, ExpertBudget: 1})
	s, err := m.NewSession(runtime.SessionOptions{ContextLen: 64, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Eval(pagerIDs[:pagerPrompt], false); err != nil {
		t.Fatal(err)
	}
	id := []int32{7}
	allocs := testing.AllocsPerRun(10, func() {
		s.Truncate(pagerPrompt)
		id[0] = (id[0]*31 + 5) % 512
		if _, err := s.Eval(id, false); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per decoded token", allocs)
	}
	if st := m.PagerStats(); st.Evictions == 0 {
		t.Errorf("no evictions: %+v", st)
	}
}

func TestParseExpertIONamesEachMechanism(t *testing.T) {
	for i, name := range runtime.ExpertIOs {
		got, err := runtime.ParseExpertIO(name)
		if err != nil || got != runtime.ExpertIO(i) || got.String() != name {
			t.Errorf("ParseExpertIO(%q) = %v, %v", name, got, err)
		}
	}
	if _, err := runtime.ParseExpertIO("aio"); err == nil {
		t.Error("an unknown mechanism accepted")
	}
}

// TestSlotsReadEachExpertOncePerBatch evaluates an 8-token prompt in one
// batch: every expert any of its tokens chose is read once, whatever the
// number of tokens that chose it, both when the pool holds them all and
// when it holds one token's experts (the rest read through the mapping).
func TestSlotsReadEachExpertOncePerBatch(t *testing.T) {
	path := convertSpec(t, synth.Variants()["base"])
	exps, tensors := expertBytes(t, path)
	for _, budget := range []int64{0, 1} {
		m := loadIO(t, path, runtime.LoadOptions{ExpertIO: runtime.IOPread, ExpertBudget: budget, NoAutoBudget: budget == 0, NoPrefetch: true})
		cfg := m.Config()
		each := exps / int64(tensors/3) / int64(cfg.Experts) // one expert's gate, up and down
		s, err := m.NewSession(runtime.SessionOptions{ContextLen: 64, Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		chosen, picks := map[[2]int]bool{}, 0
		s.Trace = func(layer, pos int, experts []int, _ []float32) {
			for _, e := range experts {
				chosen[[2]int{layer, e}] = true
				picks++
			}
		}
		if _, err := s.Eval(pagerIDs[:pagerPrompt], false); err != nil {
			t.Fatal(err)
		}
		st := m.PagerStats()
		t.Logf("budget %d: %d slots; %d picks of %d experts; %d misses, %d bytes in", budget, st.Slots, picks, len(chosen), st.Misses, st.BytesIn)
		if st.Misses != uint64(len(chosen)) || st.Hits != 0 || st.BytesIn != uint64(len(chosen))*uint64(each) || picks <= len(chosen) {
			t.Errorf("budget %d: %d picks of %d experts gave %d misses, %d hits, %d bytes read; want one read of %d bytes each",
				budget, picks, len(chosen), st.Misses, st.Hits, st.BytesIn, each)
		}
	}
}
