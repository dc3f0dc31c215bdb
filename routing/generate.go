package routing

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Pattern names a kind of synthetic routing.
type Pattern string

const (
	// Uniform routes every token to k experts drawn uniformly, each layer
	// and token independently: the worst case for any cache.
	Uniform Pattern = "uniform"
	// Qwen3 routes with the statistics published for Qwen3-30B-A3B on real
	// text: about 42% of a token's experts (same layer) were chosen by the
	// previous token, about 80% by one of the last 8, and 90% of a layer's
	// choices fall on about 51% of its experts (65 of 128).
	Qwen3 Pattern = "qwen3"
)

// Targets of the Qwen3 pattern, measured as Measure measures a trace.
const (
	Qwen3PrevShare   = 0.42
	Qwen3WindowShare = 0.80
	Qwen3MassShare   = 65.0 / 128 // share of a layer's experts holding 90% of its choices
)

// GenSpec describes a synthetic trace.
type GenSpec struct {
	Layers, Experts, K int // MoE layers (ids 0…Layers-1), experts per layer, experts per token
	Tokens             int
	Pattern            Pattern
	Seed               uint64
}

// maxGenerated bounds the expert ids a generated trace holds (as the
// reader bounds what it reads).
const maxGenerated = MaxRecords * 8

// Generate writes a synthetic trace with weights (k values drawn at random,
// sorted descending, summing to 1).
//
// The Qwen3 pattern draws each of a token's k experts at a layer, in turn,
// from the previous token's experts with probability pPrev, from those of
// the 7 tokens before it with probability pWin, else from a fixed
// per-layer popularity (exponential in a random ranking of the experts,
// its decay set so that 90% of the mass falls on Qwen3MassShare of them);
// a draw that repeats an expert of the token is made again. pPrev and pWin
// are fitted by a few rounds of generating a short trace and measuring it,
// so that the targets hold for any geometry.
func Generate(g GenSpec) (*Trace, error) {
	if g.Layers <= 0 || g.Experts <= 0 || g.K <= 0 || g.K > g.Experts || g.Tokens <= 0 ||
		g.Experts > maxExperts || g.Layers > maxExperts || g.Tokens > MaxRecords || g.Tokens*g.Layers*g.K > maxGenerated {
		return nil, fmt.Errorf("routing: cannot generate %d tokens of %d layers of %d experts, %d per token", g.Tokens, g.Layers, g.Experts, g.K)
	}
	switch g.Pattern {
	case Uniform:
		return generate(g, qwen3Params{}), nil
	case Qwen3:
		return generate(g, fitQwen3(g)), nil
	}
	return nil, fmt.Errorf("routing: unknown pattern %q (want %q or %q)", g.Pattern, Qwen3, Uniform)
}

// fitQwen3 finds the parameters that give the Qwen3 statistics on a short
// trace of g's geometry: copying from recent tokens broadens the mass a
// little beyond the popularity's, so its head is fitted too.
func fitQwen3(g GenSpec) qwen3Params {
	short := g
	short.Tokens, short.Layers, short.Seed = 2048, min(g.Layers, 4), g.Seed^0x9e3779b97f4a7c15
	E := float64(g.Experts)
	head := Qwen3MassShare * E
	p := qwen3Params{tau: popularityDecay(g.Experts, 0.9, head), pPrev: 0.3, pWin: 0.3}
	for range 12 {
		st := Measure(generate(short, p))
		p.pPrev = clamp(p.pPrev+(Qwen3PrevShare-st.PrevShare), 0, 1)
		p.pWin = clamp(p.pWin+(Qwen3WindowShare-st.WindowShare), 0, 1-p.pPrev)
		head = clamp(head+(Qwen3MassShare-st.MassShare)*E, 1, E)
		p.tau = popularityDecay(g.Experts, 0.9, head)
	}
	return p
}

// qwen3Params are the parameters of the Qwen3 process: the popularity's
// decay tau (0: uniform routing) and the copy probabilities.
type qwen3Params struct{ tau, pPrev, pWin float64 }

func clamp(x, lo, hi float64) float64 { return max(lo, min(hi, x)) }

