package tokenizer

import (
	"testing"
	"unicode/utf8"
)

// FuzzRoundTrip checks Decode(Encode(s)) == NFC(s) for valid UTF-8 (NFC as
// Unicode defines it, with no stream-safe limit), that the fast normalizer
// agrees with the by-the-book one, and that nothing panics on invalid input.
func FuzzRoundTrip(f *testing.F) {
	tok := qwen(f)
	for _, c := range refCases(f) {
		f.Add(c.Text)
	}
	f.Add("a\u0085\u0085b'ſx\ufeff")
	f.Add("\xff\xfe\xe2\x82")
	f.Fuzz(func(t *testing.T, s string) {
		ids := tok.Encode(s)
		special := tok.EncodeSpecial(s)
		if !utf8.ValidString(s) {
			tok.Decode(ids)
			return
		}
		want := exactNFC(s)
		if got := tok.Decode(ids); got != want {
			t.Fatalf("Decode(Encode(%q)) = %q, want %q", s, got, want)
		}
		if got := nfc(s); got != want {
			t.Fatalf("nfc(%q) = %q, want %q", s, got, want)
		}
		if got := tok.Decode(special); !utf8.ValidString(got) {
			t.Fatalf("Decode(EncodeSpecial(%q)) = %q, not valid UTF-8", s, got)
		}
	})
}
