package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/q3m/q3m/runtime"
)

// The REPL's line editor through a pseudo-terminal: what chzyer/readline
// got wrong (a hang after Ctrl-C then Ctrl-D, a long paste taking minutes,
// a multi-line paste sent line by line).

// waitExitWithin waits at most d for q3m to exit with status 0.
func waitExitWithin(t *testing.T, cmd *exec.Cmd, tm *terminal, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	errc := make(chan error, 1)
	go func() { errc <- cmd.Wait() }()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("q3m exited with %v", err)
		}
	case <-time.After(d):
		tm.mu.Lock()
		defer tm.mu.Unlock()
		t.Fatalf("q3m did not exit within %s; output:\n%q", d, tm.out.String())
	}
	return time.Since(start)
}

// TestREPLCtrlCThenCtrlDExitsPromptly: Ctrl-C at the prompt, after typing,
// or during an answer, then Ctrl-D at the prompt, leaves at once.
// chzyer/readline hung for good in the last case.
func TestREPLCtrlCThenCtrlDExitsPromptly(t *testing.T) {
	path, _ := chatTestModel(t, 2048)
	msg := longGreedyMessage(t, path, 2048, 1500)
	for _, tc := range []struct {
		name, typed         string
		answering, together bool // Ctrl-D typed right after Ctrl-C
	}{
		{"at the prompt", "", false, false},
		{"after typing", "half a message", false, false},
		{"during an answer", msg + "\r", true, false},
		{"during an answer, Ctrl-D at once", msg + "\r", true, true},
	} {
		cmd := q3mCommand("run", "-m", path, "--history", filepath.Join(t.TempDir(), "history"), "--threads", "1",
			"--ctx", "2048", "--max-tokens", "1500", "--temp", "0")
		tm := startTerminal(t, cmd)
		tm.expect(`>>> `)
		if tc.typed != "" {
			tm.send(tc.typed)
			tm.expect(regexp.QuoteMeta(strings.TrimSuffix(tc.typed, "\r")))
		}
		if tc.answering {
			time.Sleep(300 * time.Millisecond)
		}
		if tc.together {
			tm.send("\x03\x04")
		} else {
			tm.send("\x03")
			if tc.typed == "" {
				tm.expect(`Ctrl-C again or Ctrl-D`)
			}
			if tc.answering {
				tm.expect(`interrupted`)
			}
			tm.expect(`>>> `)
			tm.send("\x04")
		}
		if d := waitExitWithin(t, cmd, tm, 5*time.Second); d > 2*time.Second {
			t.Errorf("%s: Ctrl-C then Ctrl-D took %s to exit", tc.name, d)
		}
	}
}

// TestREPLTakesALongPasteAtOnce pastes a 4000-character line (as a
// terminal without bracketed paste sends it: all the bytes at once) and
// times it to the REPL's reply. The line is a /system command, so the
// time is the line editor's alone; /system then shows it back whole.
func TestREPLTakesALongPasteAtOnce(t *testing.T) {
	path, _ := chatTestModel(t, 256)
	cmd := q3mCommand("run", "-m", path, "--history", "", "--threads", "1")
	tm := startTerminal(t, cmd)
	tm.expect(`>>> `)
	words := strings.Repeat("lorem ipsum dolor sit amet ", 160)[:3992]
	line := "/system " + words
	if len(line) != 4000 {
		t.Fatalf("line of %d characters", len(line))
	}
	start := time.Now()
	tm.send(line + "\r")
	tm.expect(`System prompt set\.`)
	// Observed here: 0.02 to 0.2 s; chzyer/readline took 10 s (and over 100 s at a real terminal).
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("a 4000-character paste took %s to be answered, want under 2 s", d)
	}
	tm.send("/system\r")
	got := tm.expect(`System prompt: [^\r\n]*\r?\n`)
	if !strings.Contains(got, "System prompt: "+words+"\r") && !strings.Contains(got, "System prompt: "+words+"\n") {
		t.Errorf("/system shows %q…, want the 3992 characters pasted", got[:min(len(got), 200)])
	}
	tm.send("\x04")
	waitExitWithin(t, cmd, tm, 5*time.Second)
}

// TestREPLBracketedPasteIsOneMessage pastes three lines between the
// bracketed-paste markers a terminal sends: one message, one answer.
func TestREPLBracketedPasteIsOneMessage(t *testing.T) {
	path, _ := chatTestModel(t, 256)
	cmd := q3mCommand("run", "-m", path, "--history", "", "--threads", "1", "--max-tokens", "2", "--no-think")
	tm := startTerminal(t, cmd)
	tm.expect(`>>> `)
	tm.send("\x1b[200~first line\r\nsecond line\rthird line\x1b[201~")
	tm.expect(`third line`)
	tm.send("\r")
	tm.expect(`answer \d+ tokens`)
	tm.expect(`>>> `)
	tm.send("/stats\r")
	got := tm.expect(`messages: \d+`)
	if !strings.HasSuffix(got, "messages: 1") {
		t.Errorf("after one pasted message of three lines: %q", got[max(0, len(got)-40):])
	}
	tm.send("\x04")
	waitExitWithin(t, cmd, tm, 5*time.Second)
}