// popularityDecay returns τ such that the top n of experts weighted
// exp(-rank/τ) hold share of the weight (bisection; τ = ∞ is uniform).
func popularityDecay(experts int, share, n float64) float64 {
	top := func(tau float64) float64 {
		var all, head float64
		for r := range experts {
			w := math.Exp(-float64(r) / tau)
			all += w
			if float64(r) < n {
				head += w
			}
		}
		return head / all
	}
	lo, hi := 0.01, 1e6
	for range 100 {
		mid := math.Sqrt(lo * hi)
		if top(mid) > share {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// generate writes a trace: uniform draws when p.tau is 0, else the Qwen3
// process of p.
func generate(g GenSpec, p qwen3Params) *Trace {
	tau, pPrev, pWin := p.tau, p.pPrev, p.pWin
	r := rand.New(rand.NewPCG(g.Seed, uint64(g.Layers)<<32|uint64(g.Experts)<<8|uint64(g.K)))
	t := &Trace{Name: string(g.Pattern), K: g.K, Experts: make([]int32, g.Tokens*g.Layers*g.K), Weights: make([]float32, g.Tokens*g.Layers*g.K)}
	for l := range g.Layers {
		t.Layers = append(t.Layers, l)
	}
	// cdf[l]: cumulative popularity of layer l's experts in a random order.
	cdf := make([][]float64, g.Layers)
	if tau > 0 {
		for l := range cdf {
			perm := r.Perm(g.Experts)
			cdf[l] = make([]float64, g.Experts)
			var sum float64
			for e := range g.Experts {
				sum += math.Exp(-float64(perm[e]) / tau)
				cdf[l][e] = sum
			}
			for e := range cdf[l] {
				cdf[l][e] /= sum
			}
		}
	}
	const window = 8
	var cand []int32
	w := make([]float64, g.K)
	for tok := range g.Tokens {
		for l := range g.Layers {
			o := (tok*g.Layers + l) * g.K
			chosen := t.Experts[o : o : o+g.K]
			for len(chosen) < g.K {
				var e int32 = -1
				u := r.Float64()
				switch {
				case tau == 0:
					e = int32(r.IntN(g.Experts))
				case u < pPrev && tok > 0:
					p := (o - g.Layers*g.K)
					e = pickNew(r, t.Experts[p:p+g.K], chosen)
				case u < pPrev+pWin && tok > 1:
					cand = cand[:0]
					for back := 2; back <= min(window, tok); back++ {
						p := o - back*g.Layers*g.K
						cand = append(cand, t.Experts[p:p+g.K]...)
					}
					e = pickNew(r, cand, chosen)
				}
				if e < 0 {
					e = int32(min(sort(cdf[l], r.Float64()), g.Experts-1))
				}
				if !slices.Contains(chosen, e) {
					chosen = append(chosen, e)
				}
			}
			var sum float64
			for i := range w {
				w[i] = r.ExpFloat64()
				sum += w[i]
			}
			slices.SortFunc(w, func(a, b float64) int { return -cmpFloat(a, b) })
			for i := range w {
				t.Weights[o+i] = float32(w[i] / sum)
			}
		}
	}
	return t
}

// pickNew picks one of cand not in chosen, uniformly over cand's entries
// (so experts appearing more often are likelier), or -1 if none is left.
func pickNew(r *rand.Rand, cand, chosen []int32) int32 {
	n := 0
	for _, c := range cand {
		if !slices.Contains(chosen, c) {
			n++
		}
	}
	if n == 0 {
		return -1
	}
	i := r.IntN(n)
	for _, c := range cand {
		if !slices.Contains(chosen, c) {
			if i == 0 {
				return c
			}
			i--
		}
	}
	return -1
}

// sort returns the first index whose cumulative value reaches u.
func sort(cdf []float64, u float64) int {
	i, _ := slices.BinarySearch(cdf, u)
	return i
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Stats are the statistics of a trace that the Qwen3 pattern matches.
type Stats struct {
	// PrevShare is the share of a token's experts (same layer) that the
	// previous token chose too, over tokens from the second on.
	PrevShare float64
	// WindowShare is the share chosen by one of the 8 tokens before, over
	// tokens from the ninth on.
	WindowShare float64
	// MassExperts is, averaged over layers, how many experts receive 90%
	// of the layer's choices (the most chosen first); MassShare is that
	// number as a share of the layer's experts.
	MassExperts, MassShare float64
	// Distinct is the number of (layer, expert) pairs chosen at least once.
	Distinct int
}

// Measure computes a trace's statistics.
func Measure(t *Trace) Stats {
	var st Stats
	L, T := len(t.Layers), t.Tokens()
	if L == 0 || T == 0 {
		return st
	}
	experts := 1
	for _, e := range t.Experts {
		experts = max(experts, int(e)+1)
	}
	count := make([]int, L*experts)
	var prev, prevN, win, winN int
	for tok := range T {
		for i := range L {
			e, _ := t.At(tok, i)
			for _, x := range e {
				count[i*experts+int(x)]++
				if tok >= 1 {
					p, _ := t.At(tok-1, i)
					prevN++
					if slices.Contains(p, x) {
						prev++
					}
				}
				if tok >= 8 {
					winN++
					for back := 1; back <= 8; back++ {
						if p, _ := t.At(tok-back, i); slices.Contains(p, x) {
							win++
							break
						}
					}
				}
			}
		}
	}
	st.PrevShare = float64(prev) / float64(max(prevN, 1))
	st.WindowShare = float64(win) / float64(max(winN, 1))
	var mass float64
	for i := range L {
		c := slices.Clone(count[i*experts : (i+1)*experts])
		slices.SortFunc(c, func(a, b int) int { return b - a })
		total := 0
		for _, v := range c {
			total += v
			if v > 0 {
				st.Distinct++
			}
		}
		acc := 0
		for n, v := range c {
			acc += v
			if 10*acc >= 9*total {
				mass += float64(n + 1)
				break
			}
		}
	}
	st.MassExperts = mass / float64(L)
	st.MassShare = st.MassExperts / float64(experts)
	return st
}
