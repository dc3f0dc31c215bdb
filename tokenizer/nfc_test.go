package tokenizer

import (
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func TestExactNFCAgreesWithXTextBelowThirtyNonStarters(t *testing.T) {
	inputs := []string{"e\u0301", "A\u030a\u0323", "\u1100\u1161\u11a8", "\u212b\u2126", "o\u0308\u0304", "\u0301a", "a\u0323\u0302\u0301", "\u0f73\u0f75\u0f81", "x\u0344"}
	for _, c := range refCases(t) {
		inputs = append(inputs, c.Text)
	}
	for _, s := range inputs {
		if strings.Count(norm.NFC.String(s), cgj) > strings.Count(s, cgj) {
			continue // past the stream-safe limit, x/text differs by design
		}
		if got, want := exactNFC(s), norm.NFC.String(s); got != want {
			t.Errorf("exactNFC(%+q) = %+q, want %+q", s, got, want)
		}
	}
}

// x/text would put U+034F after the 30th mark; ICU, Rust and the reference
// (whose ids for this string are in the corpus) do not.
func TestNFCDoesNotInsertGraphemeJoiners(t *testing.T) {
	s := "a" + strings.Repeat("\u0323\u0301", 20)
	want := "\u1ea1" + strings.Repeat("\u0323", 19) + strings.Repeat("\u0301", 20)
	if got := nfc(s); got != want {
		t.Fatalf("nfc(%+q) = %+q, want %+q", s, got, want)
	}
}
