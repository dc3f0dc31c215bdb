package grammar

import "sort"

// Limits that keep the automaton's state bounded whatever the model writes.
const (
	maxDepth    = 64 // frames on the stack (nesting of values)
	maxAnyDepth = 16 // container nesting of "any JSON value"
	maxWS       = 20 // whitespace bytes in a row between tokens of JSON
	maxIntDigit = 15 // digits before the point (exact in a float64)
	maxFracDig  = 15 // digits after the point
	maxExpDigit = 2  // exponent digits (1e99 at most: no overflow to Inf)
)

// frame is one level of the automaton's pushdown stack: a node being
// matched and where in it the text is. Frames below the top live in the
// matcher's arena and are never changed; the top is a value.
type frame struct {
	n      *node
	parent int32  // arena index of the frame below; -1 at the bottom
	depth  uint16 // frames below this one
	st     uint8  // sub-state, by kind (see consume)
	ws     uint8  // whitespace bytes in the current run; bit 7: a newline among them
	key    bool   // a string frame reading an object key (n is the object)
	u8     uint8  // string: continuation bytes owed by the current character
	u8r    uint8  // string: range code of the next continuation byte
	a      int32  // object: next property; array: items; string: characters (key: byte offset); number: digits; choice: lo; seq: index
	b      int32  // object: property being read (-1: a free one); key: lo; choice: hi
	c      int32  // key: hi; choice: byte offset
	d      int32  // string: hex digits owed; key: the property it named
}

// result is what consume did with a byte.
type result uint8

const (
	rOK    result = iota // consumed
	rFail                // not allowed here
	rPop                 // the top is complete and does not take the byte: pass it to the parent
	rAgain               // the top was replaced or a child pushed: offer the byte again
)

// Object sub-states.
const (
	oFresh   = iota // expects {
	oOpen           // after {: whitespace, a key or }
	oNeedKey        // after a comma: whitespace or a key
	oKey            // a key frame is above
	oColon          // after the key: whitespace or :
	oBeforeV        // after the colon: whitespace or the value
	oValue          // a value frame is above
	oAfterV         // after a value: whitespace, a comma or }
	oDone           // after }
)

// Array sub-states.
const (
	aFresh = iota // expects [
	aOpen         // after [: whitespace, an item or ]
	aNeed         // after a comma: whitespace or an item
	aItem         // an item frame is above
	aAfter        // after an item: whitespace, a comma or ]
	aDone         // after ]
)

// String sub-states (values and keys).
const (
	sFresh = iota // expects "
	sBody         // between the quotes
	sEsc          // after a backslash
	sHex          // in \uXXXX, d digits owed
	sDone         // after the closing quote
)

// Number sub-states.
const (
	nFresh = iota
	nMinus // after -
	nZero  // after a leading 0
	nInt   // in the integer digits
	nPoint // after .
	nFrac  // in the fraction digits
	nE     // after e
	nESign // after the exponent's sign
	nExp   // in the exponent digits
)

// entry is an arena frame with the closing cost of everything from it down.
type entry struct {
	f   frame
	cum int // rest(f, with a child) + cum of its parent
}

// automaton is the mutable part of a matcher: the arena of frames below
// the tops it is asked about.
type automaton struct {
	arena []entry
}

func newFrame(n *node, parent int32, depth uint16) frame {
	return frame{n: n, parent: parent, depth: depth}
}

// push stores f (whose state already says a child is above it) in the
// arena and returns the child's fresh frame for n.
func (m *automaton) push(f *frame, n *node) (frame, bool) {
	if f.depth+1 >= maxDepth {
		return frame{}, false
	}
	cum := m.rest(f, true)
	if f.parent >= 0 {
		cum = sat(cum + m.arena[f.parent].cum)
	}
	m.arena = append(m.arena, entry{f: *f, cum: cum})
	return newFrame(n, int32(len(m.arena)-1), f.depth+1), true
}

// step moves the top frame f over byte c; false means c is not allowed.
func (m *automaton) step(f *frame, c byte) bool {
	for {
		switch m.consume(f, c) {
		case rOK:
			return true
		case rFail:
			return false
		case rPop:
			if f.parent < 0 {
				return false
			}
			child := *f
			*f = m.arena[f.parent].f
			m.childDone(f, &child)
		case rAgain:
		}
	}
}

// cost is the length of the shortest text that completes the grammar from
// the state whose top is f.
func (m *automaton) cost(f *frame) int {
	r := m.rest(f, false)
	if f.parent >= 0 {
		r = sat(r + m.arena[f.parent].cum)
	}
	return r
}

