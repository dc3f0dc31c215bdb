package grammar

import (
	"errors"
	"fmt"
	"strings"
)

// maxTextPatterns bounds the total length of a Text's end and forbidden
// strings, which are the states of its automaton.
const maxTextPatterns = 200

// textDFA recognises free text ended by a delimiter: its states are the
// longest suffix of the text read that is a prefix of one of the patterns
// (the end and the forbidden strings), next maps a state and a byte to the
// next state, textEnd (the end matched) or textFail (a forbidden string
// matched), and cost is each state's shortest way to the end.
type textDFA struct {
	next [][256]int16
	cost []int
	// markup: every pattern begins with '<' or a newline, so a Vocab's
	// textPlain token, which holds neither, stays in state 0 once there.
	markup bool
	// escapes[s] are the bytes that take state s anywhere but state 0
	// (on in a pattern, to its end or to a failure); a textPlain token
	// beginning with another byte leaves state s for state 0 at once.
	escapes []*[256]bool
}

const (
	textEnd  = -1
	textFail = -2
)

// Text returns the grammar of UTF-8 text (no control bytes but tab,
// newline and carriage return) up to and including the first occurrence
// of end, in which none of forbidden occurs before end does: a Qwen3-Coder
// parameter's raw value, ended by "\n</parameter>" and holding no other
// markup that would end it early. Added tokens are not allowed inside it,
// as inside JSON strings.
func Text(end string, forbidden ...string) (*Grammar, error) {
	pats := append([]string{end}, forbidden...)
	total := 0
	for _, p := range pats {
		if p == "" {
			return nil, errors.New("grammar: text: empty end or forbidden string")
		}
		total += len(p)
		for i := range len(p) {
			if p[i] >= 0x80 || !textByte(p[i]) {
				return nil, fmt.Errorf("grammar: text: %q: end and forbidden strings must be printable ASCII", p)
			}
		}
	}
	if total > maxTextPatterns {
		return nil, fmt.Errorf("grammar: text: end and forbidden strings of %d bytes; at most %d", total, maxTextPatterns)
	}
	for _, f := range forbidden {
		if strings.Contains(end[:len(end)-1], f) {
			return nil, fmt.Errorf("grammar: text: the end %q holds the forbidden %q", end, f)
		}
	}
	d := buildTextDFA(end, forbidden)
	if d.cost[0] >= infinite {
		return nil, fmt.Errorf("grammar: text: the end %q cannot be reached", end)
	}
	n := &node{kind: kText, text: d}
	return finish(n, []*node{n}), nil
}

// buildTextDFA builds the automaton by brute force over the patterns'
// prefixes, which are few.
func buildTextDFA(end string, forbidden []string) *textDFA {
	pats := append([]string{end}, forbidden...)
	index := map[string]int{"": 0}
	states := []string{""}
	for _, p := range pats {
		for k := 1; k < len(p); k++ {
			if _, ok := index[p[:k]]; !ok {
				index[p[:k]] = len(states)
				states = append(states, p[:k])
			}
		}
	}
	d := &textDFA{next: make([][256]int16, len(states)), cost: make([]int, len(states))}
	for i, s := range states {
		for c := range 256 {
			t := s + string([]byte{byte(c)})
			switch {
			case strings.HasSuffix(t, end):
				d.next[i][c] = textEnd
				continue
			case anySuffix(t, forbidden):
				d.next[i][c] = textFail
				continue
			}
			d.next[i][c] = 0
			for k := 1; k <= len(t); k++ {
				if j, ok := index[t[len(t)-k:]]; ok {
					d.next[i][c] = int16(j)
				}
			}
		}
	}
	markup := true
	for _, p := range pats {
		markup = markup && (p[0] == '<' || p[0] == '\n')
	}
	d.markup = markup
	d.escapes = make([]*[256]bool, len(states))
	for i := range states {
		e := new([256]bool)
		for c := range 256 {
			e[c] = c < 0x80 && d.next[i][c] != 0
		}
		d.escapes[i] = e
	}
	// Shortest way to the end from each state, over ASCII text bytes.
	for i := range d.cost {
		d.cost[i] = infinite
	}
	for changed := true; changed; {
		changed = false
		for i := range states {
			for c := range 128 {
				if !textByte(byte(c)) {
					continue
				}
				var via int
				switch j := d.next[i][c]; j {
				case textEnd:
					via = 1
				case textFail:
					continue
				default:
					via = sat(1 + d.cost[j])
				}
				if via < d.cost[i] {
					d.cost[i], changed = via, true
				}
			}
		}
	}
	return d
}

func anySuffix(t string, pats []string) bool {
	for _, p := range pats {
		if strings.HasSuffix(t, p) {
			return true
		}
	}
	return false
}

// textByte reports whether ASCII byte c may appear in text.
func textByte(c byte) bool { return c >= 0x20 && c != 0x7f || c == '\t' || c == '\n' || c == '\r' }

// Text frame sub-states; f.a is the automaton's state.
const (
	tBody = iota
	tDone
)

func consumeText(f *frame, c byte) result {
	if f.st == tDone {
		return rPop
	}
	if c >= 0x80 || f.u8 > 0 {
		if ok, _ := utf8Byte(f, c); !ok {
			return rFail
		}
		f.a = 0 // the patterns are ASCII
		return rOK
	}
	if !textByte(c) {
		return rFail
	}
	switch j := f.n.text.next[f.a][c]; j {
	case textFail:
		return rFail
	case textEnd:
		f.st = tDone
	default:
		f.a = int32(j)
	}
	return rOK
}

func restText(f *frame) int {
	if f.st == tDone {
		return 0
	}
	return sat(int(f.u8) + f.n.text.cost[f.a])
}
