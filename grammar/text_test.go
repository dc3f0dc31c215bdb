package grammar

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// Qwen3-Coder's parameter value: text up to "\n</parameter>", holding none
// of the markup that would end it early.
var coderEnd, coderForbidden = "\n</parameter>", []string{"</parameter>", "<parameter=", "</function>", "</tool_call>"}

func coderText(t testing.TB) *Grammar {
	t.Helper()
	g, err := Text(coderEnd, coderForbidden...)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestTextEndsAtItsDelimiterAndRefusesMarkup(t *testing.T) {
	v, _ := smallVocab(t)
	g, err := Seq(coderText(t), Literal("\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		text         string
		ok, complete bool
	}{
		{"Paris\n</parameter>\n", true, true},
		{"\n</parameter>\n", true, true},
		{"a <b>\"q\"</b> \\ {\n\tx\n}\n</parameter>\n", true, true},
		{"é日本\n</parameter>\n", true, true},
		{"half\n</param", true, false},
		{"x</parameter>", false, false},
		{"x <parameter=y>", false, false},
		{"x</function>", false, false},
		{"x</tool_call>", false, false},
		{"a\n</parameter>x", false, false},
		{"\xff", false, false},
		{"\x01", false, false},
		{"\xe6\x97\n", false, false}, // a character cut by the delimiter
	} {
		m := NewMatcher(g, v)
		err := m.AcceptText(c.text)
		if (err == nil) != c.ok || err == nil && m.Complete() != c.complete {
			t.Errorf("%q: err %v, complete %v; want ok %v, complete %v", c.text, err, err == nil && m.Complete(), c.ok, c.complete)
		}
	}
}

// textPrefixOK is the definition Text implements, by brute force: s is a
// prefix of an instance when no forbidden string ends anywhere in s except
// where the end does, and nothing follows the end.
func textPrefixOK(s string) (ok, complete bool) {
	for i := 1; i <= len(s); i++ {
		p := s[:i]
		if strings.HasSuffix(p, coderEnd) {
			return i == len(s), i == len(s)
		}
		for _, f := range coderForbidden {
			if strings.HasSuffix(p, f) {
				return false, false
			}
		}
	}
	return true, false
}

func TestTextAutomatonMatchesItsDefinition(t *testing.T) {
	v, _ := smallVocab(t)
	g := coderText(t)
	rng := rand.New(rand.NewPCG(1, 2))
	parts := []string{"a", "<", "/", "\n", "parameter", "function", "tool_call", ">", "=", "</", "</parameter", "\n</", " "}
	for range 20000 {
		var sb strings.Builder
		for range 1 + rng.IntN(8) {
			sb.WriteString(parts[rng.IntN(len(parts))])
		}
		s := sb.String()
		m := NewMatcher(g, v)
		err := m.AcceptText(s)
		ok, complete := textPrefixOK(s)
		if (err == nil) != ok || ok && m.Complete() != complete {
			t.Fatalf("%q: err %v complete %v; the definition says ok %v complete %v", s, err, err == nil && m.Complete(), ok, complete)
		}
	}
}

func TestTextGenerationsEndInTimeAndHoldNoMarkup(t *testing.T) {
	v, _ := smallVocab(t)
	g, err := Seq(Literal("<parameter=x>\n"), coderText(t), Literal("\n</function>"))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, budget := range []int{40, 41, 60, 200} {
		for range 30 {
			text, complete := generate(t, g, v, budget, rng)
			if !complete {
				t.Fatalf("budget %d: incomplete %q", budget, text)
			}
			body, ok := strings.CutPrefix(text, "<parameter=x>\n")
			body, ok2 := strings.CutSuffix(body, "\n</parameter>\n</function>")
			if !ok || !ok2 || !utf8.ValidString(body) {
				t.Fatalf("budget %d: %q", budget, text)
			}
			for _, f := range coderForbidden {
				if strings.Contains(body, f) {
					t.Fatalf("budget %d: %q holds %q", budget, body, f)
				}
			}
		}
	}
}

func TestTextAllowsNoAddedToken(t *testing.T) {
	v, _ := smallVocab(t)
	m := NewMatcher(coderText(t), v)
	bits, err := m.Allowed(0)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range v.added {
		if bitset(bits).has(id) {
			t.Errorf("added token %q allowed in text", v.pieces[id])
		}
	}
}

func TestTextRefusals(t *testing.T) {
	for _, c := range []struct {
		end       string
		forbidden []string
	}{
		{"", nil},
		{"</x>", []string{""}},
		{"a</x>b", []string{"</x>"}},
		{"é", nil},
		{strings.Repeat("x", 201), nil},
	} {
		if _, err := Text(c.end, c.forbidden...); err == nil {
			t.Errorf("Text(%q, %q) compiled", c.end, c.forbidden)
		}
	}
}
