package grammar

import "sort"

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
