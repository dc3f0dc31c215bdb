//go:build unix

package main

import (
	"bytes"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestWrapWriterFollowsAResize: after Resize, lines are broken at the new
// width, narrower or wider, from the next write on.
func TestWrapWriterFollowsAResize(t *testing.T) {
	var b bytes.Buffer
	w := newWrapWriter(&b, 30)
	words := strings.Repeat("lorem ipsum dolor sit amet ", 8)
	var parts []string
	for _, width := range []int{30, 12, 50} {
		w.Resize(width)
		w.Resize(0) // ignored
		start := b.Len()
		w.Write([]byte(words))
		w.Write([]byte("\n"))
		parts = append(parts, b.String()[start:])
	}
	for i, want := range []int{30, 12, 50} {
		widest := 0
		for line := range strings.Lines(parts[i]) {
			widest = max(widest, len(strings.TrimRight(line, "\n")))
		}
		if widest > want || widest < want-6 {
			t.Errorf("part %d: widest line %d columns, want up to %d (and near it):\n%s", i, widest, want, parts[i])
		}
	}
}

// TestWatchResizeCallsOnSIGWINCH: the hook reads the width again at each
// SIGWINCH and stops when asked.
func TestWatchResizeCallsOnSIGWINCH(t *testing.T) {
	got := make(chan int, 4)
	stop := watchResize(func() int { return 77 }, func(w int) { got <- w })
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGWINCH); err != nil {
		t.Fatal(err)
	}
	select {
	case w := <-got:
		if w != 77 {
			t.Errorf("resize(%d), want 77", w)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no resize within 5 s of SIGWINCH")
	}
	stop()
	syscall.Kill(syscall.Getpid(), syscall.SIGWINCH)
	select {
	case w := <-got:
		t.Errorf("resize(%d) after stop", w)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestREPLWrapsAtTheWidthAfterAResize: the REPL starts on a 200-column
// terminal, which then shrinks to 40 columns (the kernel sends SIGWINCH);
// the next answer is wrapped at 40.
func TestREPLWrapsAtTheWidthAfterAResize(t *testing.T) {
	path, _ := chatTestModel(t, 2048)
	msg := longGreedyMessage(t, path, 2048, 200)
	const cols = 40
	cmd := q3mCommand("run", "-m", path, "--history", "", "--threads", "1", "--ctx", "2048", "--max-tokens", "200", "--temp", "0")
	tm := startTerminal(t, cmd)
	tm.expect(`>>> `) // the REPL has read the width: 200
	if err := pty.Setsize(tm.f, &pty.Winsize{Rows: 40, Cols: cols}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the signal's delivery
	tm.send(msg + "\r")
	tm.expect(regexp.QuoteMeta(msg) + `\r\n`)
	answer := tm.expect(`prompt \d+ tokens`)
	answer = regexp.MustCompile("\x1b\\[[0-9;?]*[A-Za-z]").ReplaceAllString(answer, "")
	lines := strings.Split(answer, "\n")
	widest := 0
	for i, line := range lines[:len(lines)-1] { // the last is the statistics line
		w := 0
		for _, r := range line {
			if r >= 0x20 && r != 0x7f {
				w += runeWidth(r)
			}
		}
		widest = max(widest, w)
		if w > cols {
			t.Errorf("line %d is %d columns wide, over %d: %q", i, w, cols, line)
		}
	}
	if widest < cols/2 {
		t.Errorf("widest line %d columns: the answer is too short to show the wrapping", widest)
	}
	tm.send("\x04")
	waitExitWithin(t, cmd, tm, 5*time.Second)
}