// TestREPLLineEditing: cursor moves, deletions and history, checked
// through what /system stores.
func TestREPLLineEditing(t *testing.T) {
	path, _ := chatTestModel(t, 256)
	cmd := q3mCommand("run", "-m", path, "--history", "", "--threads", "1")
	tm := startTerminal(t, cmd)
	tests := []struct{ keys, want string }{
		{"/system helo\x1b[Dl\r", "hello"},                       // left, insert
		{"/system one two three\x17\x17four\r", "one four"},      // Ctrl-W twice
		{"/system abc\x1b[D\x1b[D\x1b[3~\r", "ac"},               // left ×2, Delete
		{"xyz/system \x01\x1b[3~\x1b[3~\x1b[3~\x05abc\r", "abc"}, // Ctrl-A, Delete ×3, Ctrl-E
		{"/system xyz\x02\x02\x0b\r", "x"},                       // Ctrl-B ×2, Ctrl-K
		{"/system " + strings.Repeat("0123456789", 30) + strings.Repeat("\x1b[D", 150) + "X\r", // a line over the terminal's width
			strings.Repeat("0123456789", 15) + "X" + strings.Repeat("0123456789", 15)},
		{"\x10\x10\x10\x10\x10\x10\r", "abc"},                     // Ctrl-P ×4: the line 4 back
		{"/system wide 漢字 text\x7f\x7f\x7f\x7f\x7f\r", "wide 漢字"}, // backspace over ASCII
	}
	for _, tc := range tests {
		tm.expect(`>>> `)
		tm.send(tc.keys)
		tm.expect(`System prompt set\.`)
		tm.expect(`>>> `)
		tm.send("/system\r")
		got := tm.expect(`System prompt: [^\r\n]*`)
		if !strings.HasSuffix(got, "System prompt: "+tc.want) {
			t.Errorf("keys %q: %q, want %q", tc.keys, got[max(0, len(got)-60):], tc.want)
		}
	}
	tm.send("\x04")
	waitExitWithin(t, cmd, tm, 5*time.Second)
}

// TestREPLWrapsAnswersAtWordBoundaries: at a 40-column terminal, no line
// of an answer is wider than 40 columns, and lines break between words.
func TestREPLWrapsAnswersAtWordBoundaries(t *testing.T) {
	path, _ := chatTestModel(t, 2048)
	msg := longGreedyMessage(t, path, 2048, 200)
	const cols = 40
	cmd := q3mCommand("run", "-m", path, "--history", "", "--threads", "1", "--ctx", "2048", "--max-tokens", "200", "--temp", "0")
	tm := startTerminal(t, cmd)
	if err := pty.Setsize(tm.f, &pty.Winsize{Rows: 40, Cols: cols}); err != nil {
		t.Fatal(err)
	}
	tm.expect(`>>> `)
	tm.send(msg + "\r")
	tm.expect(regexp.QuoteMeta(msg) + `\r\n`)
	answer := tm.expect(`prompt \d+ tokens`)
	// What the terminal shows: no escapes, no controls but line feeds.
	answer = regexp.MustCompile("\x1b\\[[0-9;?]*[A-Za-z]").ReplaceAllString(answer, "")
	answer = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' || r == 0x7f {
			return -1
		}
		return r
	}, answer)
	lines := strings.Split(answer, "\n")
	// All of the answer is shown, its last word included, before the
	// statistics line. (The model's weights are random: its thinking may
	// come after its answer.)
	want := libraryReply(t, path, msg, runtime.ChatOptions{Thinking: true, Sampling: &runtime.SamplerOptions{},
		ContextLen: 2048, MaxTokens: 200, Threads: 1})
	visible := func(s string) string { // what a terminal shows, spaces and line breaks aside
		return strings.Join(strings.Fields(strings.Map(func(r rune) rune {
			if r < 0x20 && r != '\n' || r == 0x7f {
				return -1
			}
			return r
		}, s)), "")
	}
	shown := visible(strings.Join(lines[:len(lines)-1], "\n"))
	content, thinking := visible(want.Content), visible(want.Thinking)
	if !strings.Contains(shown, content) || !strings.Contains(shown, thinking) ||
		!strings.HasSuffix(shown, content) && !strings.HasSuffix(shown, thinking) {
		t.Errorf("the terminal shows %q; want the answer %q and the thinking %q, the last one at the end", shown, content, thinking)
	}
	for i, line := range lines[:len(lines)-1] {
		w := 0
		for _, r := range line {
			w += runeWidth(r)
		}
		if w > cols {
			t.Errorf("line %d is %d columns wide, over %d: %q", i, w, cols, line)
		}
		next := lines[i+1]
		if i+1 == len(lines)-1 {
			break // the statistics line
		}
		if w > 0 && next != "" && !strings.HasSuffix(line, " ") && !strings.HasPrefix(next, " ") && w+1+len([]rune(strings.Fields(next)[0])) <= cols {
			t.Errorf("line %d broken before %q, which fits after it: %q", i, strings.Fields(next)[0], line)
		}
	}
	tm.send("\x04")
	waitExitWithin(t, cmd, tm, 5*time.Second)
}
