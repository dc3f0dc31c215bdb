package routing

import (
	"fmt"
	"math"
)

// Policy decides which cached expert to drop. Expert e of layer l (an
// index among the layers that route) is id l·experts+e; time is
// token·layers+layer, the routing decisions of a run counted in order (a
// batch of tokens takes one token's time). A Policy is not safe for
// concurrent use.
type Policy interface {
	// Access records that id was chosen at time now, cached already or
	// about to be; it is cached afterwards. now never decreases.
	Access(id int, now int64)
	// Evict records that id was dropped from the cache.
	Evict(id int)
	// Victim returns the cached id the policy would drop first among those
	// not pinned, or -1 if all are pinned.
	Victim(pinned func(id int) bool) int
	// Name names the policy.
	Name() string
}

// DefaultPolicy is the online policy that did best on generated Qwen3
// traces (docs/expert-cache.md), and about as well as any online
// policy can on uniform ones.
const DefaultPolicy = "cyclic-lrfu"

// Policies lists the online policies NewPolicy makes.
var Policies = []string{"lru", "lfu", "lru2", "lrfu", "cyclic", "cyclic-lrfu"}

// Decays of the LRFU policies: a use's weight halves after 1/decay
// routing decisions (lrfu: 192, 4 tokens of a 48-layer model) or tokens
// (cyclic-lrfu: 2).
const (
	LRFUDecay       = 1.0 / 192
	CyclicLRFUDecay = 0.5
)

// NewPolicy returns the online policy of the given name for layers·experts
// experts:
//   - "lru": least recently used;
//   - "lfu": least frequently used, counts kept for experts not cached and
//     halved every 8 tokens (ties: least recently used);
//   - "lru2": LRU-2, the expert whose second most recent use is oldest
//     (experts used once first, by their last use);
//   - "lrfu": LRFU (Lee et al. 2001), the smallest sum over past uses of
//     2^(-LRFUDecay·age): frequency and recency in one score;
//   - "cyclic": knows that layers route in turn (NewCyclic);
//   - "cyclic-lrfu": cyclic with LRFU in tokens inside each layer
//     (NewCyclicLRFU).
func NewPolicy(name string, layers, experts int) (Policy, error) {
	n := layers * experts
	if layers <= 0 || experts <= 0 || n > MaxRecords {
		return nil, fmt.Errorf("routing: a policy for %d layers of %d experts", layers, experts)
	}
	switch name {
	case "lru":
		return &lru{h: newHeap(n)}, nil
	case "lfu":
		return NewLFU(n, int64(8*layers)), nil
	case "lru2":
		return newLRU2(n), nil
	case "lrfu":
		return NewLRFU(n, LRFUDecay), nil
	case "cyclic":
		return NewCyclic(layers, experts), nil
	case "cyclic-lrfu":
		return NewCyclicLRFU(layers, experts, CyclicLRFUDecay), nil
	}
	return nil, fmt.Errorf("routing: unknown policy %q (want one of %v)", name, Policies)
}

// lru drops the expert of the oldest use.
type lru struct{ h *heap }

func (p *lru) Name() string                        { return "lru" }
func (p *lru) Access(id int, now int64)            { p.h.set(id, [2]float64{float64(now)}) }
func (p *lru) Evict(id int)                        { p.h.remove(id) }
func (p *lru) Victim(pinned func(id int) bool) int { return p.h.minUnpinned(pinned) }

// lru2 drops the expert whose use before last is oldest.
type lru2 struct {
	h    *heap
	last []int64 // -1: never used
}

func newLRU2(n int) *lru2 {
	p := &lru2{h: newHeap(n), last: make([]int64, n)}
	for i := range p.last {
		p.last[i] = -1
	}
	return p
}

func (p *lru2) Name() string { return "lru2" }

func (p *lru2) Access(id int, now int64) {
	k := [2]float64{math.Inf(-1), float64(now)}
	if p.last[id] >= 0 {
		k[0] = float64(p.last[id])
	}
	p.last[id] = now
	p.h.set(id, k)
}

func (p *lru2) Evict(id int)                        { p.h.remove(id) }
func (p *lru2) Victim(pinned func(id int) bool) int { return p.h.minUnpinned(pinned) }

// lfu counts uses, halving every count every aging decisions.
type lfu struct {
	h      *heap
	count  []float64
	aging  int64
	agedAt int64
}

// NewLFU returns an LFU policy for n experts whose counts halve every
// aging routing decisions.
func NewLFU(n int, aging int64) Policy { return newLFU(n, aging) }

func newLFU(n int, aging int64) *lfu {
	return &lfu{h: newHeap(n), count: make([]float64, n), aging: aging}
}

func (p *lfu) Name() string { return "lfu" }

