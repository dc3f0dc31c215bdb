package runtime_test

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/q3m/q3m/convert"
	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/quant"
	routes "github.com/q3m/q3m/routing"
	"github.com/q3m/q3m/runtime"
	"github.com/q3m/q3m/synth"
)

// convertSpec writes the synthetic checkpoint of spec and converts it to a
// Q8_0 file (page-aligned tensors), returning the file's path.
func convertSpec(t *testing.T, spec synth.Spec) string {
	t.Helper()
	dir := t.TempDir()
	hf := filepath.Join(dir, "hf")
	if err := synth.Write(hf, spec); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "model-q8_0.gguf")
	if err := convert.Convert(context.Background(), hf, out, convert.Options{Type: quant.Q8_0, Threads: 2}); err != nil {
		t.Fatal(err)
	}
	return out
}

// pagerIDs is a prompt evaluated in one batch followed by tokens decoded
// one at a time.
var pagerIDs = []int32{11, 200, 37, 415, 3, 88, 250, 9, 130, 301, 77, 5, 480, 64, 199, 2}

const pagerPrompt = 8

// pagerLogits runs pagerIDs through a new session of m and returns the
// logits of every position, prompt and decoded.
func pagerLogits(t *testing.T, m *runtime.Model) []float32 {
	t.Helper()
	s, err := m.NewSession(runtime.SessionOptions{ContextLen: 64, Threads: 2})
	if err != nil {
		t.Error(err)
		return nil
	}
	out, err := s.Eval(pagerIDs[:pagerPrompt], true)
	if err != nil {
		t.Error(err)
		return nil
	}
	all := append([]float32(nil), out...)
	for _, id := range pagerIDs[pagerPrompt:] {
		out, err := s.Eval([]int32{id}, false)
		if err != nil {
			t.Error(err)
			return nil
		}
		all = append(all, out...)
	}
	return all
}

func loadWith(t *testing.T, path string, opt runtime.LoadOptions) *runtime.Model {
	t.Helper()
	m, err := runtime.LoadWith(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// sameBits reports the first position where two logit sequences differ in
// any bit, or -1.
func sameBits(a, b []float32) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

func TestPagerNeverChangesLogits(t *testing.T) {
	path := convertSpec(t, synth.Variants()["base"])
	want := pagerLogits(t, loadWith(t, path, runtime.LoadOptions{NoPager: true}))
	for _, c := range []struct {
		name      string
		opt       runtime.LoadOptions
		evictions bool
	}{
		{"no budget", runtime.LoadOptions{}, false},
		{"one-byte budget: every batch evicts the rest", runtime.LoadOptions{ExpertIO: runtime.IOMmap, ExpertBudget: 1}, true},
		{"one-byte budget without prefetch", runtime.LoadOptions{ExpertIO: runtime.IOMmap, ExpertBudget: 1, NoPrefetch: true}, true},
	} {
		m := loadWith(t, path, c.opt)
		got := pagerLogits(t, m)
		if i := sameBits(got, want); i >= 0 {
			t.Errorf("%s: logits differ from the run without a pager at value %d", c.name, i)
		}
		st := m.PagerStats()
		if st.Misses == 0 || (st.Evictions > 0) != c.evictions {
			t.Errorf("%s: %d misses, %d evictions", c.name, st.Misses, st.Evictions)
		}
		if (st.Predicted > 0) == c.opt.NoPrefetch {
			t.Errorf("%s: %d experts predicted", c.name, st.Predicted)
		}
		if st.PrefetchHits > st.Predicted || st.Errors != 0 {
			t.Errorf("%s: %d prefetch hits of %d predictions, %d madvise errors", c.name, st.PrefetchHits, st.Predicted, st.Errors)
		}
	}
}

func TestPagerIsSharedSafelyBySessions(t *testing.T) {
	path := convertSpec(t, synth.Variants()["base"])
	want := pagerLogits(t, loadWith(t, path, runtime.LoadOptions{NoPager: true}))
	m := loadWith(t, path, runtime.LoadOptions{ExpertIO: runtime.IOMmap, ExpertBudget: 1})
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

func TestLoadWithRejectsANegativeBudget(t *testing.T) {
	if _, err := runtime.LoadWith("unused.gguf", runtime.LoadOptions{ExpertBudget: -1}); err == nil {
		t.Error("a negative budget was accepted")
	}
}

func TestPagerStatsOfAModelWithoutPagerAreZero(t *testing.T) {
	path := convertSpec(t, synth.Variants()["base"])
	m := loadWith(t, path, runtime.LoadOptions{NoPager: true})
	pagerLogits(t, m)
	if st := m.PagerStats(); st != (runtime.PagerStats{}) {
		t.Errorf("stats %+v without a pager", st)
	}
}

func TestDecodeWithABudgetAllocatesNothing(t *testing.T) {
	m := loadWith(t, convertSpec(t, synth.Variants()["base"]), runtime.LoadOptions{ExpertIO: runtime.IOMmap, ExpertBudget: 1})
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
		id[0] = (id[0]*31 + 5) % 512 // other experts each time: misses and evictions
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

func TestEveryPolicyKeepsTheLogits(t *testing.T) {
	path := convertSpec(t, synth.Variants()["base"])
	want := pagerLogits(t, loadWith(t, path, runtime.LoadOptions{NoPager: true}))
	for _, name := range routes.Policies {
		// 20 KiB: about three of the base model's 6.4 KiB experts.
		for _, budget := range []int64{1, 20 << 10} {
			m := loadWith(t, path, runtime.LoadOptions{ExpertIO: runtime.IOMmap, ExpertBudget: budget, Policy: name})
			if i := sameBits(pagerLogits(t, m), want); i >= 0 {
				t.Errorf("%s, budget %d: logits differ from the run without a pager at value %d", name, budget, i)
			}
			if st := m.PagerStats(); st.Evictions == 0 {
				t.Errorf("%s, budget %d: no evictions", name, budget)
			}
		}
	}
	if _, err := runtime.LoadWith(path, runtime.LoadOptions{Policy: "fifo"}); err == nil {
		t.Error("an unknown policy accepted")
	}
}

// expertBytes returns the bytes of the file's expert tensors and their number.
func expertBytes(t *testing.T, path string) (bytes int64, tensors int) {
	t.Helper()
	f, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, ti := range f.Tensors {
		if strings.Contains(ti.Name, "_exps.") {
			bytes += int64(ti.Bytes())
			tensors++
		}
	}
	return bytes, tensors
}
