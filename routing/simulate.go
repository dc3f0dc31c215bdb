package routing

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// SimResult counts the hits and misses of a cache over a trace.
type SimResult struct {
	Policy       string
	Capacity     int // experts the cache holds
	Hits, Misses int64
}

// HitRate returns the share of chosen experts that were cached.
func (r SimResult) HitRate() float64 {
	return float64(r.Hits) / float64(max(r.Hits+r.Misses, 1))
}

// cacheModel is how Simulate and SimulateBelady see a trace: experts of
// layer i (an index into t.Layers) are ids i·E … i·E+E-1, and each routing
// decision (one token at one layer, in token then layer order) is a time
// step whose k experts must all be cached at once.
func cacheModel(t *Trace, experts, capacity int) (n int, err error) {
	if t.Tokens() == 0 {
		return 0, fmt.Errorf("routing: simulating an empty trace")
	}
	if err := t.Check(Geometry{Experts: experts}); err != nil {
		return 0, err
	}
	n = len(t.Layers) * experts
	if capacity < t.K || capacity > n {
		return 0, fmt.Errorf("routing: a cache of %d experts: want from %d (one decision's) to %d (all)", capacity, t.K, n)
	}
	return n, nil
}

// Simulate runs the trace through a cache of capacity experts (of the
// trace's len(t.Layers)·experts) kept by p, which must be new: at each
// decision the experts not cached are loaded, then experts not in the
// decision are dropped, p choosing, until capacity are left.
func Simulate(t *Trace, experts, capacity int, p Policy) (SimResult, error) {
	n, err := cacheModel(t, experts, capacity)
	if err != nil {
		return SimResult{}, err
	}
	res := SimResult{Policy: p.Name(), Capacity: capacity}
	cached := make([]bool, n)
	stamp := make([]int64, n) // the decision that last chose an id, +1
	count := 0
	var now int64
	pinned := func(id int) bool { return stamp[id] == now+1 }
	for tok := range t.Tokens() {
		for i := range t.Layers {
			e, _ := t.At(tok, i)
			for _, x := range e {
				id := i*experts + int(x)
				stamp[id] = now + 1
				if cached[id] {
					res.Hits++
				} else {
					res.Misses++
					cached[id] = true
					count++
				}
				p.Access(id, now)
			}
			for count > capacity {
				v := p.Victim(pinned)
				if v < 0 || !cached[v] {
					return SimResult{}, fmt.Errorf("routing: policy %s chose %d to drop, not a cached expert outside the decision", p.Name(), v)
				}
				p.Evict(v)
				cached[v] = false
				count--
			}
			now++
		}
	}
	return res, nil
}

// SimulateBelady runs the trace through a cache of capacity experts kept
// by Bélády's offline rule, the optimum no online policy can beat: drop
// the cached expert (outside the current decision) whose next use is
// furthest away.
func SimulateBelady(t *Trace, experts, capacity int) (SimResult, error) {
	n, err := cacheModel(t, experts, capacity)
	if err != nil {
		return SimResult{}, err
	}
	L, k, T := len(t.Layers), t.K, t.Tokens()
	steps := T * L
	// next[s·k+r]: the step at which the expert of step s, rank r, is next
	// chosen (steps: never).
	next := make([]int32, steps*k)
	seen := make([]int32, n)
	for i := range seen {
		seen[i] = int32(steps)
	}
	for s := steps - 1; s >= 0; s-- {
		tok, i := s/L, s%L
		e, _ := t.At(tok, i)
		for r, x := range e {
			id := i*experts + int(x)
			next[s*k+r] = seen[id]
			seen[id] = int32(s)
		}
	}
	res := SimResult{Policy: "belady", Capacity: capacity}
	h := newHeap(n)
	cached := make([]bool, n)
	stamp := make([]int32, n)
	count := 0
	for s := range steps {
		tok, i := s/L, s%L
		e, _ := t.At(tok, i)
		for r, x := range e {
			id := i*experts + int(x)
			stamp[id] = int32(s + 1)
			if cached[id] {
				res.Hits++
			} else {
				res.Misses++
				cached[id] = true
				count++
			}
			key := -float64(next[s*k+r])
			if next[s*k+r] == int32(steps) {
				key = math.Inf(-1)
			}
			h.set(id, [2]float64{key, float64(id)})
		}
		for count > capacity {
			v := h.minUnpinned(func(id int) bool { return stamp[id] == int32(s+1) })
			h.remove(v)
			cached[v] = false
			count--
		}
	}
	return res, nil
}

// Shares are the cache sizes the simulator table reports, as shares of all
// experts.
var Shares = []float64{0.10, 0.25, 0.40, 0.60}

// Table simulates every online policy and Bélády's at each share of the
// trace's experts cached: rows in the order of Shares, columns Policies
// then "belady".
func Table(t *Trace, experts int, shares []float64) ([][]SimResult, error) {
	n := len(t.Layers) * experts
	out := make([][]SimResult, len(shares))
	for si, sh := range shares {
		capacity := max(int(math.Round(sh*float64(n))), t.K)
		for _, name := range Policies {
			p, err := NewPolicy(name, len(t.Layers), experts)
			if err != nil {
				return nil, err
			}
			r, err := Simulate(t, experts, capacity, p)
			if err != nil {
				return nil, err
			}
			out[si] = append(out[si], r)
		}
		r, err := SimulateBelady(t, experts, capacity)
		if err != nil {
			return nil, err
		}
		out[si] = append(out[si], r)
	}
	return out, nil
}

// Best returns the online policy with the highest hit rate summed over a
// table's rows.
func Best(table [][]SimResult) string {
	sum := map[string]float64{}
	for _, row := range table {
		for _, r := range row {
			sum[r.Policy] += r.HitRate()
		}
	}
	best := ""
	for _, name := range slices.Sorted(slices.Values(Policies)) {
		if best == "" || sum[name] > sum[best] {
			best = name
		}
	}
	return best
}

// WriteTable writes a table of Table's results in Markdown: hit rates per
// policy at each share, Bélády's, and the best online policy's distance
// from it in points.
func WriteTable(w io.Writer, table [][]SimResult, shares []float64) error {
	if len(table) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("| cached |")
	for _, r := range table[0] {
		fmt.Fprintf(&b, " %s |", r.Policy)
	}
	b.WriteString(" best online − Bélády |\n|---|")
	for range table[0] {
		b.WriteString("---|")
	}
	b.WriteString("---|\n")
	for i, row := range table {
		fmt.Fprintf(&b, "| %.0f%% (%d) |", 100*shares[i], row[0].Capacity)
		best, opt := 0.0, 0.0
		for _, r := range row {
			fmt.Fprintf(&b, " %.1f%% |", 100*r.HitRate())
			if r.Policy == "belady" {
				opt = r.HitRate()
			} else {
				best = max(best, r.HitRate())
			}
		}
		fmt.Fprintf(&b, " %+.1f |\n", 100*(best-opt))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