func (p *lfu) Access(id int, now int64) {
	if now-p.agedAt >= p.aging {
		p.agedAt = now
		for i := range p.count {
			p.count[i] = math.Floor(p.count[i] / 2)
		}
		for _, c := range p.h.ids {
			p.h.key[c][0] = p.count[c]
		}
		p.h.rebuild()
	}
	p.count[id]++
	p.h.set(id, [2]float64{p.count[id], float64(now)})
}

func (p *lfu) Evict(id int)                        { p.h.remove(id) }
func (p *lfu) Victim(pinned func(id int) bool) int { return p.h.minUnpinned(pinned) }

// lrfu keeps for each expert its combined recency and frequency C =
// Σ 2^(-λ·age). Two experts' order by C never changes as time passes
// (both decay alike), so the heap holds log2 C + λ·(time of last use), a
// key that stays valid between uses.
type lrfu struct {
	h      *heap
	lambda float64
	crf    []float64 // C at the last use
	last   []int64
}

// NewLRFU returns an LRFU policy for n experts with decay lambda per
// routing decision: 0 is LFU without aging, large values LRU.
func NewLRFU(n int, lambda float64) Policy { return newLRFU(n, lambda) }

func newLRFU(n int, lambda float64) *lrfu {
	p := &lrfu{h: newHeap(n), lambda: lambda, crf: make([]float64, n), last: make([]int64, n)}
	for i := range p.last {
		p.last[i] = -1
	}
	return p
}

func (p *lrfu) Name() string { return "lrfu" }

func (p *lrfu) Access(id int, now int64) {
	c := 1.0
	if p.last[id] >= 0 {
		c += p.crf[id] * math.Exp2(-p.lambda*float64(now-p.last[id]))
	}
	p.crf[id], p.last[id] = c, now
	p.h.set(id, [2]float64{math.Log2(c) + p.lambda*float64(now), float64(now)})
}

func (p *lrfu) Evict(id int)                        { p.h.remove(id) }
func (p *lrfu) Victim(pinned func(id int) bool) int { return p.h.minUnpinned(pinned) }

// heap is an indexed binary min-heap of ids by a two-part key.
type heap struct {
	ids []int32      // heap order
	pos []int32      // per id: index into ids, -1 when absent
	key [][2]float64 // per id
	tmp []int32
}

func newHeap(n int) *heap {
	h := &heap{pos: make([]int32, n), key: make([][2]float64, n)}
	for i := range h.pos {
		h.pos[i] = -1
	}
	return h
}

func (h *heap) less(i, j int) bool {
	a, b := h.key[h.ids[i]], h.key[h.ids[j]]
	return a[0] < b[0] || (a[0] == b[0] && a[1] < b[1])
}

func (h *heap) swap(i, j int) {
	h.ids[i], h.ids[j] = h.ids[j], h.ids[i]
	h.pos[h.ids[i]], h.pos[h.ids[j]] = int32(i), int32(j)
}

func (h *heap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h *heap) down(i int) {
	for {
		l, m := 2*i+1, i
		if l < len(h.ids) && h.less(l, m) {
			m = l
		}
		if r := l + 1; r < len(h.ids) && h.less(r, m) {
			m = r
		}
		if m == i {
			return
		}
		h.swap(i, m)
		i = m
	}
}

// set gives id key k, adding id if absent.
func (h *heap) set(id int, k [2]float64) {
	h.key[id] = k
	i := int(h.pos[id])
	if i < 0 {
		h.ids = append(h.ids, int32(id))
		i = len(h.ids) - 1
		h.pos[id] = int32(i)
	}
	h.up(i)
	h.down(int(h.pos[id]))
}

// remove takes id out (nothing if absent).
func (h *heap) remove(id int) {
	i := int(h.pos[id])
	if i < 0 {
		return
	}
	last := len(h.ids) - 1
	h.swap(i, last)
	h.ids = h.ids[:last]
	h.pos[id] = -1
	if i < last {
		h.up(i)
		h.down(int(h.pos[h.ids[i]]))
	}
}

