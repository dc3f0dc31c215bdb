package grammar

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
	case kText:
		return consumeText(f, c)
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
