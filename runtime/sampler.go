package runtime

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// SamplerOptions configure how a Sampler picks the next token.
//
// A zero or out-of-range value switches a stage off: Temperature <= 0 means
// greedy (so does NaN), TopK <= 0 keeps all tokens, TopP outside (0, 1) and MinP <= 0 keep
// all, RepetitionPenalty 0 or 1 and PresencePenalty 0 leave logits alone.
type SamplerOptions struct {
	Temperature float32
	// TopP keeps the smallest set of most likely tokens whose probability
	// sums to at least TopP.
	TopP float32
	// MinP drops tokens less likely than MinP times the likeliest token.
	MinP float32
	// PresencePenalty is subtracted once from the logit of every token that
	// occurs in the history.
	PresencePenalty float32
	// RepetitionPenalty divides positive and multiplies negative logits of
	// tokens in the history (llama.cpp and Hugging Face semantics).
	RepetitionPenalty float32
	// TopK keeps the K tokens with the highest logits.
	TopK int
	// Seed seeds the sampler's random number generator.
	Seed uint64
}

// DefaultSampling returns Qwen3's recommended settings for thinking mode
// (temperature 0.6, top-p 0.95) or non-thinking mode (0.7, 0.8); both use
// top-k 20, min-p 0 and no penalties.
func DefaultSampling(thinking bool) SamplerOptions {
	if thinking {
		return SamplerOptions{Temperature: 0.6, TopP: 0.95, TopK: 20, MinP: 0, RepetitionPenalty: 1}
	}
	return SamplerOptions{Temperature: 0.7, TopP: 0.8, TopK: 20, MinP: 0, RepetitionPenalty: 1}
}

// Sampler draws token ids from logits. It stages the logits in this order:
//
//  1. repetition penalty, then presence penalty, for each distinct token of
//     the history (as llama.cpp's penalties sampler, which runs first);
//  2. greedy: if Temperature <= 0, the argmax (lowest id on ties);
//  3. top-k;
//  4. temperature and softmax;
//  5. top-p, then min-p (relative to the likeliest remaining token);
//  6. a draw from what is left, renormalized, with a seeded PCG generator.
//
// This is llama.cpp's default chain (penalties, top-k, top-p, min-p, then
// temperature) except that temperature comes before top-p and min-p, as in
// Hugging Face transformers, whose semantics Qwen's recommended settings
// assume. A NaN logit counts as -Inf, and ±Inf logits are clamped to
// ±MaxFloat32 so that the softmax stays defined.
//
// A Sampler keeps its scratch buffers between calls, so after the first call
// for a given vocabulary size Sample allocates nothing. It is not safe for
// concurrent use.
type Sampler struct {
	opt  SamplerOptions
	src  *rand.PCG
	rng  *rand.Rand
	work []float32 // penalized logits
	mark []bool    // tokens already penalized in this call
	cand []samplerCandidate
}

type samplerCandidate struct {
	logit float32
	id    int32
	p     float64
}

// NewSampler returns a Sampler with options o.
func NewSampler(o SamplerOptions) *Sampler {
	src := rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15)
	return &Sampler{opt: o, src: src, rng: rand.New(src)}
}

// Options returns the options s was made with.
func (s *Sampler) Options() SamplerOptions { return s.opt }

// Reseed restarts the random number generator as if s were new with seed.
func (s *Sampler) Reseed(seed uint64) {
	s.opt.Seed = seed
	s.src.Seed(seed, seed^0x9e3779b97f4a7c15)
}

// ErrBadLogits is wrapped by Next's error for logits that hold NaN or +Inf,
// or no finite value: the model's arithmetic broke down, and any token
// drawn from them would be noise.
var ErrBadLogits = errors.New("runtime: logits are not finite numbers")

// Next is Sample for generation: it refuses logits holding NaN or +Inf, or
// only -Inf, with an error wrapping ErrBadLogits, instead of drawing from
// them. (-Inf alone is a masked token and stays allowed.)
func (s *Sampler) Next(logits []float32, history []int32) (int32, error) {
	finite := 0
	for i, l := range logits {
		switch {
		case l != l || l > math.MaxFloat32:
			return -1, fmt.Errorf("runtime: sampler: logit %d of %d is %v: %w", i, len(logits), l, ErrBadLogits)
		case l >= -math.MaxFloat32:
			finite++
		}
	}
	if finite == 0 {
		return -1, fmt.Errorf("runtime: sampler: none of %d logits is finite: %w", len(logits), ErrBadLogits)
	}
	return s.Sample(logits, history), nil
}

// Sample returns the next token id for logits (one per vocabulary entry),
// given the tokens generated or seen so far; ids in history outside the
// vocabulary are ignored. It returns -1 when logits is empty or all NaN,
// never a made-up id. logits is not modified. Generation should use Next,
// which reports logits that are not numbers as an error.
func (s *Sampler) Sample(logits []float32, history []int32) int32 {
	n := len(logits)
	if n == 0 || !slices.ContainsFunc(logits, func(l float32) bool { return l == l }) {
		return -1
	}
	s.grow(n)
	work := s.work[:n]
	copy(work, logits)
	s.penalize(work, history)

	if !(s.opt.Temperature > 0) {
		return samplerArgmax(work)
	}

	cand := s.candidates(work)

	// Softmax with temperature, in float64; (l-max)/T cannot overflow.
	maxLogit := float64(cand[0].logit)
	for _, c := range cand[1:] {
		maxLogit = max(maxLogit, float64(c.logit))
	}
	invT := 1 / float64(s.opt.Temperature)
	var total float64
	for i := range cand {
		p := math.Exp((float64(cand[i].logit) - maxLogit) * invT)
		cand[i].p = p
		total += p
	}

	kept := total
	if s.opt.TopP > 0 && s.opt.TopP < 1 {
		want := float64(s.opt.TopP) * total
		if len(cand) == n { // top-k already sorted a shorter list
			cand = samplerNucleusSuperset(cand, want)
			slices.SortFunc(cand, samplerCompare)
		}
		var cum float64
		for i := range cand {
			cum += cand[i].p
			if cum >= want {
				cand, kept = cand[:i+1], cum
				break
			}
		}
	}

	if s.opt.MinP > 0 {
		// The likeliest token's unnormalized probability is exp(0) = 1.
		floor := min(float64(s.opt.MinP), 1) // 1 keeps at least the likeliest
		kept = 0
		j := 0
		for _, c := range cand {
			if c.p >= floor {
				cand[j] = c
				j++
				kept += c.p
			}
		}
		cand = cand[:j]
	}

	r := s.rng.Float64() * kept
	for _, c := range cand {
		r -= c.p
		if r < 0 {
			return c.id
		}
	}
	return cand[len(cand)-1].id // rounding left r at or just above 0
}

