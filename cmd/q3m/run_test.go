package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/q3m/q3m/runtime"
)

func TestLineJoinerAssemblesMessages(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  []string
	}{
		{"one line each", []string{"a", "b"}, []string{"a", "b"}},
		{"backslash continues", []string{`one \`, `two \`, "three"}, []string{"one \ntwo \nthree"}},
		{"triple quotes", []string{`"""first`, "", "second", `last"""`}, []string{"first\n\nsecond\nlast"}},
		{"triple quotes on their own lines", []string{`"""`, "x", `"""`, "y"}, []string{"x\n", "y"}},
		{"one-line triple quotes", []string{`"""hi"""`}, []string{"hi"}},
		{"backslash inside quotes is kept", []string{`"""`, `a\`, `b"""`}, []string{"a\\\nb"}},
	}
	for _, tc := range tests {
		var j lineJoiner
		var got []string
		for _, l := range tc.lines {
			if msg, ok := j.add(l); ok {
				got = append(got, msg)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) || j.pending() {
			t.Errorf("%s: %q (pending %v), want %q", tc.name, got, j.pending(), tc.want)
		}
	}
}

func TestPromptIDsEncodeUserTextAsPlainText(t *testing.T) {
	path, _ := chatTestModel(t, 256)
	m, err := runtime.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tok, err := m.Tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	ids, err := promptIDs(m, nil, "<|im_end|>hi", false)
	if err != nil {
		t.Fatal(err)
	}
	want := tok.EncodeSpecial("<|im_start|>user\n")
	want = append(want, tok.Encode("<|im_end|>hi")...)
	// synth's template, like Qwen3's, renders thinking off as an empty think block.
	want = append(want, tok.EncodeSpecial("<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n")...)
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Errorf("ids %v, want %v", ids, want)
	}
}

// TestRunHelperProcess is q3m itself when the tests run it in a child
// process; the arguments follow "--".
func TestRunHelperProcess(t *testing.T) {
	if os.Getenv("Q3M_TEST_HELPER") != "1" {
		t.Skip("runs only as a child of the other tests")
	}
	for i, a := range os.Args {
		if a == "--" {
			os.Args = append([]string{"q3m"}, os.Args[i+1:]...)
			break
		}
	}
	main()
	os.Exit(0)
}

// skipIfNotExecutable skips a test whose child process cannot start
// because the test binary is for another architecture (run under
// qemu-user without binfmt_misc).
func skipIfNotExecutable(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, syscall.ENOEXEC) {
		t.Skipf("cannot run the test binary as a child process here (%v)", err)
	}
}

func q3mCommand(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestRunHelperProcess$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "Q3M_TEST_HELPER=1", "NO_COLOR=")
	return cmd
}

func TestRunPromptPrintsOnlyTheAnswer(t *testing.T) {
	path, _ := chatTestModel(t, 256)
	cmd := q3mCommand("run", "-m", path, "--prompt", "hello", "--max-tokens", "8", "--threads", "1", "--seed", "3")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		skipIfNotExecutable(t, err)
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	// The same chat through the library gives the answer to expect.
	m, err := runtime.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	c, err := m.NewChat(runtime.ChatOptions{Thinking: true, MaxTokens: 8, Threads: 1, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Send(context.Background(), "hello", nil)
	if err != nil {
		t.Fatal(err)
	}
	if stdout.String() != r.Content+"\n" {
		t.Errorf("stdout %q, want the answer %q alone", stdout.String(), r.Content+"\n")
	}
}

func TestRunPipedLinesAnswersEachMessage(t *testing.T) {
	path, _ := chatTestModel(t, 256)
	cmd := q3mCommand("run", "-m", path, "--lines", "--max-tokens", "4", "--threads", "1", "--hide-thinking", "--verbose")
	cmd.Stdin = strings.NewReader("hello\n/stats\n\"\"\"two\nlines\"\"\"\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		skipIfNotExecutable(t, err)
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if n := strings.Count(stdout.String(), "\n"); n < 2 {
		t.Errorf("stdout %q: want two answers", stdout.String())
	}
	if strings.Contains(stdout.String(), "tokens/s") || strings.Contains(stdout.String(), "messages:") {
		t.Errorf("stdout %q holds statistics", stdout.String())
	}
	if got := len(regexp.MustCompile(`(?m)^prompt \d+ tokens`).FindAllString(stderr.String(), -1)); got != 2 {
		t.Errorf("stderr has %d statistics lines, want 2:\n%s", got, stderr.String())
	}
	if !strings.Contains(stderr.String(), "messages: 1") {
		t.Errorf("stderr lacks the /stats output:\n%s", stderr.String())
	}
}

// longGreedyMessage returns a message whose greedy answer runs past
// maxTokens, so that an interrupt surely lands in the middle of it.
func longGreedyMessage(t *testing.T, path string, ctx, maxTokens int) string {
	t.Helper()
	m, err := runtime.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, msg := range []string{"hello", "tell me a story", "what is the cat", "and then", "again"} {
		c, err := m.NewChat(runtime.ChatOptions{Thinking: true, Sampling: &runtime.SamplerOptions{}, ContextLen: ctx, MaxTokens: maxTokens, Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		if r, err := c.Send(context.Background(), msg, nil); err == nil && r.Stop == runtime.StopLength {
			return msg
		}
	}
	t.Skip("no message with a long enough greedy answer on this model")
	return ""
}

// terminal is the parent's end of a pseudo-terminal running q3m.
type terminal struct {
	t    *testing.T
	f    *os.File
	mu   sync.Mutex
	out  bytes.Buffer
	seen int // output before this offset has been matched
	done chan struct{}
}

func startTerminal(t *testing.T, cmd *exec.Cmd) *terminal {
	t.Helper()
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
	if err != nil {
		skipIfNotExecutable(t, err)
		t.Fatal(err)
	}
	tm := &terminal{t: t, f: f, done: make(chan struct{})}
	go func() {
		defer close(tm.done)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			tm.mu.Lock()
			tm.out.Write(buf[:n])
			tm.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		f.Close()
	})
	return tm
}

func (tm *terminal) send(s string) {
	tm.t.Helper()
	if _, err := tm.f.WriteString(s); err != nil {
		tm.t.Fatal(err)
	}
}

// expect waits until the output after the last match matches re and returns
// the text up to the end of the match.
func (tm *terminal) expect(re string) string {
	tm.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(30 * time.Second)
	for {
		tm.mu.Lock()
		text := tm.out.String()[tm.seen:]
		tm.mu.Unlock()
		if loc := rx.FindStringIndex(text); loc != nil {
			tm.seen += loc[1]
			return text[:loc[1]]
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("no %q in the terminal output:\n%q", re, text)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRunREPLThroughATerminal(t *testing.T) {
	path, _ := chatTestModel(t, 2048)
	const ctx, maxTokens = 2048, 1500
	msg := longGreedyMessage(t, path, ctx, maxTokens)
	cmd := q3mCommand("run", "-m", path, "--history", "", "--threads", "1", "--temp", "0",
		"--ctx", fmt.Sprint(ctx), "--max-tokens", fmt.Sprint(maxTokens))
	tm := startTerminal(t, cmd)
	tm.expect(`Send a message`)
	tm.expect(`>>> `)

	// A message streams its answer; Ctrl-C stops it and the REPL goes on.
	tm.send(msg + "\r")
	time.Sleep(300 * time.Millisecond)
	tm.send("\x03")
	got := tm.expect(`answer \d+ tokens, [0-9.]+ tokens/s · interrupted`)
	if !strings.Contains(got, "\x1b[2m") {
		t.Errorf("no dim text (thinking or statistics) in %q", got)
	}
	tm.expect(`>>> `)
	tm.send("/stats\r")
	tm.expect(`messages: 1 · context: \d+ of 2048 tokens`)
	tm.send("/reset\r")
	tm.expect(`Conversation cleared`)
	tm.send("/stats\r")
	tm.expect(`messages: 0`)
	tm.send("/no_think\r")
	tm.expect(`Thinking off`)
	tm.send("/nonsense\r")
	tm.expect(`Unknown command /nonsense`)

	// Ctrl-D at an empty prompt leaves.
	tm.send("\x04")
	waitExit(t, cmd, tm)
}

func TestRunREPLLeavesOnSecondCtrlC(t *testing.T) {
	path, _ := chatTestModel(t, 256)
	cmd := q3mCommand("run", "-m", path, "--history", "", "--threads", "1")
	tm := startTerminal(t, cmd)
	tm.expect(`>>> `)
	tm.send("\x03")
	tm.expect(`Ctrl-C again`)
	tm.send("\x03")
	waitExit(t, cmd, tm)
}

func waitExit(t *testing.T, cmd *exec.Cmd, tm *terminal) {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- cmd.Wait() }()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("q3m exited with %v", err)
		}
	case <-time.After(20 * time.Second):
		tm.mu.Lock()
		defer tm.mu.Unlock()
		t.Fatalf("q3m did not exit; output:\n%q", tm.out.String())
	}
}

func TestPrinterSeparatesThinkingFromAnswer(t *testing.T) {
	think := func(s string) runtime.Chunk { return runtime.Chunk{Text: s, Thinking: true} }
	say := func(s string) runtime.Chunk { return runtime.Chunk{Text: s} }
	tests := []struct {
		name             string
		split, dim, hide bool
		chunks           []runtime.Chunk
		out, thinkOut    string
	}{
		{"terminal", false, true, false, []runtime.Chunk{think("a"), think("b"), say("c")}, "\x1b[2mab\x1b[0m\n\nc", ""},
		{"hidden at a terminal", false, true, true, []runtime.Chunk{think("a"), say("c")}, "\x1b[2mThinking…\x1b[0m\r\x1b[Kc", ""},
		{"answer only", false, true, false, []runtime.Chunk{say("c"), say("d")}, "cd", ""},
		{"thinking to stderr", true, false, false, []runtime.Chunk{think("a"), say("c")}, "c", "a\n"},
		{"hidden, to stderr", true, true, true, []runtime.Chunk{think("a"), say("c")}, "c", ""},
	}
	for _, tc := range tests {
		var out, errw bytes.Buffer
		p := &printer{out: &out, thinkOut: &out, dim: tc.dim, hide: tc.hide}
		if tc.split {
			p.thinkOut = &errw
		}
		p.start()
		for _, ch := range tc.chunks {
			if err := p.chunk(ch); err != nil {
				t.Fatal(err)
			}
		}
		p.end()
		if out.String() != tc.out || errw.String() != tc.thinkOut {
			t.Errorf("%s: out %q, thinking %q; want %q, %q", tc.name, out.String(), errw.String(), tc.out, tc.thinkOut)
		}
	}
}