func (h *heap) rebuild() {
	for i := len(h.ids)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

// minUnpinned returns the id of the smallest key not pinned, or -1: the
// pinned ones found on the way are taken out and put back.
func (h *heap) minUnpinned(pinned func(int) bool) int {
	h.tmp = h.tmp[:0]
	v := -1
	for len(h.ids) > 0 {
		id := int(h.ids[0])
		if pinned == nil || !pinned(id) {
			v = id
			break
		}
		h.tmp = append(h.tmp, int32(id))
		h.remove(id)
	}
	for _, id := range h.tmp {
		h.set(int(id), h.key[id])
	}
	return v
}

// cyclic knows that the layers route in turn, one decision each per token:
// it keeps each layer's experts in least recently used order and, to make
// room, drops the oldest expert of the layer whose oldest has missed the
// most of its chances (tokens at its layer since its last use), of equal
// misses the one whose layer comes up last. LRU over all layers at once
// drops the experts of the layers about to route, just before they are
// needed, and keeps those of the layers just done, which wait a token.
type cyclic struct {
	layers, experts int
	tok             []int64 // per id: token of the last use
	prev, next      []int32 // per layer, a ring through ids; sentinel n+layer
	in              []bool
	now             int64
}

// NewCyclic returns the cyclic policy for layers·experts experts, expert e
// of layer l being id l·experts+e and time token·layers+layer.
func NewCyclic(layers, experts int) Policy {
	n := layers * experts
	p := &cyclic{layers: layers, experts: experts, tok: make([]int64, n), in: make([]bool, n),
		prev: make([]int32, n+layers), next: make([]int32, n+layers)}
	for l := range layers {
		s := int32(n + l)
		p.prev[s], p.next[s] = s, s
	}
	return p
}

func (p *cyclic) Name() string { return "cyclic" }

func (p *cyclic) Access(id int, now int64) {
	p.now = now
	p.tok[id] = now / int64(p.layers)
	if p.in[id] {
		p.unlink(id)
	}
	p.in[id] = true
	s := int32(len(p.tok) + id/p.experts)
	last := p.prev[s]
	p.next[last], p.prev[id] = int32(id), last
	p.next[id], p.prev[s] = s, int32(id)
}

func (p *cyclic) unlink(id int) {
	pr, nx := p.prev[id], p.next[id]
	p.next[pr], p.prev[nx] = nx, pr
}

func (p *cyclic) Evict(id int) {
	if p.in[id] {
		p.unlink(id)
		p.in[id] = false
	}
}

func (p *cyclic) Victim(pinned func(id int) bool) int {
	L := int64(p.layers)
	t, l := p.now/L, p.now%L
	best, bestMiss, bestDist := -1, int64(0), int64(0)
	for j := range L {
		s := int32(len(p.tok)) + int32(j)
		id := p.next[s]
		for id != s && pinned != nil && pinned(int(id)) {
			id = p.next[id]
		}
		if id == s {
			continue
		}
		chance := t + 1 // the next token at which layer j routes
		if j > l {
			chance = t
		}
		miss, dist := chance-p.tok[id]-1, (j-l-1+L)%L
		if best < 0 || miss > bestMiss || (miss == bestMiss && dist > bestDist) {
			best, bestMiss, bestDist = int(id), miss, dist
		}
	}
	return best
}

// cyclicLRFU is cyclic with each layer's experts ranked by LRFU in tokens
// (per-layer heaps keyed as lrfu's).
type cyclicLRFU struct {
	layers, experts int
	lambda          float64
	h               []*heap
	crf             []float64
	tok             []int64
	now             int64
}

// NewCyclicLRFU returns a cyclic policy for layers·experts experts that
// ranks each layer's experts by LRFU with decay lambda per token, not by
// their last use: it drops the expert whose LRFU score, decayed to the
// next token at which its layer routes, is smallest (of equal scores, the
// one whose layer comes up last).
func NewCyclicLRFU(layers, experts int, lambda float64) Policy {
	n := layers * experts
	p := &cyclicLRFU{layers: layers, experts: experts, lambda: lambda, crf: make([]float64, n), tok: make([]int64, n)}
	for range layers {
		p.h = append(p.h, newHeap(experts))
	}
	for i := range p.tok {
		p.tok[i] = -1
	}
	return p
}

func (p *cyclicLRFU) Name() string { return "cyclic-lrfu" }

func (p *cyclicLRFU) Access(id int, now int64) {
	p.now = now
	t := now / int64(p.layers)
	c := 1.0
	if p.tok[id] >= 0 {
		c += p.crf[id] * math.Exp2(-p.lambda*float64(t-p.tok[id]))
	}
	p.crf[id], p.tok[id] = c, t
	p.h[id/p.experts].set(id%p.experts, [2]float64{math.Log2(c) + p.lambda*float64(t), float64(t)})
}

func (p *cyclicLRFU) Evict(id int) { p.h[id/p.experts].remove(id % p.experts) }

func (p *cyclicLRFU) Victim(pinned func(id int) bool) int {
	L := int64(p.layers)
	t, l := p.now/L, p.now%L
	best, bestScore, bestDist := -1, 0.0, int64(0)
	for j := range L {
		base := int(j) * p.experts
		e := p.h[j].minUnpinned(func(e int) bool { return pinned != nil && pinned(base+e) })
		if e < 0 {
			continue
		}
		id := base + e
		chance := t + 1
		if j > l {
			chance = t
		}
		score, dist := math.Log2(p.crf[id])-p.lambda*float64(chance-p.tok[id]), (j-l-1+L)%L
		if best < 0 || score < bestScore || (score == bestScore && dist > bestDist) {
			best, bestScore, bestDist = id, score, dist
		}
	}
	return best
}
