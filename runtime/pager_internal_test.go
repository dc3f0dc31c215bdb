package runtime

import (
	"fmt"
	"slices"
	"testing"

	"github.com/q3m/q3m/routing"
)

// residentSet lists the pager's resident experts as "layer:expert".
func residentSet(p *Pager) []string {
	var out []string
	for id, r := range p.resident {
		if r {
			out = append(out, fmt.Sprintf("%d:%d", id/p.experts, id%p.experts))
		}
	}
	return out
}

// fakePager is a pager of 2 layers of 4 experts of 10 bytes each, without
// a file, evicting least recently used experts: it keeps the books but
// advises nothing.
func fakePager(budget int64) *Pager { return policyPager(2, 4, budget, "lru") }

// policyPager is a pager of layers·experts experts of 10 bytes each
// without a file, evicting as the policy says.
func policyPager(layers, experts int, budget int64, policy string) *Pager {
	p, err := makePager(nil, layers, experts, LoadOptions{ExpertBudget: budget, Policy: policy})
	if err != nil {
		panic(err)
	}
	for id := range p.size {
		p.size[id] = 10
	}
	return p
}

func TestPagerEvictsLeastRecentlyUsedExpertsOutsideTheBatch(t *testing.T) {
	type step struct {
		layer   int
		experts []int
		want    []string // resident afterwards
	}
	for _, c := range []struct {
		name   string
		budget int64
		steps  []step
	}{
		{"within budget nothing is dropped", 30, []step{
			{0, []int{0, 1}, []string{"0:0", "0:1"}},
			{0, []int{2, 2}, []string{"0:0", "0:1", "0:2"}},
		}},
		{"the oldest goes first", 30, []step{
			{0, []int{0, 1}, []string{"0:0", "0:1"}},
			{0, []int{2}, []string{"0:0", "0:1", "0:2"}},
			{1, []int{0}, []string{"0:1", "0:2", "1:0"}},
		}},
		{"a hit makes an expert the newest", 30, []step{
			{0, []int{0, 1, 2}, []string{"0:0", "0:1", "0:2"}},
			{0, []int{0}, []string{"0:0", "0:1", "0:2"}},
			{1, []int{3}, []string{"0:0", "0:2", "1:3"}},
			{1, []int{1, 2}, []string{"1:1", "1:2", "1:3"}},
		}},
		{"a batch larger than the budget stays whole", 30, []step{
			{1, []int{0}, []string{"1:0"}},
			{0, []int{3, 0, 1, 2, 1}, []string{"0:0", "0:1", "0:2", "0:3"}},
		}},
		{"no budget keeps everything", 0, []step{
			{0, []int{0, 1, 2, 3}, []string{"0:0", "0:1", "0:2", "0:3"}},
			{1, []int{0, 1, 2, 3}, []string{"0:0", "0:1", "0:2", "0:3", "1:0", "1:1", "1:2", "1:3"}},
		}},
		{"invalid experts are ignored", 30, []step{
			{0, []int{-1, 4, 1}, []string{"0:1"}},
			{2, []int{0}, []string{"0:1"}},
		}},
	} {
		p := fakePager(c.budget)
		for i, s := range c.steps {
			p.Ensure(s.layer, s.experts)
			if got := residentSet(p); !slices.Equal(got, s.want) {
				t.Errorf("%s: step %d: resident %v, want %v", c.name, i, got, s.want)
			}
			st := p.Stats()
			if st.ResidentBytes != int64(10*len(s.want)) || st.Resident != len(s.want) {
				t.Errorf("%s: step %d: %d experts of %d bytes counted resident, want %d", c.name, i, st.Resident, st.ResidentBytes, len(s.want))
			}
		}
	}
}

func TestPagerCountsHitsMissesAndPrefetches(t *testing.T) {
	p := fakePager(20)
	p.Ensure(0, []int{0, 1, 0})   // two misses
	p.Prefetch(0, []int{1, 3, 3}) // 1 is resident: only 3 is read ahead
	p.Ensure(0, []int{3, 1})      // 3: predicted miss, 1: hit; both predicted
	p.Prefetch(0, []int{2})       // predicted, never chosen
	p.Ensure(1, []int{0})         // a miss in another layer; evicts 0:3
	want := PagerStats{
		Hits: 1, Misses: 4, Predicted: 3, PrefetchHits: 2, Evictions: 2,
		BytesIn: 10*4 + 10, BytesPrefetched: 20, BytesOut: 20,
		Resident: 2, ResidentBytes: 20, Budget: 20,
	}
	if got := p.Stats(); got != want {
		t.Errorf("stats\n got %+v\nwant %+v", got, want)
	}
}

func TestPagerPredictsOnlyWhereItCanHelp(t *testing.T) {
	p := fakePager(0)
	p.Ensure(0, []int{0, 1, 2, 3})
	if p.wantsPrediction(0) {
		t.Error("with no budget, a layer whose experts are all resident still asks for prediction")
	}
	if !p.wantsPrediction(1) {
		t.Error("a layer with experts not resident does not ask for prediction")
	}
	if q := fakePager(30); !q.wantsPrediction(0) {
		t.Error("a pager with a budget does not ask for prediction")
	}
}

