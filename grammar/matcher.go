package grammar

import (
	"errors"
	"fmt"
	"math"
	mbits "math/bits"
)

// ErrComplete is returned by Accept for a token after the grammar's text
// is complete and a stop token was accepted.
var ErrComplete = errors.New("grammar: the text is complete")

// Matcher follows one generation through a Grammar: Allowed (or Mask)
// says which tokens may come next, Accept moves past the one chosen. It is
// not safe for concurrent use.
type Matcher struct {
	g    *Grammar
	v    *Vocab
	auto automaton
	top  frame // the state: top frame, the rest in auto.arena[:base]
	base int
	done bool // a stop token was accepted

	bits  bitset
	stack []walkEntry
	chain []entry

	walkAll bool // tests: walk the whole trie, no plain-token shortcut
	track   bool // record in least the smallest cost after a token
	least   int
}

type walkEntry struct {
	node, edge int32
	f          frame
}

// NewMatcher starts matching g over v's tokens.
func NewMatcher(g *Grammar, v *Vocab) *Matcher {
	return &Matcher{g: g, v: v, top: newFrame(g.root, -1, 0), bits: newBitset(v.size)}
}

// Complete reports whether the text so far is a whole instance of the
// grammar, so that a stop token may come.
func (m *Matcher) Complete() bool { return m.auto.cost(&m.top) == 0 }

// Closing is the length in bytes of the shortest text that completes the
// grammar from here (each byte is a token of its own at worst).
func (m *Matcher) Closing() int { return m.auto.cost(&m.top) }

// Mask sets to -Inf the logits of the tokens that may not come next when
// at most remaining tokens (this one included) are left; remaining ≤ 0
// means no limit. len(logits) must be the Vocab's size.
func (m *Matcher) Mask(logits []float32, remaining int) error {
	if len(logits) != m.v.size {
		return fmt.Errorf("grammar: %d logits for a vocabulary of %d", len(logits), m.v.size)
	}
	bits, err := m.Allowed(remaining)
	if err != nil {
		return err
	}
	inf := float32(math.Inf(-1))
	for w, word := range bits {
		base := w * 64
		end := min(base+64, len(logits))
		switch word {
		case ^uint64(0):
		case 0:
			copy(logits[base:end], negInf[:])
		default:
			for out := ^word; out != 0; out &= out - 1 {
				if i := base + mbits.TrailingZeros64(out); i < end {
					logits[i] = inf
				}
			}
		}
	}
	return nil
}

var negInf = func() (a [64]float32) {
	for i := range a {
		a[i] = float32(math.Inf(-1))
	}
	return
}()

// Allowed returns the set of tokens that may come next when at most
// remaining tokens are left (≤ 0: no limit), as a bitset over the
// vocabulary (bit i of word i/64), valid until the next call. A token is
// allowed when the text stays a prefix of an instance and the shortest
// completion after it fits in the tokens then left (one byte a token);
// when none fits (a budget below the shortest completion), the tokens
// after which the completion is shortest are allowed.
func (m *Matcher) Allowed(remaining int) ([]uint64, error) {
	if m.done {
		return nil, ErrComplete
	}
	budget := infinite
	if remaining > 0 {
		budget = remaining - 1
	}
	if m.allowed(budget) {
		return m.bits, nil
	}
	if budget < infinite {
		// The budget is below the shortest completion (counted a byte a
		// token): take the tokens that shorten it most, which may still
		// close in time with tokens of several bytes.
		m.least, m.track = infinite, true
		m.allowed(infinite)
		m.track = false
		if m.least < infinite && m.allowed(m.least) {
			return m.bits, nil
		}
	}
	return nil, errors.New("grammar: no token of the vocabulary continues the text")
}

// allowed fills m.bits for a budget and reports whether any token is in it.
func (m *Matcher) allowed(budget int) bool {
	m.bits.clear()
	cost := m.auto.cost(&m.top)
	any := false
	if cost == 0 {
		for _, id := range m.v.stops {
			m.bits.set(id)
			any = true
		}
	}
	mark := len(m.auto.arena)
	t := &m.v.full
	if f := &m.top; !m.walkAll && m.plainContinues(f) && cost <= budget {
		// Plain tokens stay in the string and do not lengthen its
		// completion: all of them that fit maxLength are allowed.
		room := math.MaxInt32
		if !f.key && f.n.maxLen >= 0 {
			room = f.n.maxLen - int(f.a)
		}
		m.bits.or(m.v.plainUpTo[min(room, plainBuckets)])
		for _, p := range m.v.plainLong {
			if int(p.chars) <= room {
				m.bits.set(p.id)
			}
		}
		any = true // room 0 leaves the closing quote, in the special trie
		t = &m.v.special
	} else if f.n.kind == kText && !f.key && f.st == tBody && f.u8 == 0 && f.n.text.markup && !m.walkAll {
		// Free text: a textPlain token whose first byte is no escape of
		// the state leaves the automaton in state 0, at the same cost;
		// the others are walked: the tokens beginning with an escape in
		// the whole trie (cleared first, then set where allowed), the
		// rest of the vocabulary in textRest.
		f0 := *f
		f0.a = 0
		if m.auto.cost(&f0) <= budget {
			m.bits.or(m.v.textPlain)
			any = true
			esc := f.n.text.escapes[f.a]
			full := &m.v.full
			for e := full.nodes[0].e0; e < full.nodes[0].e1; e++ {
				if edge := full.edges[e]; esc[edge.b] {
					for _, id := range full.subtree(edge.child) {
						m.bits.unset(id)
					}
				}
			}
			if m.walkFirst(full, budget, esc) {
				any = true
			}
			t = &m.v.textRest
		}
	}
	if m.walk(t, budget) {
		any = true
	}
	if m.allowAdded(budget) {
		any = true
	}
	m.auto.arena = m.auto.arena[:mark]
	return any && !m.empty()
}

