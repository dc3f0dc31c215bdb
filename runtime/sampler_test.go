package runtime

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// samplerReference computes, in float64 and from the documented rules
// alone, the distribution a Sampler with options o draws from.
func samplerReference(logits []float32, history []int32, o SamplerOptions) []float64 {
	n := len(logits)
	l := make([]float64, n)
	for i, v := range logits {
		l[i] = float64(v)
	}
	seen := map[int32]bool{}
	for _, t := range history {
		if t < 0 || int(t) >= n || seen[t] {
			continue
		}
		seen[t] = true
		if rp := float64(o.RepetitionPenalty); rp != 0 && rp != 1 {
			if l[t] > 0 {
				l[t] /= rp
			} else {
				l[t] *= rp
			}
		}
		l[t] -= float64(o.PresencePenalty)
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case l[a] > l[b]:
			return -1
		case l[a] < l[b]:
			return 1
		}
		return 0
	})
	if o.TopK > 0 && o.TopK < n {
		order = order[:o.TopK]
	}
	p := make([]float64, n)
	var sum float64
	for _, i := range order {
		p[i] = math.Exp(l[i] / float64(o.Temperature))
		sum += p[i]
	}
	for _, i := range order {
		p[i] /= sum
	}
	if o.TopP > 0 && o.TopP < 1 {
		var cum float64
		for j, i := range order {
			cum += p[i]
			if cum >= float64(o.TopP) {
				order = order[:j+1]
				break
			}
		}
	}
	pmax := p[order[0]]
	out := make([]float64, n)
	sum = 0
	for _, i := range order {
		if p[i] >= float64(o.MinP)*pmax {
			out[i] = p[i]
			sum += p[i]
		}
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// samplerChiSquareBound is the chi-square critical value for df degrees of
// freedom at significance 1e-4 (Wilson–Hilferty approximation, z = 3.719):
// a correct sampler with an arbitrary seed exceeds it once in 10,000 runs.
func samplerChiSquareBound(df int) float64 {
	d := float64(df)
	c := 2 / (9 * d)
	return d * math.Pow(1-c+3.719*math.Sqrt(c), 3)
}

// samplerCheckDistribution draws many tokens and compares their frequencies
// with want by a chi-square test, pooling cells expected to hold fewer than
// 5 draws; a draw outside want's support fails at once.
func samplerCheckDistribution(t *testing.T, s *Sampler, logits []float32, history []int32, want []float64, draws int) {
	t.Helper()
	counts := make([]int, len(logits))
	for range draws {
		id := s.Sample(logits, history)
		if id < 0 || int(id) >= len(logits) || want[id] == 0 {
			t.Fatalf("drew token %d, which has probability 0", id)
		}
		counts[id]++
	}
	var chi2, pooledE, pooledO float64
	cells := 0
	for i, p := range want {
		e := p * float64(draws)
		if p == 0 {
			continue
		}
		if e < 5 {
			pooledE += e
			pooledO += float64(counts[i])
			continue
		}
		chi2 += (float64(counts[i]) - e) * (float64(counts[i]) - e) / e
		cells++
	}
	if pooledE >= 5 {
		chi2 += (pooledO - pooledE) * (pooledO - pooledE) / pooledE
		cells++
	}
	if cells < 2 {
		return // a single possible outcome: the support check above suffices
	}
	if bound := samplerChiSquareBound(cells - 1); chi2 > bound {
		t.Errorf("chi-square %.2f over %d cells exceeds %.2f: counts %v, want %v", chi2, cells, bound, counts, want)
	}
}

func samplerRandomLogits(seed uint64, n int, scale float64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	l := make([]float32, n)
	for i := range l {
		l[i] = float32(r.NormFloat64() * scale)
	}
	return l
}

// samplerLongTail returns three likely tokens and a long tail of unlikely
// ones (each about 3e-4 as likely) that holds about 4% of the probability.
func samplerLongTail() []float32 {
	l := samplerRandomLogits(11, 400, 0.05)
	l[7], l[100], l[250] = 8, 8.1, 7.9
	return l
}

func samplerLogs(ps ...float64) []float32 {
	l := make([]float32, len(ps))
	for i, p := range ps {
		l[i] = float32(math.Log(p))
	}
	return l
}

func TestSamplerDrawsFromTheFilteredDistribution(t *testing.T) {
	probs := samplerLogs(0.5, 0.3, 0.15, 0.05)
	quarters := samplerLogs(0.4, 0.3, 0.2, 0.1)
	for _, c := range []struct {
		name    string
		logits  []float32
		history []int32
		opt     SamplerOptions
		support []int // if set, the tokens that must remain possible
	}{
		{"temperature only", samplerRandomLogits(1, 16, 1.5), nil, SamplerOptions{Temperature: 0.7}, nil},
		{"high temperature", samplerRandomLogits(2, 16, 3), nil, SamplerOptions{Temperature: 2}, nil},
		{"top-k", samplerRandomLogits(3, 50, 1), nil, SamplerOptions{Temperature: 1, TopK: 5}, nil},
		{"top-p keeps minimal set of two", probs, nil, SamplerOptions{Temperature: 1, TopP: 0.75}, []int{0, 1}},
		{"top-p keeps minimal set of three", probs, nil, SamplerOptions{Temperature: 1, TopP: 0.85}, []int{0, 1, 2}},
		{"top-p below the top token keeps one", probs, nil, SamplerOptions{Temperature: 1, TopP: 0.4}, []int{0}},
		{"min-p keeps three", quarters, nil, SamplerOptions{Temperature: 1, MinP: 0.45}, []int{0, 1, 2}},
		{"min-p keeps two", quarters, nil, SamplerOptions{Temperature: 1, MinP: 0.6}, []int{0, 1}},
		{"temperature sharpens before min-p", quarters, nil, SamplerOptions{Temperature: 0.5, MinP: 0.45}, []int{0, 1}},
		{"penalties", []float32{2, 1.8, -0.5, -0.3, 1, 0.2}, []int32{0, 0, 2, 5, 5, 5, 99, -1},
			SamplerOptions{Temperature: 1, RepetitionPenalty: 1.5, PresencePenalty: 0.7}, nil},
		{"top-p reaching into a long tail", samplerLongTail(), nil, SamplerOptions{Temperature: 1, TopP: 0.99}, nil},
		{"top-p and min-p in a long tail", samplerLongTail(), nil, SamplerOptions{Temperature: 1, TopP: 0.99, MinP: 3e-4}, nil},
		{"thinking defaults", samplerRandomLogits(4, 64, 2), nil, DefaultSampling(true), nil},
		{"non-thinking defaults", samplerRandomLogits(5, 64, 2), nil, DefaultSampling(false), nil},
		{"everything at once", samplerRandomLogits(6, 40, 1.5), []int32{1, 2, 3, 3},
			SamplerOptions{Temperature: 0.8, TopK: 12, TopP: 0.9, MinP: 0.05, RepetitionPenalty: 1.1, PresencePenalty: 0.3}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := samplerReference(c.logits, c.history, c.opt)
			if c.support != nil {
				for i, p := range want {
					if (p > 0) != slices.Contains(c.support, i) {
						t.Fatalf("reference support %v, want %v", want, c.support)
					}
				}
			}
			c.opt.Seed = 42
			draws := 100_000
			if len(c.logits) > 100 {
				draws = 20_000 // each draw sorts the tail: keep the test quick
			}
			samplerCheckDistribution(t, NewSampler(c.opt), c.logits, c.history, want, draws)
		})
	}
}