func isWS(c byte) bool { return c == ' ' || c == '\n' || c == '\t' }

// space takes a whitespace byte into f's run, if the run has room.
func space(f *frame, c byte) (result, bool) {
	if !isWS(c) {
		f.ws = 0
		return 0, false
	}
	// At most one newline a run: room for pretty-printing, none for a
	// model to fill its budget with blank lines.
	if f.ws&0x7f >= maxWS || c == '\n' && f.ws&0x80 != 0 {
		return rFail, true
	}
	if c == '\n' {
		f.ws |= 0x80
	}
	f.ws++
	return rOK, true
}

// consume offers byte c to the top frame f.
func (m *automaton) consume(f *frame, c byte) result {
	if f.key {
		return m.consumeKey(f, c)
	}
	n := f.n
	switch n.kind {
	case kObject:
		return m.consumeObject(f, c)
	case kArray:
		return m.consumeArray(f, c)
	case kString:
		return consumeString(f, c)
	case kNumber:
		return consumeNumber(f, c)
	case kChoice:
		return consumeChoice(f, c)
	case kUnion:
		i := n.first[c]
		if i < 0 {
			return rFail
		}
		*f = newFrame(n.alts[i], f.parent, f.depth)
		return rAgain
	case kSeq:
		if int(f.a) == len(n.seq) {
			return rPop
		}
		child, ok := m.push(f, n.seq[f.a])
		if !ok {
			return rFail
		}
		*f = child
		return rAgain
	}
	return rFail
}

// childDone moves parent f past its child frame, which has completed.
func (m *automaton) childDone(f *frame, child *frame) {
	n := f.n
	switch n.kind {
	case kObject:
		if f.st == oKey {
			f.st, f.b = oColon, child.d
		} else {
			f.st, f.a = oAfterV, n.after(f.b)
		}
	case kArray:
		f.st = aAfter
		f.a++
	case kSeq:
		f.a++
	}
	f.ws = 0
}

// after is the next property index once property j (-1: a free one) is read.
func (n *node) after(j int32) int32 {
	if j < 0 {
		return int32(len(n.props))
	}
	return j + 1
}

// valueNode is the node of property j (-1: a free one).
func (n *node) valueNode(j int32) *node {
	if j < 0 {
		return n.add
	}
	return n.props[j].node
}

// freeKey reports whether a key not among the declared ones may come at
// property position i.
func (n *node) freeKey(i int32) bool {
	return n.add != nil && int(n.firstReq[i]) == len(n.props)
}

// keyMayCome reports whether some key is allowed at position i.
func (n *node) keyMayCome(i int32) bool {
	return int(i) < len(n.props) || n.freeKey(i)
}

// candidate reports whether declared property j may be the key at position i.
func (n *node) candidate(i, j int32) bool {
	return j >= i && j <= n.firstReq[i] && int(j) < len(n.props)
}

func (m *automaton) consumeObject(f *frame, c byte) result {
	n := f.n
	if f.st != oFresh && f.st != oDone {
		if r, ok := space(f, c); ok {
			return r
		}
	}
	switch f.st {
	case oFresh:
		if c != '{' {
			return rFail
		}
		f.st = oOpen
	case oOpen, oNeedKey:
		if c == '}' && f.st == oOpen && int(n.firstReq[f.a]) == len(n.props) {
			f.st = oDone
			return rOK
		}
		if c != '"' || !n.keyMayCome(f.a) {
			return rFail
		}
		f.st = oKey
		child, ok := m.push(f, n)
		if !ok {
			return rFail
		}
		child.key = true
		*f = child
		return rAgain
	case oColon:
		if c != ':' {
			return rFail
		}
		f.st = oBeforeV
	case oBeforeV:
		f.st = oValue
		child, ok := m.push(f, n.valueNode(f.b))
		if !ok {
			return rFail
		}
		*f = child
		return rAgain
	case oAfterV:
		switch {
		case c == ',' && n.keyMayCome(f.a):
			f.st = oNeedKey
		case c == '}' && int(n.firstReq[f.a]) == len(n.props):
			f.st = oDone
		default:
			return rFail
		}
	case oDone:
		return rPop
	default:
		return rFail
	}
	return rOK
}

