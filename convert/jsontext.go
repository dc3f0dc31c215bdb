package convert

import (
	"fmt"
	"unicode/utf8"
)

// CheckJSONText reports text that encoding/json would silently change
// while decoding it: bytes that are not UTF-8, and \u escapes of lone
// UTF-16 surrogates. Both become U+FFFD, so a token, a name or a message
// would differ from the file without an error.
func CheckJSONText(b []byte) error {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return fmt.Errorf("invalid UTF-8 at byte %d", i)
		}
		i += n
	}
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		i++
		if i >= len(b) || b[i] != 'u' {
			continue
		}
		r, ok := hex4(b[i+1:])
		if !ok {
			continue // not an escape the decoder accepts; it reports it
		}
		at := i - 1
		i += 4
		switch {
		case r >= 0xDC00 && r < 0xE000:
			return fmt.Errorf(`lone low surrogate \u%04x at byte %d (not a character)`, r, at)
		case r >= 0xD800 && r < 0xDC00:
			if i+6 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
				if lo, ok := hex4(b[i+3:]); ok && lo >= 0xDC00 && lo < 0xE000 {
					i += 6
					continue
				}
			}
			return fmt.Errorf(`lone high surrogate \u%04x at byte %d (not a character)`, r, at)
		}
	}
	return nil
}

// hex4 decodes the four hex digits at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
