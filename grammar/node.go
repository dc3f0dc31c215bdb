package grammar

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// kind is what a node matches.
type kind uint8

const (
	kObject kind = iota // {…} with declared and/or free properties
	kArray              // […]
	kString             // "…"
	kNumber             // a JSON number (integer: no fraction or exponent)
	kChoice             // one of a set of literal texts, each maybe followed by a node
	kUnion              // one of several nodes, told apart by their first byte
	kSeq                // nodes one after another
	kText               // free text up to an end string (see Text)
)

// infinite is the minimal length of a node with no finite instance (yet,
// during the fixpoint).
const infinite = 1 << 30

// node is a compiled grammar element. Nodes are immutable once a Grammar is
// built and may form cycles (through $ref).
type node struct {
	kind kind

	// kObject: props in schema order (the order they are generated in);
	// add is the node of other properties, nil when they are not allowed.
	props []prop
	add   *node
	keys  []string // props' names, sorted (JSON-escaped text between the quotes)
	keyIx []int32  // keys[i] is props[keyIx[i]]
	// reqTail[i] is the length of the shortest text that closes the object
	// from "after a value, next property i": ,"name":min for every required
	// property from i on, then }. needKey[i] is the shortest text from
	// "after a comma, next property i".
	reqTail, needKey []int
	firstReq         []int32 // firstReq[i]: the first required prop ≥ i, or len(props)

	// kArray
	items              *node
	minItems, maxItems int // maxItems < 0: none

	// kString: length bounds in characters (maxLen < 0: none)
	minLen, maxLen int

	// kNumber
	integer bool

	// kChoice: lits sorted; conts[i] follows lits[i] (nil: nothing), set
	// only when no literal is a prefix of another.
	lits  []string
	conts []*node

	// kUnion: alts and the alternative each first byte selects (-1: none);
	// oneOf and path for resolve's checks and errors.
	alts  []*node
	first *[256]int8
	oneOf bool
	path  string

	// kSeq: seqTail[i] is the shortest length of seq[i:].
	seq     []*node
	seqTail []int

	// kText
	text *textDFA

	min int // length of the shortest text the node matches
}

// prop is a declared object property.
type prop struct {
	name     string // as written between the quotes
	node     *node
	required bool
}

// keyCost is the length of `"name":` followed by the shortest value.
func (p *prop) keyCost() int { return sat(len(p.name) + 3 + p.node.min) }

// sat caps a length at infinite.
func sat(n int) int { return min(n, infinite) }

// Grammar is a compiled constraint on generated text: a JSON schema, any
// JSON object, or a composition of literals and those (Seq, Switch). A
// Grammar is immutable and safe for concurrent use; Matchers track one
// generation each.
type Grammar struct {
	root  *node
	nodes []*node // every node, for the fixpoint
}

// Size returns the number of nodes of g, a measure of its memory.
func (g *Grammar) Size() int { return len(g.nodes) }

// OnlyObjects reports whether every text g matches is a JSON object.
func (g *Grammar) OnlyObjects() bool { return g.root.kind == kObject }

// Literal returns a grammar matching exactly s.
func Literal(s string) *Grammar {
	n := &node{kind: kChoice, lits: []string{s}}
	return finish(n, []*node{n})
}

// Seq returns the grammar matching each of gs in turn.
func Seq(gs ...*Grammar) (*Grammar, error) {
	n := &node{kind: kSeq}
	all := []*node{n}
	for _, g := range gs {
		n.seq = append(n.seq, g.root)
		all = append(all, g.nodes...)
	}
	g := finish(n, all)
	if g.root.min >= infinite {
		return nil, errors.New("grammar: sequence has no finite instance")
	}
	return g, nil
}

// Switch returns the grammar matching one of prefixes followed by the
// grammar of the same index (nil: nothing). No prefix may be a prefix of
// another, so that the text tells which was taken when it ends.
func Switch(prefixes []string, then []*Grammar) (*Grammar, error) {
	if len(prefixes) == 0 || len(prefixes) != len(then) {
		return nil, fmt.Errorf("grammar: switch: %d prefixes and %d grammars", len(prefixes), len(then))
	}
	type alt struct {
		lit string
		g   *Grammar
	}
	alts := make([]alt, len(prefixes))
	for i := range prefixes {
		alts[i] = alt{prefixes[i], then[i]}
	}
	sort.Slice(alts, func(i, j int) bool { return alts[i].lit < alts[j].lit })
	n := &node{kind: kChoice}
	all := []*node{n}
	for i, a := range alts {
		if a.lit == "" || i > 0 && strings.HasPrefix(a.lit, alts[i-1].lit) {
			return nil, fmt.Errorf("grammar: switch: prefix %q is empty or extends another", a.lit)
		}
		n.lits = append(n.lits, a.lit)
		var c *node
		if a.g != nil {
			c = a.g.root
			all = append(all, a.g.nodes...)
		}
		n.conts = append(n.conts, c)
	}
	return finish(n, all), nil
}