func (m *automaton) consumeArray(f *frame, c byte) result {
	n := f.n
	if f.st != aFresh && f.st != aDone {
		if r, ok := space(f, c); ok {
			return r
		}
	}
	switch f.st {
	case aFresh:
		if c != '[' {
			return rFail
		}
		f.st = aOpen
	case aOpen, aNeed:
		if c == ']' && f.st == aOpen && n.minItems == 0 {
			f.st = aDone
			return rOK
		}
		if n.maxItems == 0 {
			return rFail
		}
		f.st = aItem
		child, ok := m.push(f, n.items)
		if !ok {
			return rFail
		}
		*f = child
		return rAgain
	case aAfter:
		switch {
		case c == ',' && (n.maxItems < 0 || int(f.a) < n.maxItems):
			f.st = aNeed
		case c == ']' && int(f.a) >= n.minItems:
			f.st = aDone
		default:
			return rFail
		}
	case aDone:
		return rPop
	default:
		return rFail
	}
	return rOK
}

// UTF-8 continuation byte ranges: the first continuation byte after E0,
// ED, F0 and F4 is narrower (no overlongs, no surrogates, nothing past
// U+10FFFF); every other one is 80–BF.
var contLo = [5]byte{0x80, 0xA0, 0x80, 0x90, 0x80}
var contHi = [5]byte{0xBF, 0xBF, 0x9F, 0xBF, 0x8F}

