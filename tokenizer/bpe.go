package tokenizer

import "sync"

// merge is the result of merging a pair of tokens: its rank (lower merges
// first) and the id of the merged token.
type merge struct {
	rank int32
	id   int32
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// Word cache bounds: pieces longer than maxCachedPiece bytes are not cached,
// and the cache is emptied when it reaches maxCacheEntries.
const (
	maxCachedPiece  = 64
	maxCacheEntries = 1 << 16
)

// wordCache remembers the ids of recently encoded pre-tokens.
type wordCache struct {
	mu sync.Mutex
	m  map[string][]int32
}

func (c *wordCache) get(piece string) ([]int32, bool) {
	c.mu.Lock()
	ids, ok := c.m[piece]
	c.mu.Unlock()
	return ids, ok
}

func (c *wordCache) put(piece string, ids []int32) {
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCacheEntries {
		c.m = make(map[string][]int32, 1024)
	}
	c.m[piece] = ids
	c.mu.Unlock()
}

// symbol is one token of a word during merging, in a doubly linked list.
type symbol struct {
	id         int32
	prev, next int32 // indices, -1 at the ends
}

// candidate is a mergeable adjacent pair; stale ones are skipped when popped.
type candidate struct {
	rank        int32
	pos         int32 // index of the left symbol
	left, right int32 // token ids when the candidate was made
}

func (a candidate) less(b candidate) bool {
	return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos)
}

// bpeScratch holds the buffers of one Encode call.
type bpeScratch struct {
	syms []symbol
	heap []candidate
}

// appendPiece appends the ids of one pre-token.
func (t *Tokenizer) appendPiece(dst []int32, piece string, sc *bpeScratch) []int32 {
	if len(piece) == 1 {
		return append(dst, t.byteID[piece[0]])
	}
	cacheable := len(piece) <= maxCachedPiece
	if cacheable {
		if ids, ok := t.cache.get(piece); ok {
			return append(dst, ids...)
		}
	}
	n := len(dst)
	dst = t.merge(dst, piece, sc)
	if cacheable {
		t.cache.put(piece, append([]int32(nil), dst[n:]...))
	}
	return dst
}

// merge runs BPE on the bytes of piece: repeatedly merge the adjacent pair of
// lowest rank, leftmost first, until no pair has a merge.
func (t *Tokenizer) merge(dst []int32, piece string, sc *bpeScratch) []int32 {
	syms := sc.syms[:0]
	for i := 0; i < len(piece); i++ {
		syms = append(syms, symbol{id: t.byteID[piece[i]], prev: int32(i) - 1, next: int32(i) + 1})
	}
	syms[len(syms)-1].next = -1
	sc.syms = syms
	sc.heap = sc.heap[:0]
	for i := 0; i+1 < len(syms); i++ {
		t.pushPair(sc, int32(i), syms[i].id, syms[i+1].id)
	}
	for len(sc.heap) > 0 {
		c := sc.pop()
		l := &syms[c.pos]
		if l.id != c.left || l.next < 0 || syms[l.next].id != c.right {
			continue
		}
		r := syms[l.next]
		l.id = t.merges[pairKey(c.left, c.right)].id
		syms[l.next].id = -1
		l.next = r.next
		if r.next >= 0 {
			syms[r.next].prev = c.pos
			t.pushPair(sc, c.pos, l.id, syms[r.next].id)
		}
		if l.prev >= 0 {
			t.pushPair(sc, l.prev, syms[l.prev].id, l.id)
		}
	}
	for i := int32(0); i >= 0; i = syms[i].next {
		dst = append(dst, syms[i].id)
	}
	return dst
}

func (t *Tokenizer) pushPair(sc *bpeScratch, pos, left, right int32) {
	m, ok := t.merges[pairKey(left, right)]
	if !ok {
		return
	}
	sc.heap = append(sc.heap, candidate{rank: m.rank, pos: pos, left: left, right: right})
	h := sc.heap
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !h[i].less(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (sc *bpeScratch) pop() candidate {
	h := sc.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < len(h) && h[l].less(h[m]) {
			m = l
		}
		if r := l + 1; r < len(h) && h[r].less(h[m]) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	sc.heap = h
	return top
}