// JSONObject returns the grammar of any JSON object, as OpenAI's
// response_format {"type": "json_object"} asks. Nesting is bounded (see
// maxAnyDepth).
func JSONObject() *Grammar {
	var all []*node
	root := &node{kind: kObject, add: anyValue(maxAnyDepth-1, &all)}
	all = append(all, root)
	return finish(root, all)
}

// anyValue returns the node of any JSON value whose containers nest at most
// depth levels, appending the nodes it makes to all.
func anyValue(depth int, all *[]*node) *node {
	str := &node{kind: kString, maxLen: -1}
	num := &node{kind: kNumber}
	lits := &node{kind: kChoice, lits: []string{"false", "null", "true"}}
	*all = append(*all, str, num, lits)
	alts := []*node{str, num, lits}
	if depth > 0 {
		inner := anyValue(depth-1, all)
		obj := &node{kind: kObject, add: inner}
		arr := &node{kind: kArray, items: inner, maxItems: -1}
		*all = append(*all, obj, arr)
		alts = append(alts, obj, arr)
	}
	u := &node{kind: kUnion, alts: alts}
	*all = append(*all, u)
	u.resolve(all) // distinct first bytes by construction
	return u
}

// firstBytes marks the bytes n's text may begin with; n is no union.
func (n *node) firstBytes(set *[256]bool) {
	switch n.kind {
	case kObject:
		set['{'] = true
	case kArray:
		set['['] = true
	case kString:
		set['"'] = true
	case kNumber:
		set['-'] = true
		for c := '0'; c <= '9'; c++ {
			set[c] = true
		}
	case kChoice:
		for _, l := range n.lits {
			set[l[0]] = true
		}
	case kSeq:
		if len(n.seq) > 0 && n.seq[0].kind != kUnion {
			n.seq[0].firstBytes(set)
		}
	case kText:
		for c := range 256 {
			set[c] = c >= 0x80 || textByte(byte(c))
		}
	}
}

// resolve makes union n ready to match: alternatives that are unions
// themselves are flattened (through cycles of references too), literal
// choices merged into one, an integer beside a number dropped for the
// number (an error under oneOf, where 1 would match both), and every
// first byte mapped to the one alternative it begins. Nodes it makes are
// appended to all.
func (n *node) resolve(all *[]*node) error {
	var flat []*node
	seen := map[*node]bool{n: true}
	var collect func(alts []*node)
	collect = func(alts []*node) {
		for _, a := range alts {
			if seen[a] {
				continue
			}
			seen[a] = true
			if a.kind == kUnion {
				collect(a.alts)
				continue
			}
			flat = append(flat, a)
		}
	}
	collect(n.alts)
	var merged, choices []*node
	var num, integer *node
	for _, a := range flat {
		switch {
		case a.kind == kChoice && a.conts == nil:
			choices = append(choices, a)
		case a.kind == kNumber && a.integer:
			integer = a
		case a.kind == kNumber:
			num = a
		default:
			merged = append(merged, a)
		}
	}
	if num != nil && integer != nil && n.oneOf {
		return errors.New("oneOf of number and integer: an integer would match both")
	}
	if num != nil {
		merged = append(merged, num)
	} else if integer != nil {
		merged = append(merged, integer)
	}
	switch len(choices) {
	case 0:
	case 1:
		merged = append(merged, choices[0])
	default:
		lits := &node{kind: kChoice}
		for _, c := range choices {
			lits.lits = append(lits.lits, c.lits...)
		}
		sort.Strings(lits.lits)
		lits.lits = slicesCompact(lits.lits)
		merged = append(merged, lits)
		*all = append(*all, lits)
	}
	if len(merged) == 0 {
		return errors.New("the alternatives refer only to each other")
	}
	if len(merged) > 127 {
		return errors.New("more than 127 alternatives")
	}
	first := new([256]int8)
	for i := range first {
		first[i] = -1
	}
	for i, a := range merged {
		var set [256]bool
		a.firstBytes(&set)
		for b, ok := range set {
			if !ok {
				continue
			}
			if j := first[b]; j >= 0 {
				return fmt.Errorf("alternatives %d and %d can both begin with %q; only alternatives of distinct types are supported", j, i, rune(b))
			}
			first[b] = int8(i)
		}
	}
	n.alts, n.first = merged, first
	return nil
}

