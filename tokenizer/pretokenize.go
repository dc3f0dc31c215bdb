package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// Character classes of the Qwen2 split pattern
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// where \s is Unicode White_Space. Every rune is exactly one of them.
const (
	classOther  = iota // not letter, number or space
	classLetter        // \p{L}
	classNumber        // \p{N}
	classSpace         // \s
)

var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for c := 0; c < utf8.RuneSelf; c++ {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			t[c] = classLetter
		case c >= '0' && c <= '9':
			t[c] = classNumber
		case c == ' ', c >= '\t' && c <= '\r':
			t[c] = classSpace
		}
	}
	return t
}()

// runeAt decodes the rune at s[i] and returns it with its size and class.
// Invalid bytes decode as one-byte RuneError of class other.
func runeAt(s string, i int) (r rune, size int, class uint8) {
	c := s[i]
	if c < utf8.RuneSelf {
		return rune(c), 1, asciiClass[c]
	}
	r, size = utf8.DecodeRuneInString(s[i:])
	switch {
	case unicode.IsLetter(r):
		class = classLetter
	case unicode.IsNumber(r):
		class = classNumber
	case unicode.IsSpace(r):
		class = classSpace
	default:
		class = classOther
	}
	return r, size, class
}

// nextPiece returns the end of the pre-token that starts at s[i], i < len(s).
// It tries the pattern's alternatives in order, as a backtracking regex does.
func nextPiece(s string, i int) int {
	r, size, class := runeAt(s, i)
	j := i + size
	if r == '\'' {
		if n := contraction(s, j); n > 0 {
			return j + n
		}
	}
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if class == classLetter {
		return skipClass(s, j, classLetter)
	}
	if class != classNumber && r != '\r' && r != '\n' && j < len(s) {
		if _, _, c2 := runeAt(s, j); c2 == classLetter {
			return skipClass(s, j, classLetter)
		}
	}
	// \p{N}
	if class == classNumber {
		return j
	}
	// ' ?[^\s\p{L}\p{N}]+[\r\n]*'
	start := -1
	if class == classOther {
		start = j
	} else if r == ' ' && j < len(s) {
		if _, size2, c2 := runeAt(s, j); c2 == classOther {
			start = j + size2
		}
	}
	if start >= 0 {
		k := skipClass(s, start, classOther)
		for k < len(s) && (s[k] == '\r' || s[k] == '\n') {
			k++
		}
		return k
	}
	// Here s[i] is white space: \s*[\r\n]+ | \s+(?!\S) | \s+
	end, lastNL, lastStart := i, -1, i
	for end < len(s) {
		r2, size2, c2 := runeAt(s, end)
		if c2 != classSpace {
			break
		}
		if r2 == '\r' || r2 == '\n' {
			lastNL = end
		}
		lastStart = end
		end += size2
	}
	switch {
	case lastNL >= 0:
		return lastNL + 1
	case end == len(s) || lastStart == i:
		return end
	default:
		return lastStart
	}
}

// skipClass returns the end of the run of runes of class c starting at s[i].
func skipClass(s string, i int, c uint8) int {
	for i < len(s) {
		_, size, class := runeAt(s, i)
		if class != c {
			break
		}
		i += size
	}
	return i
}

// contraction returns the length of the match of (?i:s|t|re|ve|m|ll|d) at
// s[i], or 0. Case folding is Unicode simple folding, under which only U+017F
// (ſ) joins the ASCII letters involved.
func contraction(s string, i int) int {
	if i >= len(s) {
		return 0
	}
	c, n := lowerASCII(s[i]), 1
	if c == 0xC5 && i+1 < len(s) && s[i+1] == 0xBF { // ſ
		c, n = 's', 2
	}
	switch c {
	case 's', 't', 'm', 'd':
		return n
	case 'r', 'v', 'l':
		if i+1 < len(s) {
			want := byte('e')
			if c == 'l' {
				want = 'l'
			}
			if lowerASCII(s[i+1]) == want {
				return 2
			}
		}
	}
	return 0
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