func TestSamplerTopKNeverLeavesTheTopK(t *testing.T) {
	logits := samplerRandomLogits(7, 1000, 0.5)
	logits[500] = logits[499] // a tie straddling nothing in particular
	const k = 20
	order := make([]int, len(logits))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if logits[a] > logits[b] {
			return -1
		} else if logits[a] < logits[b] {
			return 1
		}
		return 0
	})
	top := order[:k]
	s := NewSampler(SamplerOptions{Temperature: 50, TopK: k, Seed: 3}) // nearly flat
	seen := map[int32]bool{}
	for range 20_000 {
		id := s.Sample(logits, nil)
		if !slices.Contains(top, int(id)) {
			t.Fatalf("token %d is outside the top %d", id, k)
		}
		seen[id] = true
	}
	if len(seen) != k {
		t.Errorf("drew %d distinct tokens, want all %d of the top-k", len(seen), k)
	}
}

func TestSamplerTopKBreaksTiesTowardLowerIDs(t *testing.T) {
	logits := []float32{1, 3, 2, 3, 3, 0}
	s := NewSampler(SamplerOptions{Temperature: 1, TopK: 2, Seed: 1})
	for range 1000 {
		if id := s.Sample(logits, nil); id != 1 && id != 3 {
			t.Fatalf("drew %d, want 1 or 3", id)
		}
	}
}

