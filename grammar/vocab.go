package grammar

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/q3m/q3m/tokenizer"
)

// plainBuckets is the longest string token (in characters) whose plain set
// is kept as a bitset of its own; longer ones are listed.
const plainBuckets = 16

// Vocab is a vocabulary prepared for masking: the bytes of every token in
// a byte trie, so that a walk shares the work of common prefixes, and the
// "plain" tokens (text that can only continue a JSON string) apart, since
// inside a string they are all allowed at once. A Vocab is immutable and
// safe for concurrent use; build one per tokenizer.
type Vocab struct {
	size   int      // logits per step
	pieces []string // bytes by id ("" for tokens never allowed)
	full   trie     // every ordinary token
	// special holds the ordinary tokens that are not plain but may
	// continue a string's body between characters: those whose first
	// quote or backslash comes before any byte a string refuses.
	special trie
	// plainUpTo[k] holds the plain tokens of at most k characters;
	// plainLong the longer ones.
	plainUpTo [plainBuckets + 1]bitset
	plainLong []idLen
	// textPlain holds the ordinary tokens that free text (Text) takes
	// whatever came before, in the states where no delimiter is under way:
	// complete characters, no control byte but tab and carriage return, no
	// '<' and no newline (the bytes a delimiter begins with). textRest is
	// the trie of the other ordinary tokens.
	textPlain bitset
	textRest  trie
	added     []int32 // added tokens other than stops, matched by their literal text
	stops     []int32
	isStop    bitset
}

type idLen struct{ id, chars int32 }

// trie is a byte trie of token texts. Node 0 is the root; a node's edges
// are edges[e0:e1] sorted by byte, its tokens ids[i0:i1].
type trie struct {
	nodes []tnode
	edges []tedge
	ids   []int32
}

type tnode struct{ e0, e1, i0, i1 int32 }

type tedge struct {
	b     byte
	child int32
}

// bitset is a set of token ids.
type bitset []uint64

func newBitset(n int) bitset      { return make(bitset, (n+63)/64) }
func (s bitset) set(i int32)      { s[i>>6] |= 1 << (i & 63) }
func (s bitset) has(i int32) bool { return s[i>>6]&(1<<(i&63)) != 0 }
func (s bitset) or(o bitset) {
	for i := range o {
		s[i] |= o[i]
	}
}
func (s bitset) clear()        { clear(s) }
func (s bitset) unset(i int32) { s[i>>6] &^= 1 << (i & 63) }

// NewVocab prepares tok's vocabulary for logits of size entries (the
// model's vocabulary, which may exceed the tokenizer's). stops are the ids
// that end a generation: they are allowed only where the grammar is
// complete. Control tokens other than stops are never allowed.
func NewVocab(tok *tokenizer.Tokenizer, size int, stops []int32) (*Vocab, error) {
	pieces := make([]string, size)
	var added []int32
	for id := int32(0); int(id) < min(size, tok.VocabSize()); id++ {
		if tok.IsSpecial(id) {
			continue
		}
		pieces[id] = tok.Piece(id)
		if tok.IsAdded(id) && pieces[id] != "" {
			added = append(added, id)
		}
	}
	return newVocab(pieces, added, stops)
}

