package tokenizer

import (
	"slices"
	"testing"
)

func pieces(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		j := nextPiece(s, i)
		out = append(out, s[i:j])
		i = j
	}
	return out
}

// The expected splits follow the pattern's semantics in HF's regex engine
// (Oniguruma): leftmost-first alternation, greedy runs with backtracking, \s
// as Unicode White_Space and (?i) with Unicode simple case folding.
func TestPreTokenizerSplitsLikeTheQwen2Pattern(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"Hello world", []string{"Hello", " world"}},
		{"don't DON'T", []string{"don", "'t", " DON", "'T"}},
		{"they'LL we'Ve", []string{"they", "'LL", " we", "'Ve"}},
		{"'sx", []string{"'s", "x"}},
		{"'hello", []string{"'hello"}},
		{"'", []string{"'"}},
		{"123", []string{"1", "2", "3"}},
		{"a1b", []string{"a", "1", "b"}},
		{"  x", []string{" ", " x"}},
		{"x  ", []string{"x", "  "}},
		{"   \n\n  x  ", []string{"   \n\n", " ", " x", "  "}},
		{"a\r\n\r\nb", []string{"a", "\r\n\r\n", "b"}},
		{"a\rb", []string{"a", "\r", "b"}},
		{"a \n b", []string{"a", " \n", " b"}},
		{"hi!!\n\nyo", []string{"hi", "!!\n\n", "yo"}},
		{" !?", []string{" !?"}},
		{"x\t!", []string{"x", "\t", "!"}},
		{"x\t\t!", []string{"x", "\t", "\t", "!"}},
		{"x \t1", []string{"x", " ", "\t", "1"}},
		{"\tfoo", []string{"\tfoo"}},
		{"(foo", []string{"(foo"}},
		{"((foo", []string{"((", "foo"}},
		{"\n\n foo", []string{"\n\n", " foo"}},
		{"e\u0301x", []string{"e", "\u0301x"}},
		{"नमस्ते", []string{"नमस", "्त", "े"}},
		{"中\u3000文", []string{"中", "\u3000文"}},
		{"a\u00a0\u00a0", []string{"a", "\u00a0\u00a0"}},
		// Where the JavaScript reference's regex differs from HF's:
		// U+0085 is White_Space, U+FEFF is not, and (?i)s also matches ſ.
		{"a\u0085\u0085b", []string{"a", "\u0085", "\u0085b"}},
		{"a\ufeff\ufeffb", []string{"a", "\ufeff\ufeff", "b"}},
		{"'ſx", []string{"'ſ", "x"}},
		{"\xff\xfeab", []string{"\xff\xfe", "ab"}},
		{"", nil},
	}
	for _, c := range cases {
		if got := pieces(c.in); !slices.Equal(got, c.want) {
			t.Errorf("pieces(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestEncodeSplitsWhereHFDoesNotJavaScript(t *testing.T) {
	tok := qwen(t)
	for _, c := range []struct{ in, a, b string }{
		{"a\u0085\u0085b", "a\u0085", "\u0085b"},
		{"a\ufeff\ufeffb", "a\ufeff\ufeff", "b"},
		{"'ſx", "'ſ", "x"},
	} {
		want := append(tok.Encode(c.a), tok.Encode(c.b)...)
		if got := tok.Encode(c.in); !slices.Equal(got, want) {
			t.Errorf("Encode(%q) = %v, want %v (%q then %q)", c.in, got, want, c.a, c.b)
		}
	}
}
