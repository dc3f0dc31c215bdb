package main

import (
	"context"
	"strings"
	"testing"

	"github.com/q3m/q3m/runtime"
)

// TestCLIRunNoContextShiftStopsWhenTheContextFills: with
// --no-context-shift, an answer that fills the context ends there: run
// prints it (stop "context" in --json), says so on stderr and exits 0;
// a later message that no longer fits is refused. Without the flag the
// chat drops its oldest turns and answers every message.
func TestCLIRunNoContextShiftStopsWhenTheContextFills(t *testing.T) {
	path, _ := chatTestModel(t, 256)
	const ctx = 48
	m, err := runtime.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	msg := ""
	for _, cand := range []string{"hello", "tell me a story", "what is the cat", "and then", "again"} {
		c, err := m.NewChat(runtime.ChatOptions{Thinking: true, Sampling: &runtime.SamplerOptions{}, ContextLen: ctx, Threads: 1, NoContextShift: true})
		if err != nil {
			t.Fatal(err)
		}
		if r, _ := c.Send(context.Background(), cand, nil); r.Stop == runtime.StopContextFull {
			msg = cand
			break
		}
	}
	m.Close()
	if msg == "" {
		t.Skip("no message whose greedy answer fills the context on this model")
	}

	args := []string{"run", path, "-p", msg, "--json", "--temp", "0", "-t", "1", "--ctx", "48"}
	stdout, stderr, err := q3mWith(t, nil, "", append(args, "--no-context-shift")...)
	if err != nil {
		t.Fatalf("run --no-context-shift: %v\n%s", err, stderr)
	}
	a := parseAnswers(t, stdout)
	// The last token is sampled, not evaluated: ctx+1 tokens in all.
	if len(a) != 1 || a[0].Stop != "context" || a[0].Usage.TotalTokens != ctx+1 ||
		!strings.Contains(stderr, "the context is full (48 of 48 tokens) and --no-context-shift is set") {
		t.Errorf("run --no-context-shift: answers %+v, stderr %q; want one answer stopped at the full context, said on stderr", a, stderr)
	}

	// Piped messages (--lines): with the shift, the oldest turns make room
	// for each; without it the second answer fills the context and the
	// third message is refused, naming the flag.
	lines := []string{"run", path, "--lines", "--json", "--temp", "0", "-t", "1", "--ctx", "64", "-n", "16"}
	three := strings.Repeat(msg+"\n", 3)
	stdout, stderr, err = q3mWith(t, nil, three, lines...)
	if b := parseAnswers(t, stdout); err != nil || len(b) != 3 {
		t.Errorf("run --lines with the context shift: err %v, %d answers, stderr %q; want 3", err, len(b), stderr)
	}
	stdout, stderr, err = q3mWith(t, nil, three, append(lines, "--no-context-shift")...)
	b := parseAnswers(t, stdout)
	if err == nil || len(b) != 2 || b[1].Stop != "context" || !strings.Contains(stderr, "the conversation takes") ||
		!strings.Contains(stderr, "(--no-context-shift is set: a /reset line starts over") {
		t.Errorf("run --lines --no-context-shift: err %v, answers %+v, stderr %q; want 2, the second stopped by the full context, the third refused", err, b, stderr)
	}

	// Without --json: the answer on stdout, exit status 0.
	stdout, stderr, err = q3mWith(t, nil, "", "run", path, "-p", msg, "--temp", "0", "-t", "1", "--ctx", "48", "--no-context-shift")
	if err != nil || strings.TrimSpace(stdout) == "" || !strings.Contains(stderr, "--no-context-shift is set") {
		t.Errorf("run --no-context-shift: err %v, stdout %q, stderr %q", err, stdout, stderr)
	}
}