// newVocab builds a Vocab from token bytes; ids in added are matched by
// their text but kept out of the trie (see Matcher.allowAdded).
func newVocab(pieces []string, added, stops []int32) (*Vocab, error) {
	if len(pieces) == 0 {
		return nil, errors.New("grammar: empty vocabulary")
	}
	v := &Vocab{size: len(pieces), pieces: pieces, added: added, isStop: newBitset(len(pieces))}
	for _, id := range stops {
		if id < 0 || int(id) >= len(pieces) {
			return nil, fmt.Errorf("grammar: stop token %d outside the vocabulary of %d", id, len(pieces))
		}
		v.stops = append(v.stops, id)
		v.isStop.set(id)
	}
	isAdded := newBitset(len(pieces))
	for _, id := range added {
		isAdded.set(id)
	}
	for k := range v.plainUpTo {
		v.plainUpTo[k] = newBitset(len(pieces))
	}
	v.textPlain = newBitset(len(pieces))
	var all, special, textRest []int32
	for i, p := range pieces {
		id := int32(i)
		if p == "" || v.isStop.has(id) || isAdded.has(id) {
			continue
		}
		all = append(all, id)
		if textPlain(p) {
			v.textPlain.set(id)
		} else {
			textRest = append(textRest, id)
		}
		if chars, ok := plain(p); ok {
			if chars <= plainBuckets {
				for k := chars; k <= plainBuckets; k++ {
					v.plainUpTo[k].set(id)
				}
			} else {
				v.plainLong = append(v.plainLong, idLen{id, int32(chars)})
			}
		} else if mayContinueString(p) {
			special = append(special, id)
		}
	}
	v.full = buildTrie(pieces, all)
	v.special = buildTrie(pieces, special)
	v.textRest = buildTrie(pieces, textRest)
	return v, nil
}

// plain reports whether token text p can only be string content (complete
// UTF-8 characters, no quote, backslash or control byte) and its length
// in characters.
func plain(p string) (int, bool) {
	if !utf8.ValidString(p) {
		return 0, false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == '"' || c == '\\' {
			return 0, false
		}
	}
	return utf8.RuneCountInString(p), true
}

// textPlain reports whether token text p is in Vocab.textPlain.
func textPlain(p string) bool {
	if !utf8.ValidString(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c == '<' || c == '\n' || c < 0x80 && !textByte(c) {
			return false
		}
	}
	return true
}

// mayContinueString reports whether token text p may follow a string body
// between characters: up to its first quote or backslash, p is text a
// string takes (no control byte, UTF-8 that may still be completing).
func mayContinueString(p string) bool {
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '"' || c == '\\':
			return true
		case c < 0x20:
			return false
		case c < 0x80:
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(p[i:])
		if r == utf8.RuneError && size == 1 {
			return !utf8.FullRuneInString(p[i:]) // a character cut at the token's end
		}
		i += size
	}
	return true
}

// buildTrie makes the trie of the texts of ids.
func buildTrie(pieces []string, ids []int32) trie {
	ids = append([]int32(nil), ids...)
	slices.SortFunc(ids, func(a, b int32) int { return strings.Compare(pieces[a], pieces[b]) })
	t := trie{nodes: []tnode{{}}}
	var build func(at int32, lo, hi, depth int)
	build = func(at int32, lo, hi, depth int) {
		// ids[lo:hi] share their first depth bytes; those that end here
		// sort first.
		i := lo
		for i < hi && len(pieces[ids[i]]) == depth {
			i++
		}
		t.nodes[at].i0, t.nodes[at].i1 = int32(len(t.ids)), int32(len(t.ids)+i-lo)
		t.ids = append(t.ids, ids[lo:i]...)
		type group struct{ lo, hi int }
		var groups []group
		for j := i; j < hi; {
			c := pieces[ids[j]][depth]
			k := j
			for k < hi && pieces[ids[k]][depth] == c {
				k++
			}
			groups = append(groups, group{j, k})
			j = k
		}
		e0 := int32(len(t.edges))
		for _, g := range groups {
			t.nodes = append(t.nodes, tnode{})
			t.edges = append(t.edges, tedge{b: pieces[ids[g.lo]][depth], child: int32(len(t.nodes) - 1)})
		}
		t.nodes[at].e0, t.nodes[at].e1 = e0, int32(len(t.edges))
		for k, g := range groups {
			build(t.edges[int(e0)+k].child, g.lo, g.hi, depth+1)
		}
	}
	build(0, 0, len(ids), 0)
	return t
}

// subtree returns the ids of the tokens under node n, which buildTrie
// lays out one after another.
func (t *trie) subtree(n int32) []int32 {
	last := n
	for t.nodes[last].e1 > t.nodes[last].e0 {
		last = t.edges[t.nodes[last].e1-1].child
	}
	return t.ids[t.nodes[n].i0:t.nodes[last].i1]
}

// Size returns the number of logits a mask covers.
func (v *Vocab) Size() int { return v.size }