// plainContinues reports whether every plain token continues the text
// from f without changing its completion's length (except shortening a
// string below its minLength): in a string's body between characters, or
// in an object key that can no longer be a declared name.
func (m *Matcher) plainContinues(f *frame) bool {
	if f.st != sBody || f.u8 != 0 {
		return false
	}
	if f.key {
		return f.b > f.c && f.n.freeKey(m.auto.arena[f.parent].f.a)
	}
	return f.n.kind == kString
}

func (m *Matcher) empty() bool {
	for _, w := range m.bits {
		if w != 0 {
			return false
		}
	}
	return true
}

// walk runs the automaton down trie t from the current state, marking the
// tokens it reaches whose completion fits the budget. Tokens sharing a
// prefix share the steps over it.
func (m *Matcher) walk(t *trie, budget int) bool { return m.walkFirst(t, budget, nil) }

// walkFirst is walk over the tokens whose first byte is in first (nil:
// all of them).
func (m *Matcher) walkFirst(t *trie, budget int, first *[256]bool) bool {
	any := false
	st := append(m.stack[:0], walkEntry{node: 0, edge: t.nodes[0].e0, f: m.top})
	for len(st) > 0 {
		cur := &st[len(st)-1]
		if cur.edge >= t.nodes[cur.node].e1 {
			st = st[:len(st)-1]
			continue
		}
		e := t.edges[cur.edge]
		cur.edge++
		if first != nil && cur.node == 0 && !first[e.b] {
			continue
		}
		f := cur.f
		if !m.auto.step(&f, e.b) {
			continue
		}
		nd := &t.nodes[e.child]
		if m.track && nd.i0 < nd.i1 {
			m.least = min(m.least, m.auto.cost(&f))
		}
		if nd.i0 < nd.i1 && m.auto.cost(&f) <= budget {
			for _, id := range t.ids[nd.i0:nd.i1] {
				m.bits.set(id)
			}
			any = true
		}
		if nd.e0 < nd.e1 {
			st = append(st, walkEntry{node: e.child, edge: nd.e0, f: f})
		}
	}
	m.stack = st
	return any
}

// allowAdded marks the added tokens (such as </tool_call>) whose literal
// text continues the grammar outside strings: inside a JSON string the
// text would be read back as markup.
func (m *Matcher) allowAdded(budget int) bool {
	any := false
	for _, id := range m.v.added {
		f := m.top
		ok := !inString(&f)
		for i := 0; ok && i < len(m.v.pieces[id]); i++ {
			ok = m.auto.step(&f, m.v.pieces[id][i])
		}
		if ok && m.track && !inString(&f) {
			m.least = min(m.least, m.auto.cost(&f))
		}
		if ok && !inString(&f) && m.auto.cost(&f) <= budget {
			m.bits.set(id)
			any = true
		}
	}
	return any
}

func inString(f *frame) bool {
	if f.n.kind == kText && !f.key {
		return f.st != tDone
	}
	return (f.key || f.n.kind == kString) && f.st != sFresh && f.st != sDone
}

// Accept moves past token id. A stop token is accepted only where the text
// is complete; after it, no token is.
func (m *Matcher) Accept(id int32) error {
	if m.done {
		return ErrComplete
	}
	if id < 0 || int(id) >= m.v.size {
		return fmt.Errorf("grammar: token %d outside the vocabulary", id)
	}
	if m.v.isStop.has(id) {
		if !m.Complete() {
			return fmt.Errorf("grammar: stop token %d before the text is complete", id)
		}
		m.done = true
		return nil
	}
	p := m.v.pieces[id]
	if p == "" {
		return fmt.Errorf("grammar: token %d is never allowed", id)
	}
	f := m.top
	for i := 0; i < len(p); i++ {
		if !m.auto.step(&f, p[i]) {
			m.auto.arena = m.auto.arena[:m.base]
			return fmt.Errorf("grammar: token %d (%q) breaks the grammar at byte %d", id, p, i)
		}
	}
	m.commit(f)
	return nil
}

// AcceptText moves past the bytes of s, as Accept does for a token.
func (m *Matcher) AcceptText(s string) error {
	f := m.top
	for i := 0; i < len(s); i++ {
		if !m.auto.step(&f, s[i]) {
			m.auto.arena = m.auto.arena[:m.base]
			return fmt.Errorf("grammar: text %q breaks the grammar at byte %d", s, i)
		}
	}
	m.commit(f)
	return nil
}

// commit makes f the state, moving the frames below it to the front of the
// arena so that the arena holds only the state's stack between steps.
func (m *Matcher) commit(f frame) {
	m.chain = m.chain[:0]
	for i := f.parent; i >= 0; i = m.auto.arena[i].f.parent {
		m.chain = append(m.chain, m.auto.arena[i])
	}
	a := m.auto.arena[:0]
	for i := len(m.chain) - 1; i >= 0; i-- {
		e := m.chain[i]
		e.f.parent = int32(len(a)) - 1
		a = append(a, e) // cum does not depend on where the parent is stored
	}
	m.auto.arena = a
	m.base = len(a)
	f.parent = int32(len(a)) - 1
	m.top = f
}
