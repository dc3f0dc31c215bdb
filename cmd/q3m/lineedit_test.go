package main

import "testing"

func TestNextKeyDecodesTerminalInput(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		paste bool
		want  key
		n     int
	}{
		{"letter", "a", false, key{r: 'a'}, 1},
		{"two-byte rune", "é!", false, key{r: 'é'}, 2},
		{"rune cut short", "\xe6\xbc", false, key{}, 0},
		{"invalid byte dropped", "\xff", false, key{}, 1},
		{"enter", "\r", false, key{name: "enter"}, 1},
		{"ctrl-c", "\x03", false, key{name: "ctrl-c"}, 1},
		{"ctrl-d", "\x04", false, key{name: "ctrl-d"}, 1},
		{"backspace", "\x7f", false, key{name: "backspace"}, 1},
		{"up", "\x1b[A", false, key{name: "up"}, 3},
		{"ss3 left", "\x1bOD", false, key{name: "left"}, 3},
		{"ctrl-right", "\x1b[1;5C", false, key{name: "word-right"}, 6},
		{"delete", "\x1b[3~", false, key{name: "delete"}, 4},
		{"paste start", "\x1b[200~", false, key{name: "paste-start"}, 6},
		{"escape cut short", "\x1b[20", false, key{}, 0},
		{"alt-b", "\x1bb", false, key{name: "word-left"}, 2},
		{"pasted CR LF is one newline", "\r\nx", true, key{r: '\n'}, 2},
		{"pasted CR is a newline", "\rx", true, key{r: '\n'}, 1},
		{"pasted tab", "\t", true, key{r: '\t'}, 1},
		{"pasted ctrl-c is dropped", "\x03", true, key{}, 1},
		{"paste end", "\x1b[201~", true, key{name: "paste-end"}, 6},
		{"pasted escape sequence dropped", "\x1b[A", true, key{}, 3},
		{"pasted alt-b dropped", "\x1bb", true, key{}, 1},
	}
	for _, tc := range tests {
		got, n := nextKey([]byte(tc.in), tc.paste)
		if got != tc.want || n != tc.n {
			t.Errorf("%s: %+v, %d; want %+v, %d", tc.name, got, n, tc.want, tc.n)
		}
	}
}

func TestHistoryLinesRoundTrip(t *testing.T) {
	for _, s := range []string{"plain", "two\nlines", `"quoted" start`, `back\slash`} {
		line := historyLine(s)
		dir := t.TempDir() + "/h"
		e := &lineEditor{histFile: dir}
		e.addHistory(s)
		if got := readHistory(dir); len(got) != 1 || got[0] != s {
			t.Errorf("%q written as %q read back as %q", s, line, got)
		}
	}
}