// utf8Byte moves the string frame f over a non-ASCII byte c; newChar says
// c begins a character.
func utf8Byte(f *frame, c byte) (ok, newChar bool) {
	if f.u8 > 0 {
		if c < contLo[f.u8r] || c > contHi[f.u8r] {
			return false, false
		}
		f.u8--
		f.u8r = 0
		return true, false
	}
	switch {
	case c >= 0xC2 && c <= 0xDF:
		f.u8, f.u8r = 1, 0
	case c >= 0xE0 && c <= 0xEF:
		f.u8, f.u8r = 2, 0
		if c == 0xE0 {
			f.u8r = 1
		} else if c == 0xED {
			f.u8r = 2
		}
	case c >= 0xF0 && c <= 0xF4:
		f.u8, f.u8r = 3, 0
		if c == 0xF0 {
			f.u8r = 3
		} else if c == 0xF4 {
			f.u8r = 4
		}
	default:
		return false, false
	}
	return true, true
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// escape moves f over the byte after a backslash.
func escape(f *frame, c byte) result {
	switch c {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		f.st = sBody
	case 'u':
		f.st, f.d = sHex, 4
	default:
		return rFail
	}
	return rOK
}

// hex moves f over a digit of \uXXXX. The first digit may not be d: that
// keeps out surrogates, whose pairs would count as two characters here and
// one in JSON Schema (and lone ones are not text).
func hex(f *frame, c byte) result {
	if !isHex(c) || f.d == 4 && (c == 'd' || c == 'D') {
		return rFail
	}
	f.d--
	if f.d == 0 {
		f.st = sBody
	}
	return rOK
}

func consumeString(f *frame, c byte) result {
	n := f.n
	switch f.st {
	case sFresh:
		if c != '"' {
			return rFail
		}
		f.st = sBody
	case sBody:
		switch {
		case c == '"':
			if f.u8 > 0 || int(f.a) < n.minLen {
				return rFail
			}
			f.st = sDone
		case f.u8 > 0:
			if ok, _ := utf8Byte(f, c); !ok {
				return rFail
			}
		case n.maxLen >= 0 && int(f.a) >= n.maxLen || c < 0x20:
			return rFail
		case c == '\\':
			f.st = sEsc
			f.a++
		case c < 0x80:
			f.a++
		default:
			if ok, _ := utf8Byte(f, c); !ok {
				return rFail
			}
			f.a++
		}
	case sEsc:
		return escape(f, c)
	case sHex:
		return hex(f, c)
	case sDone:
		return rPop
	}
	return rOK
}

// consumeKey reads an object key; f.n is the object and the frame below is
// the object's. While the key may still be a declared name, [b, c] is the
// range of n.keys that begin with the a bytes read.
func (m *automaton) consumeKey(f *frame, c byte) result {
	n := f.n
	pos := m.arena[f.parent].f.a
	free := n.freeKey(pos)
	switch f.st {
	case sFresh:
		if c != '"' {
			return rFail
		}
		f.st, f.a, f.b, f.c = sBody, 0, 0, int32(len(n.keys))-1
		if !free && !n.anyCandidate(pos, f.b, f.c) {
			return rFail
		}
	case sBody, sEsc, sHex:
		switch {
		case f.st == sEsc:
			if escape(f, c) == rFail {
				return rFail
			}
		case f.st == sHex:
			if hex(f, c) == rFail {
				return rFail
			}
		case c == '"':
			return m.closeKey(f, pos, free)
		case c < 0x20:
			return rFail
		case c == '\\':
			f.st = sEsc
		case f.u8 > 0 || c >= 0x80:
			if ok, _ := utf8Byte(f, c); !ok {
				return rFail
			}
		}
		// Declared names are matched on their JSON text, escapes included.
		if f.b <= f.c {
			f.b, f.c = narrow(n.keys, f.b, f.c, int(f.a), c)
		}
		f.a++
		if !free && (f.b > f.c || !n.anyCandidate(pos, f.b, f.c)) {
			return rFail
		}
	case sDone:
		return rPop
	}
	return rOK
}

// closeKey ends key f at its closing quote: a declared name that may come
// at position pos, or a free key when those are allowed and the text is no
// declared name.
func (m *automaton) closeKey(f *frame, pos int32, free bool) result {
	n := f.n
	if f.u8 > 0 {
		return rFail
	}
	if f.b <= f.c && len(n.keys[f.b]) == int(f.a) {
		j := n.keyIx[f.b]
		if !n.candidate(pos, j) {
			return rFail // a repeated or out-of-order declared key
		}
		f.d = j
	} else if free {
		f.d = -1
	} else {
		return rFail
	}
	f.st = sDone
	return rOK
}

// anyCandidate reports whether some key in keys[lo..hi] is a candidate at
// property position pos.
func (n *node) anyCandidate(pos, lo, hi int32) bool {
	for i := lo; i <= hi; i++ {
		if n.candidate(pos, n.keyIx[i]) {
			return true
		}
	}
	return false
}

// narrow returns the range of lits[lo..hi] (which share their first off
// bytes) whose byte at off is c; empty (lo > hi) when none.
func narrow(lits []string, lo, hi int32, off int, c byte) (int32, int32) {
	if len(lits[lo]) == off {
		lo++ // the literal that ends here comes first
	}
	if lo > hi {
		return 1, 0
	}
	s := lits[lo : hi+1]
	i := sort.Search(len(s), func(i int) bool { return s[i][off] >= c })
	j := sort.Search(len(s), func(i int) bool { return s[i][off] > c })
	if i == j {
		return 1, 0
	}
	return lo + int32(i), lo + int32(j) - 1
}

func consumeChoice(f *frame, c byte) result {
	n := f.n
	if f.st == 0 {
		f.st, f.a, f.b, f.c = 1, 0, int32(len(n.lits))-1, 0
	}
	lo, hi := f.a, f.b
	if lo > hi {
		return rPop // a completed literal
	}
	nlo, nhi := narrow(n.lits, lo, hi, int(f.c), c)
	if nlo > nhi {
		if len(n.lits[lo]) == int(f.c) {
			return rPop
		}
		return rFail
	}
	f.a, f.b = nlo, nhi
	f.c++
	if n.conts != nil && len(n.lits[nlo]) == int(f.c) {
		if cont := n.conts[nlo]; cont != nil {
			*f = newFrame(cont, f.parent, f.depth)
		}
	}
	return rOK
}

func consumeNumber(f *frame, c byte) result {
	digit := c >= '0' && c <= '9'
	integer := f.n.integer
	switch f.st {
	case nFresh, nMinus:
		switch {
		case c == '-' && f.st == nFresh:
			f.st = nMinus
		case c == '0':
			f.st = nZero
		case digit:
			f.st, f.a = nInt, 1
		default:
			return rFail
		}
		return rOK
	case nZero, nInt:
		switch {
		case digit && f.st == nInt && f.a < maxIntDigit:
			f.a++
		case c == '.' && !integer:
			f.st = nPoint
		case (c == 'e' || c == 'E') && !integer:
			f.st = nE
		default:
			return rPop
		}
		return rOK
	case nPoint:
		if !digit {
			return rFail
		}
		f.st, f.a = nFrac, 1
		return rOK
	case nFrac:
		switch {
		case digit && f.a < maxFracDig:
			f.a++
		case c == 'e' || c == 'E':
			f.st = nE
		default:
			return rPop
		}
		return rOK
	case nE:
		switch {
		case c == '+' || c == '-':
			f.st = nESign
		case digit:
			f.st, f.a = nExp, 1
		default:
			return rFail
		}
		return rOK
	case nESign:
		if !digit {
			return rFail
		}
		f.st, f.a = nExp, 1
		return rOK
	case nExp:
		if digit && f.a < maxExpDigit {
			f.a++
			return rOK
		}
		return rPop
	}
	return rFail
}