// TestPagerEvictsAsTheSimulatorDoes runs generated traces through the
// pager and through routing.Simulate, two implementations of the same
// cache, under every policy: their hits and misses must agree.
func TestPagerEvictsAsTheSimulatorDoes(t *testing.T) {
	const layers, experts, k = 4, 16, 2
	for _, pattern := range []routing.Pattern{routing.Qwen3, routing.Uniform} {
		tr, err := routing.Generate(routing.GenSpec{Layers: layers, Experts: experts, K: k, Tokens: 300, Pattern: pattern, Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range routing.Policies {
			for _, capacity := range []int{k, 10, 25, 50} {
				pol, _ := routing.NewPolicy(name, layers, experts)
				want, err := routing.Simulate(tr, experts, capacity, pol)
				if err != nil {
					t.Fatal(err)
				}
				p := policyPager(layers, experts, int64(10*capacity), name)
				chosen := make([]int, k)
				for tok := range tr.Tokens() {
					for l := range layers {
						e, _ := tr.At(tok, l)
						for r := range chosen {
							chosen[r] = int(e[r])
						}
						p.Ensure(l, chosen)
					}
				}
				if st := p.Stats(); int64(st.Hits) != want.Hits || int64(st.Misses) != want.Misses {
					t.Errorf("%s trace, %s, room for %d: pager %d hits %d misses, simulator %d, %d", pattern, name, capacity, st.Hits, st.Misses, want.Hits, want.Misses)
				}
			}
		}
	}
}

func TestMakePagerRejectsAnUnknownPolicy(t *testing.T) {
	if _, err := makePager(nil, 1, 4, LoadOptions{Policy: "fifo"}); err == nil {
		t.Error("an unknown policy accepted")
	}
}

// TestPrefetchSwitchesItselfOffWhenItDoesNotPay feeds the pager windows of
// predictions that are all wrong, then all right: prediction goes off for
// 16 tokens, then 32 (failures in a row double it), and stays on once a
// window pays.
func TestPrefetchSwitchesItselfOffWhenItDoesNotPay(t *testing.T) {
	const layers, experts = 2, 64
	p := policyPager(layers, experts, 10<<20, "lru")
	for id := range p.size {
		p.size[id] = 4 << 20 // 32 experts fill a 128 MiB window
	}
	// token runs one pass through the layers choosing experts chosen and,
	// when predict, having predicted the experts predicted for each layer.
	token := func(predict bool, predicted, chosen []int) {
		for l := range layers {
			if predict && p.wantsPrediction(l) {
				p.Prefetch(l, predicted)
			}
			p.Ensure(l, chosen)
		}
	}
	wrong, right := []int{0, 1, 2, 3, 4, 5, 6, 7}, []int{8, 9, 10, 11, 12, 13, 14, 15}
	for range 2 { // 32 wrong predictions: one window
		token(true, wrong, right)
	}
	st := p.Stats()
	if st.PrefetchOff != 1 || st.PrefetchWasted != 128<<20 || st.PrefetchUseful != 0 {
		t.Fatalf("after a window of wrong predictions: off %d times, %d bytes wasted, %d useful", st.PrefetchOff, st.PrefetchWasted, st.PrefetchUseful)
	}
	off := 0
	for p.clock < 100 && !p.wantsPrediction(0) {
		token(false, nil, right)
		off++
	}
	if off != 16 { // counted from the token that ended the window
		t.Errorf("prediction off for %d tokens after the first failure, want 16", off)
	}
	for range 2 {
		token(true, wrong, right)
	}
	if st := p.Stats(); st.PrefetchOff != 2 || p.gate.off != 32 {
		t.Errorf("after a second failure: off %d times, for %d tokens", st.PrefetchOff, p.gate.off)
	}
	for p.clock < 200 && !p.wantsPrediction(0) {
		token(false, nil, right)
	}
	// Right predictions of experts not resident: each token chooses the
	// 8 it predicted, 8 new ones (ids cycle through the layer's 64).
	for i := range 4 {
		next := make([]int, 8)
		for j := range next {
			next[j] = (16 + 8*i + j) % experts
		}
		token(true, next, next)
	}
	st = p.Stats()
	if st.PrefetchOff != 2 || p.gate.off != 0 || !p.wantsPrediction(0) || st.PrefetchUseful != 256<<20 { // two windows
		t.Errorf("after a window of right predictions: off %d times (last for %d tokens), useful %d bytes, wanted: %v",
			st.PrefetchOff, p.gate.off, st.PrefetchUseful, p.wantsPrediction(0))
	}
	// A window in which 80 % of the bytes read ahead are chosen does not
	// pay (prefetchMinUseful): 4 tokens × 2 layers × 5 experts predicted,
	// 4 of them chosen, new ids each time.
	fresh := 100
	for range 4 {
		pred := make([]int, 5)
		for j := range pred {
			pred[j] = fresh % experts
			fresh++
		}
		token(true, pred, pred[:4])
	}
	if st := p.Stats(); st.PrefetchOff != 3 {
		t.Errorf("after a window 80%% useful: off %d times, want 3 (useful %d, wasted %d bytes)", st.PrefetchOff, st.PrefetchUseful, st.PrefetchWasted)
	}
}
