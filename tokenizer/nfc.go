package tokenizer

import (
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// cgj is U+034F COMBINING GRAPHEME JOINER. x/text's normalizer follows the
// Stream-Safe Text Format and inserts it after 30 consecutive non-starters;
// HF's normalizer (and ICU) do not, so such text takes the exact path below.
const cgj = "\u034f"

// nfc returns the NFC form of s exactly as Unicode defines it.
func nfc(s string) string {
	if norm.NFC.IsNormalString(s) {
		return s
	}
	out := norm.NFC.String(s)
	if strings.Contains(out, cgj) && strings.Count(out, cgj) > strings.Count(s, cgj) {
		return exactNFC(s)
	}
	return out
}

// exactNFC is NFC by the book (full decomposition, canonical ordering, then
// canonical composition) with no limit on runs of non-starters. It is slow and
// used only for text that the fast path would change.
func exactNFC(s string) string {
	type ch struct {
		r   rune
		ccc uint8
	}
	var d []ch
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			d = append(d, ch{r: -1 - rune(s[i])}) // keep the invalid byte
			i++
			continue
		}
		for _, dr := range norm.NFD.String(s[i : i+size]) {
			d = append(d, ch{dr, norm.NFD.PropertiesString(string(dr)).CCC()})
		}
		i += size
	}
	for i := 0; i < len(d); {
		j := i
		for j < len(d) && d[j].ccc != 0 {
			j++
		}
		if j > i+1 {
			slices.SortStableFunc(d[i:j], func(a, b ch) int { return int(a.ccc) - int(b.ccc) })
		}
		i = j + 1
	}
	out := d[:0]
	starter, last := -1, -1 // index of the last starter in out; ccc of the last char after it
	for _, c := range d {
		if starter >= 0 && (last < int(c.ccc) || last == 0) && c.r >= 0 {
			if r, ok := composePair(out[starter].r, c.r); ok {
				out[starter].r = r
				continue
			}
		}
		if c.ccc == 0 {
			starter, last = len(out), 0
			if c.r < 0 {
				starter = -1
			}
		} else {
			last = int(c.ccc)
		}
		out = append(out, c)
	}
	b := make([]byte, 0, len(s))
	for _, c := range out {
		if c.r < 0 {
			b = append(b, byte(-1-c.r))
		} else {
			b = utf8.AppendRune(b, c.r)
		}
	}
	return string(b)
}

// composePair returns the primary composite of a and b, if there is one.
func composePair(a, b rune) (rune, bool) {
	if a < 0 {
		return 0, false
	}
	s := norm.NFC.String(string([]rune{a, b}))
	r, size := utf8.DecodeRuneInString(s)
	return r, size == len(s)
}
