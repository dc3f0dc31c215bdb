package tokenizer

import "unicode/utf8"

// byteRunes returns the GPT-2 byte→unicode table: printable Latin-1 bytes map
// to themselves, the rest to U+0100 upwards in byte order.
func byteRunes() [256]rune {
	var t [256]rune
	n := rune(0)
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			t[b] = rune(b)
		} else {
			t[b] = 256 + n
			n++
		}
	}
	return t
}

// unByteLevel maps a byte-level token text back to its bytes. ok is false when
// a character is outside the byte-level alphabet.
func unByteLevel(tok string, inv map[rune]byte) (b []byte, ok bool) {
	b = make([]byte, 0, len(tok))
	for _, r := range tok {
		c, found := inv[r]
		if !found {
			return nil, false
		}
		b = append(b, c)
	}
	return b, true
}

// appendLossy appends b to dst as UTF-8, replacing each maximal invalid
// subsequence with U+FFFD (the WHATWG and Rust from_utf8_lossy rule, which the
// reference decoders use).
func appendLossy(dst, b []byte) []byte {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || size > 1 {
			dst = append(dst, b[i:i+size]...)
			i += size
			continue
		}
		dst = append(dst, "\uFFFD"...)
		i += validPrefix(b[i:])
	}
	return dst
}

// validPrefix returns how many leading bytes of b form a prefix of some valid
// UTF-8 sequence (at least 1), and for a complete sequence its length.
func validPrefix(b []byte) int {
	need, lo, hi := seqShape(b[0])
	if need == 0 {
		return 1
	}
	k := 1
	for k <= need && k < len(b) {
		c := b[k]
		if k == 1 {
			if c < lo || c > hi {
				break
			}
		} else if c < 0x80 || c > 0xBF {
			break
		}
		k++
	}
	return k
}

// seqShape gives the number of continuation bytes after lead byte c and the
// allowed range of the first one; need is 0 for a byte that cannot start a
// multi-byte sequence.
func seqShape(c byte) (need int, lo, hi byte) {
	switch {
	case c >= 0xC2 && c <= 0xDF:
		return 1, 0x80, 0xBF
	case c == 0xE0:
		return 2, 0xA0, 0xBF
	case c == 0xED:
		return 2, 0x80, 0x9F
	case c >= 0xE1 && c <= 0xEF:
		return 2, 0x80, 0xBF
	case c == 0xF0:
		return 3, 0x90, 0xBF
	case c >= 0xF1 && c <= 0xF3:
		return 3, 0x80, 0xBF
	case c == 0xF4:
		return 3, 0x80, 0x8F
	}
	return 0, 0, 0
}

// incompleteTail returns the length of a trailing run of b that is a proper
// prefix of a valid UTF-8 sequence and so may still be completed by more
// bytes; 0 when b ends on a boundary.
func incompleteTail(b []byte) int {
	for k := 1; k <= 3 && k <= len(b); k++ {
		c := b[len(b)-k]
		if c >= 0x80 && c <= 0xBF {
			continue
		}
		need, _, _ := seqShape(c)
		if need >= k && validPrefix(b[len(b)-k:]) == k {
			return k
		}
		return 0
	}
	return 0
}