func TestSamplerGreedy(t *testing.T) {
	nan := float32(math.NaN())
	for _, c := range []struct {
		name    string
		logits  []float32
		history []int32
		opt     SamplerOptions
		want    int32
	}{
		{"argmax", []float32{0.1, 2, -1, 1.9}, nil, SamplerOptions{}, 1},
		{"lowest id on ties", []float32{0, 5, 1, 5, 5}, nil, SamplerOptions{}, 1},
		{"NaN ignored", []float32{nan, 1, nan, 2}, nil, SamplerOptions{}, 3},
		{"all NaN", []float32{nan, nan}, nil, SamplerOptions{}, -1},
		{"negative temperature", []float32{3, 4}, nil, SamplerOptions{Temperature: -1}, 1},
		{"NaN temperature", []float32{3, 4}, nil, SamplerOptions{Temperature: nan}, 1},
		{"other filters do not matter", []float32{3, 4, 1}, nil, SamplerOptions{TopK: 1, TopP: 0.1, MinP: 0.9}, 1},
		{"repetition penalty moves argmax", []float32{2, 1.5}, []int32{0}, SamplerOptions{RepetitionPenalty: 1.5}, 1},
		{"repetition penalty pushes negatives down", []float32{-1, -1.2}, []int32{0}, SamplerOptions{RepetitionPenalty: 1.5}, 1},
		{"presence penalty once per distinct token", []float32{2, 1.5}, []int32{0, 0, 0}, SamplerOptions{PresencePenalty: 0.4}, 0},
		{"presence penalty moves argmax", []float32{2, 1.5}, []int32{0}, SamplerOptions{PresencePenalty: 0.6}, 1},
		{"out-of-range history ignored", []float32{2, 1.5}, []int32{-5, 2, 1 << 30}, SamplerOptions{PresencePenalty: 9}, 0},
	} {
		s := NewSampler(c.opt)
		if got := s.Sample(c.logits, c.history); got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, got, c.want)
		}
	}
}

func TestSamplerSeedReproducesDraws(t *testing.T) {
	logits := samplerRandomLogits(8, 100, 1)
	draw := func(s *Sampler) []int32 {
		out := make([]int32, 500)
		for i := range out {
			out[i] = s.Sample(logits, out[:i])
		}
		return out
	}
	opt := DefaultSampling(true)
	opt.Seed = 1234
	a, b := NewSampler(opt), NewSampler(opt)
	first := draw(a)
	if !slices.Equal(first, draw(b)) {
		t.Fatal("same seed, different draws")
	}
	opt.Seed = 1235
	if slices.Equal(first, draw(NewSampler(opt))) {
		t.Fatal("different seeds, same 500 draws")
	}
	a.Reseed(1234)
	if !slices.Equal(first, draw(a)) {
		t.Fatal("Reseed did not restart the sequence")
	}
}

func TestSamplerSurvivesDegenerateInput(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	for _, c := range []struct {
		name   string
		logits []float32
		opt    SamplerOptions
		ok     func(int32) bool
	}{
		{"empty logits", nil, DefaultSampling(true), func(id int32) bool { return id == -1 }},
		{"all NaN", []float32{nan, nan, nan}, DefaultSampling(true), func(id int32) bool { return id == -1 }},
		{"all -Inf", []float32{-inf, -inf, -inf}, DefaultSampling(true), func(id int32) bool { return id >= 0 && id < 3 }},
		{"+Inf wins", []float32{1, inf, 2}, SamplerOptions{Temperature: 1}, func(id int32) bool { return id == 1 }},
		{"NaN never drawn", []float32{nan, 0, nan, 0}, SamplerOptions{Temperature: 1, TopP: 0.9}, func(id int32) bool { return id == 1 || id == 3 }},
		{"min-p above one", []float32{1, 2, 0}, SamplerOptions{Temperature: 1, MinP: 5}, func(id int32) bool { return id == 1 }},
		{"top-k larger than vocabulary", []float32{1, 2}, SamplerOptions{Temperature: 1, TopK: 10}, func(id int32) bool { return id == 0 || id == 1 }},
		{"tiny temperature", []float32{1, 2, 0}, SamplerOptions{Temperature: 1e-30}, func(id int32) bool { return id == 1 }},
		{"huge logits", []float32{3e38, -3e38, 3e38}, SamplerOptions{Temperature: 0.1, RepetitionPenalty: 0.5}, func(id int32) bool { return id == 0 || id == 2 }},
	} {
		logits := slices.Clone(c.logits)
		s := NewSampler(c.opt)
		for range 50 {
			if id := s.Sample(logits, []int32{0, 1}); !c.ok(id) {
				t.Errorf("%s: drew %d", c.name, id)
				break
			}
		}
		if !slices.EqualFunc(logits, c.logits, func(a, b float32) bool { return a == b || (a != a && b != b) }) {
			t.Errorf("%s: Sample modified the logits", c.name)
		}
	}
}