// samplerNucleusSuperset shrinks cand, in place and in id order, to the
// tokens at or above the highest of a few cut-offs whose total unnormalized
// probability still reaches want; the top-p set is a prefix of those once
// sorted, so top-p need not sort the whole vocabulary.
func samplerNucleusSuperset(cand []samplerCandidate, want float64) []samplerCandidate {
	// Cut-offs relative to the likeliest token, whose probability is 1.
	thresholds := [...]float64{1e-3, 1e-6, 1e-12}
	var mass [len(thresholds)]float64
	for _, c := range cand {
		for i, t := range thresholds {
			if c.p >= t {
				mass[i] += c.p
			}
		}
	}
	for i, t := range thresholds {
		if mass[i] < want {
			continue
		}
		j := 0
		for _, c := range cand {
			if c.p >= t {
				cand[j] = c
				j++
			}
		}
		return cand[:j]
	}
	return cand
}

func (s *Sampler) grow(n int) {
	if cap(s.work) < n {
		s.work = make([]float32, n)
		s.mark = make([]bool, n)
		s.cand = make([]samplerCandidate, n)
	}
}

// penalize applies the repetition and presence penalties once per distinct
// in-vocabulary token of history.
func (s *Sampler) penalize(work []float32, history []int32) {
	rep, pres := s.opt.RepetitionPenalty, s.opt.PresencePenalty
	if (rep == 0 || rep == 1) && pres == 0 {
		return
	}
	n := int32(len(work))
	mark := s.mark[:len(work)]
	for _, t := range history {
		if t < 0 || t >= n || mark[t] {
			continue
		}
		mark[t] = true
		l := work[t]
		if rep != 0 && rep != 1 {
			if l > 0 {
				l /= rep
			} else {
				l *= rep
			}
		}
		work[t] = l - pres
	}
	for _, t := range history {
		if t >= 0 && t < n {
			mark[t] = false
		}
	}
}

// samplerFinite maps NaN and infinities into the finite range so that the
// softmax stays defined: NaN below every other value, ±Inf to ±MaxFloat32.
func samplerFinite(l float32) float32 {
	switch {
	case l != l:
		return -math.MaxFloat32
	case l > math.MaxFloat32:
		return math.MaxFloat32
	case l < -math.MaxFloat32:
		return -math.MaxFloat32
	}
	return l
}

// samplerArgmax returns the index of the largest value, the lowest on ties;
// NaN counts as smaller than anything, and all NaN gives -1.
func samplerArgmax(work []float32) int32 {
	best, bestL := -1, float32(math.Inf(-1))
	found := false
	for i, l := range work {
		if l != l {
			continue
		}
		if !found || l > bestL {
			best, bestL, found = i, l, true
		}
	}
	return int32(best)
}

// samplerCompare orders candidates by descending logit, then ascending id.
func samplerCompare(a, b samplerCandidate) int {
	switch {
	case a.logit > b.logit:
		return -1
	case a.logit < b.logit:
		return 1
	}
	return int(a.id - b.id)
}

// candidates fills s.cand with the tokens that survive top-k: the K best in
// descending order, or every token in id order when top-k is off.
func (s *Sampler) candidates(work []float32) []samplerCandidate {
	n := len(work)
	k := s.opt.TopK
	if k <= 0 || k >= n {
		cand := s.cand[:n]
		for i, l := range work {
			cand[i] = samplerCandidate{logit: samplerFinite(l), id: int32(i)}
		}
		return cand
	}
	// A min-heap of the best k so far; its root is the worst of them.
	heap := s.cand[:0]
	for i, l := range work {
		c := samplerCandidate{logit: samplerFinite(l), id: int32(i)}
		if len(heap) < k {
			heap = append(heap, c)
			samplerSiftUp(heap, len(heap)-1)
		} else if samplerCompare(c, heap[0]) < 0 {
			heap[0] = c
			samplerSiftDown(heap, 0)
		}
	}
	slices.SortFunc(heap, samplerCompare)
	return heap
}

// In the heap, "a above b" means a is worse: samplerCompare(a, b) > 0.
func samplerSiftUp(h []samplerCandidate, i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if samplerCompare(h[i], h[parent]) <= 0 {
			return
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func samplerSiftDown(h []samplerCandidate, i int) {
	for {
		worst, l, r := i, 2*i+1, 2*i+2
		if l < len(h) && samplerCompare(h[l], h[worst]) > 0 {
			worst = l
		}
		if r < len(h) && samplerCompare(h[r], h[worst]) > 0 {
			worst = r
		}
		if worst == i {
			return
		}
		h[i], h[worst] = h[worst], h[i]
		i = worst
	}
}