func slicesCompact(s []string) []string {
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// finish computes the derived tables of every node and returns the grammar.
func finish(root *node, all []*node) *Grammar {
	seen := make(map[*node]bool, len(all))
	uniq := all[:0:0]
	for _, n := range all {
		if !seen[n] {
			seen[n] = true
			uniq = append(uniq, n)
		}
	}
	for _, n := range uniq {
		if n.kind == kObject {
			n.prepareObject()
		}
	}
	fixMin(uniq)
	return &Grammar{root: root, nodes: uniq}
}

// prepareObject sorts the object's keys and finds its required props.
func (n *node) prepareObject() {
	n.keys = n.keys[:0]
	n.keyIx = n.keyIx[:0]
	idx := make([]int32, len(n.props))
	for i := range idx {
		idx[i] = int32(i)
	}
	sort.Slice(idx, func(a, b int) bool { return n.props[idx[a]].name < n.props[idx[b]].name })
	for _, i := range idx {
		n.keys = append(n.keys, n.props[i].name)
		n.keyIx = append(n.keyIx, i)
	}
	n.firstReq = make([]int32, len(n.props)+1)
	n.firstReq[len(n.props)] = int32(len(n.props))
	for i := len(n.props) - 1; i >= 0; i-- {
		if n.props[i].required {
			n.firstReq[i] = int32(i)
		} else {
			n.firstReq[i] = n.firstReq[i+1]
		}
	}
	n.reqTail = make([]int, len(n.props)+1)
	n.needKey = make([]int, len(n.props)+1)
}

// fixMin computes every node's shortest length by relaxing them all until
// nothing changes: recursive schemas converge from "infinite" down.
func fixMin(all []*node) {
	for _, n := range all {
		n.min = infinite
	}
	for range len(all) + 2 {
		changed := false
		for _, n := range all {
			if m := n.computeMin(); m < n.min {
				n.min, changed = m, true
			}
		}
		if !changed {
			break
		}
	}
}

// computeMin is the shortest length of n given its children's current
// minima; for objects it also fills reqTail and needKey.
func (n *node) computeMin() int {
	switch n.kind {
	case kNumber:
		return 1 // 0
	case kString:
		return sat(2 + n.minLen)
	case kArray:
		if n.minItems == 0 {
			return 2
		}
		return sat(2 + n.minItems*n.items.min + n.minItems - 1)
	case kChoice:
		m := infinite
		for i, l := range n.lits {
			c := len(l)
			if n.conts != nil && n.conts[i] != nil {
				c += n.conts[i].min
			}
			m = min(m, sat(c))
		}
		return m
	case kUnion:
		m := infinite
		for _, a := range n.alts {
			m = min(m, a.min)
		}
		return m
	case kSeq:
		n.seqTail = make([]int, len(n.seq)+1)
		for i := len(n.seq) - 1; i >= 0; i-- {
			n.seqTail[i] = sat(n.seqTail[i+1] + n.seq[i].min)
		}
		return n.seqTail[0]
	case kText:
		return n.text.cost[0]
	case kObject:
		np := len(n.props)
		n.reqTail[np] = 1
		for i := np - 1; i >= 0; i-- {
			n.reqTail[i] = n.reqTail[i+1]
			if n.props[i].required {
				n.reqTail[i] = sat(n.reqTail[i] + 1 + n.props[i].keyCost())
			}
		}
		// needKey[i]: a declared property from i up to the first
		// required one, or a free key when no required one remains.
		declared := infinite
		for i := np; i >= 0; i-- {
			if i < np {
				g := sat(n.props[i].keyCost() + n.reqTail[i+1])
				if n.props[i].required {
					declared = g
				} else {
					declared = min(declared, g)
				}
			}
			n.needKey[i] = declared
			if n.add != nil && int(n.firstReq[i]) == np {
				n.needKey[i] = min(declared, sat(2+1+n.add.min+n.reqTail[np])) // "":min}
			}
		}
		if n.firstReq[0] < int32(np) {
			return sat(1 + n.needKey[0])
		}
		return 2
	}
	return infinite
}