func TestDefaultSamplingIsQwenRecommendation(t *testing.T) {
	if got, want := DefaultSampling(true), (SamplerOptions{Temperature: 0.6, TopP: 0.95, TopK: 20, RepetitionPenalty: 1}); got != want {
		t.Errorf("thinking: %+v, want %+v", got, want)
	}
	if got, want := DefaultSampling(false), (SamplerOptions{Temperature: 0.7, TopP: 0.8, TopK: 20, RepetitionPenalty: 1}); got != want {
		t.Errorf("non-thinking: %+v, want %+v", got, want)
	}
}

func TestSamplerDoesNotAllocatePerCall(t *testing.T) {
	logits := samplerRandomLogits(9, 151936, 3)
	history := []int32{1, 2, 3, 500, 151935}
	for _, opt := range []SamplerOptions{
		DefaultSampling(true),
		{Temperature: 0.8, TopP: 0.9, MinP: 0.05, RepetitionPenalty: 1.1, PresencePenalty: 0.5}, // full sort
		{},
	} {
		s := NewSampler(opt)
		s.Sample(logits, history)
		if a := testing.AllocsPerRun(5, func() { s.Sample(logits, history) }); a != 0 {
			t.Errorf("%+v: %v allocations per call", opt, a)
		}
	}
}

func BenchmarkSampler(b *testing.B) {
	logits := samplerRandomLogits(10, 151936, 3)
	history := make([]int32, 256)
	for i := range history {
		history[i] = int32(i * 97)
	}
	for _, c := range []struct {
		name string
		opt  SamplerOptions
	}{
		{"greedy", SamplerOptions{}},
		{"thinking-defaults", DefaultSampling(true)},
		{"penalties+top-k", SamplerOptions{Temperature: 0.7, TopK: 20, TopP: 0.8, RepetitionPenalty: 1.1, PresencePenalty: 1}},
		{"top-p-without-top-k", SamplerOptions{Temperature: 0.7, TopP: 0.8}},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := NewSampler(c.opt)
			b.SetBytes(int64(4 * len(logits)))
			for b.Loop() {
				s.Sample(logits, history)
			}
		})
	}
}

func TestSamplerNextRefusesLogitsThatAreNotNumbers(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	for _, c := range []struct {
		name   string
		logits []float32
		bad    bool
	}{
		{"finite", []float32{1, 2, 0}, false},
		{"some -Inf (masked)", []float32{-inf, 2, -inf}, false},
		{"one NaN", []float32{1, nan, 0}, true},
		{"all NaN", []float32{nan, nan}, true},
		{"+Inf", []float32{1, inf, 0}, true},
		{"all -Inf", []float32{-inf, -inf}, true},
		{"empty", nil, true},
	} {
		for _, opt := range []SamplerOptions{{}, DefaultSampling(true)} {
			id, err := NewSampler(opt).Next(c.logits, nil)
			if c.bad != (err != nil) || (err != nil && !errors.Is(err, ErrBadLogits)) {
				t.Errorf("%s, temperature %v: id %d, error %v", c.name, opt.Temperature, id, err)
			}
			if c.bad && id != -1 || !c.bad && (id < 0 || int(id) >= len(c.logits) || c.logits[id] < -math.MaxFloat32) {
				t.Errorf("%s, temperature %v: id %d", c.name, opt.Temperature, id)
			}
		}
	}
}
