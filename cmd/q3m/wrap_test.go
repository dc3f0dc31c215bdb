package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestWrapWriterBreaksAtSpaces(t *testing.T) {
	tests := []struct {
		name   string
		width  int
		chunks []string
		want   string
	}{
		{"fits", 20, []string{"hello world"}, "hello world"},
		{"breaks before the word that crosses", 11, []string{"hello brave new world"}, "hello brave\nnew world"},
		{"word split across writes", 11, []string{"hello bra", "ve ne", "w world"}, "hello brave\nnew world"},
		{"no trailing spaces at a break", 5, []string{"abc   defgh"}, "abc\ndefgh"},
		{"long word broken at the edge", 4, []string{"abcdefghij k"}, "abcd\nefgh\nij k"},
		{"newlines reset the column", 6, []string{"ab\ncdef gh"}, "ab\ncdef\ngh"},
		{"escapes take no columns", 5, []string{"\x1b[2mabcde\x1b[0m fg"}, "\x1b[2mabcde\x1b[0m\nfg"},
		{"wide runes take two columns", 5, []string{"漢字 漢字"}, "漢字\n漢字"},
		{"a rune split across writes", 3, []string{"ab \xe6", "\xbc\xa2"}, "ab\n漢"},
		{"width 0 passes through", 0, []string{"a b c d e f"}, "a b c d e f"},
	}
	for _, tc := range tests {
		var out bytes.Buffer
		w := newWrapWriter(&out, tc.width)
		for _, c := range tc.chunks {
			if n, err := w.Write([]byte(c)); n != len(c) || err != nil {
				t.Fatalf("%s: Write = %d, %v", tc.name, n, err)
			}
		}
		w.Flush()
		if out.String() != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, out.String(), tc.want)
		}
		for _, line := range strings.Split(out.String(), "\n") {
			if tc.width > 0 && !strings.Contains(line, "\x1b") && len([]rune(line)) > tc.width && !strings.ContainsRune(line, '漢') {
				t.Errorf("%s: line %q wider than %d", tc.name, line, tc.width)
			}
		}
	}
}

func TestInterspersedMovesFlagsBeforeArguments(t *testing.T) {
	app := newApp()
	tests := []struct{ in, want []string }{
		{[]string{"q3m", "run", "m.gguf", "hi", "-n", "8", "--json"}, []string{"q3m", "run", "-n", "8", "--json", "m.gguf", "hi"}},
		{[]string{"q3m", "run", "m.gguf", "--think=false", "hi"}, []string{"q3m", "run", "--think=false", "m.gguf", "hi"}},
		{[]string{"q3m", "run", "m.gguf", "--", "-n", "x"}, []string{"q3m", "run", "--", "m.gguf", "-n", "x"}},
		{[]string{"q3m", "bench", "m.gguf", "-p", "-1"}, []string{"q3m", "bench", "-p", "-1", "m.gguf"}},
		{[]string{"q3m", "info", "m.gguf", "--layer", "1"}, []string{"q3m", "info", "--layer", "1", "m.gguf"}},
		{[]string{"q3m", "nosuch", "a", "-b"}, []string{"q3m", "nosuch", "a", "-b"}},
	}
	for _, tc := range tests {
		if got := interspersed(app, tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("%q: %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSuggestFindsCloseNames(t *testing.T) {
	names := []string{"model", "m", "max-tokens", "n", "threads", "t", "ctx", "c"}
	for typed, want := range map[string]string{
		"modle": "model", "mdoel": "model", "max-token": "max-tokens", "thread": "threads", "treads": "threads",
		"cxt": "ctx", "xyzzy": "", "temperature": "",
	} {
		if got := suggest(typed, names); got != want {
			t.Errorf("suggest(%q) = %q, want %q", typed, got, want)
		}
	}
}
