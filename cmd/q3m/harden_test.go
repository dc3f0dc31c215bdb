package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/q3m/q3m/synth"
)

// fileState is what a test remembers of a path to tell it was not touched.
type fileState struct {
	mode os.FileMode
	data string
	link string
}

func stateOf(t *testing.T, p string) fileState {
	t.Helper()
	st, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	s := fileState{mode: st.Mode()}
	switch {
	case st.Mode()&os.ModeSymlink != 0:
		s.link, _ = os.Readlink(p)
	case st.Mode().IsRegular():
		b, _ := os.ReadFile(p)
		s.data = string(b)
	}
	return s
}

// TestCLIOutputsNeverReplaceWhatTheyMustNot drives every command that
// writes a file (logits --out, convert -o) at every kind of path it must
// refuse, and checks that the refusal comes first (before the model is
// read), names the flag and the reason, and leaves the path and its
// directory as they were.
func TestCLIOutputsNeverReplaceWhatTheyMustNot(t *testing.T) {
	model, hf := chatTestModel(t, 256)
	dir := t.TempDir()
	other := filepath.Join(dir, "other.bin")
	if err := os.WriteFile(other, []byte("other"), 0o644); err != nil {
		t.Fatal(err)
	}
	mk := func(name string, f func(p string) error) string {
		p := filepath.Join(dir, name)
		if err := f(p); err != nil {
			t.Skipf("%s: %v", name, err)
		}
		return p
	}
	hardModel := mk("hard.gguf", func(p string) error { return os.Link(model, p) })
	symModel := mk("sym.gguf", func(p string) error { return os.Symlink(model, p) })
	symOther := mk("sym-other", func(p string) error { return os.Symlink(other, p) })
	fifo := mk("fifo", func(p string) error { return syscall.Mkfifo(p, 0o644) })
	sub := mk("sub", func(p string) error { return os.Mkdir(p, 0o755) })
	ro := mk("ro.bin", func(p string) error { return os.WriteFile(p, []byte("keep"), 0o444) })
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Skip(err)
	}
	defer l.Close()
	hardShard := mk("hard-shard.gguf", func(p string) error { return os.Link(filepath.Join(hf, "model.safetensors"), p) })

	logits := func(out string) []string { return []string{"logits", "-m", model, "--ids", "1,2", "--out", out} }
	conv := func(out string) []string { return []string{"convert", "--type", "f16", "-o", out, hf} }
	tests := []struct {
		name string
		args []string
		path string // must stay as it was
		want string
	}{
		{"logits onto the model", logits(model), model, "is the input file"},
		{"logits onto a hard link to the model", logits(hardModel), model, "is the input file"},
		{"logits onto a symlink to the model", logits(symModel), symModel, "is a symbolic link"},
		{"logits onto a symlink to another file", logits(symOther), symOther, "is a symbolic link"},
		{"logits onto a FIFO", logits(fifo), fifo, "is a named pipe (FIFO), not a regular file"},
		{"logits onto a directory", logits(sub), sub, "is a directory, not a regular file"},
		{"logits onto a socket", logits(sock), sock, "is a socket, not a regular file"},
		{"logits onto a read-only file", logits(ro), ro, "is read-only"},
		{"logits into a missing directory", logits(filepath.Join(dir, "none", "x.f32")), dir, "cannot write in its directory"},
		{"convert onto a shard", conv(filepath.Join(hf, "model.safetensors")), filepath.Join(hf, "model.safetensors"), "is the input file"},
		{"convert onto a hard link to a shard", conv(hardShard), hardShard, "is the input file"},
		{"convert onto config.json", conv(filepath.Join(hf, "config.json")), filepath.Join(hf, "config.json"), "is the input file"},
		{"convert onto a FIFO", conv(fifo), fifo, "is a named pipe"},
		{"convert onto the model", conv(symModel), symModel, "is a symbolic link"},
		{"convert onto a read-only file", conv(ro), ro, "is read-only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := stateOf(t, tt.path)
			modelBefore := stateOf(t, model)
			entries, _ := os.ReadDir(dir)
			_, stderr, err := q3mRun(t, tt.args...)
			if err == nil || !strings.Contains(stderr, tt.want) || strings.Contains(stderr, "panic") {
				t.Errorf("err %v, stderr %q; want a refusal saying %q", err, stderr, tt.want)
			}
			if !strings.Contains(stderr, "--out") && !strings.Contains(stderr, "--output") {
				t.Errorf("stderr %q does not name the flag", stderr)
			}
			if after := stateOf(t, tt.path); after != before {
				t.Errorf("%s changed: %+v → %+v", tt.path, before, after)
			}
			if after := stateOf(t, model); after != modelBefore {
				t.Error("the model changed")
			}
			if after, _ := os.ReadDir(dir); len(after) != len(entries) {
				t.Errorf("%d entries in %s after the refusal, %d before", len(after), dir, len(entries))
			}
		})
	}

	// The refusal comes before the model is read: a missing model is not
	// what is reported.
	_, stderr, err := q3mRun(t, "logits", "-m", filepath.Join(dir, "missing.gguf"), "--ids", "1", "--out", fifo)
	if err == nil || !strings.Contains(stderr, "--out") || !strings.Contains(stderr, "named pipe") {
		t.Errorf("logits with a FIFO --out and a missing model: err %v, stderr %q; want the --out refusal first", err, stderr)
	}
}

// TestCLILogitsOutReplacesARegularFileOrWritesStdout: the accepted cases
// write the same bytes, leave no temporary files, and replace an existing
// file whole.
func TestCLILogitsOutReplacesARegularFileOrWritesStdout(t *testing.T) {
	model, _ := chatTestModel(t, 256)
	dir := t.TempDir()
	out := filepath.Join(dir, "logits.f32")
	if err := os.WriteFile(out, bytes.Repeat([]byte("old"), 100000), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := q3mRun(t, "logits", "-m", model, "--ids", "1,2,3", "--out", out); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	file, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := q3mRun(t, "logits", "-m", model, "--ids", "1,2,3", "--out", "-")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if len(file) != 3*512*4 || stdout != string(file) {
		t.Errorf("file of %d bytes, stdout of %d; want the same 3×512 float32", len(file), len(stdout))
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("dir holds %v, want only the output", ents)
	}
}

// TestInterruptsStopTheSameWayForEverySignal: the first SIGINT, SIGTERM or
// SIGHUP cancels the context and leaves the cleanup to the command; a
// second signal runs the registered cleanups and exits with 128+signal.
func TestInterruptsStopTheSameWayForEverySignal(t *testing.T) {
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(signalName(sig), func(t *testing.T) {
			sigs := make(chan os.Signal)
			exited := make(chan int, 1)
			var errw bytes.Buffer
			ctx, in := newInterrupts(context.Background(), sigs, func(code int) { exited <- code }, &errw)
			tmp := t.TempDir()
			cleaned := filepath.Join(tmp, "staging")
			if err := os.Mkdir(cleaned, 0o700); err != nil {
				t.Fatal(err)
			}
			atExit(ctx, func() { os.RemoveAll(cleaned) })
			forgotten := filepath.Join(tmp, "forgotten")
			os.Mkdir(forgotten, 0o700)
			atExit(ctx, func() { os.RemoveAll(forgotten) })() // unregistered at once

			sigs <- sig
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("first signal did not cancel the context")
			}
			if in.received() != sig {
				t.Errorf("received %v", in.received())
			}
			if _, err := os.Stat(cleaned); err != nil {
				t.Error("the first signal ran the cleanups; the command's own defers do that")
			}
			sigs <- sig
			select {
			case code := <-exited:
				if want := 128 + int(sig.(syscall.Signal)); code != want {
					t.Errorf("exit code %d, want %d", code, want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("second signal did not exit")
			}
			if _, err := os.Stat(cleaned); !errors.Is(err, os.ErrNotExist) {
				t.Error("the second signal left the registered temporary directory")
			}
			if _, err := os.Stat(forgotten); err != nil {
				t.Error("an unregistered cleanup ran")
			}
			if !strings.Contains(errw.String(), signalName(sig)) {
				t.Errorf("message %q does not name the signal", errw.String())
			}
		})
	}
}

// TestInterruptsGiveSIGINTToTheREPLOnly: while the REPL answers, Ctrl-C
// stops the answer and q3m goes on; SIGTERM still stops q3m.
func TestInterruptsGiveSIGINTToTheREPLOnly(t *testing.T) {
	sigs := make(chan os.Signal)
	ctx, _ := newInterrupts(context.Background(), sigs, func(int) { t.Error("exited") }, io.Discard)
	var mu sync.Mutex
	calls := 0
	restore := onInterrupt(ctx, func() { mu.Lock(); calls++; mu.Unlock() })
	sigs <- os.Interrupt
	sigs <- os.Interrupt
	sigs <- os.Interrupt
	mu.Lock()
	n := calls
	mu.Unlock()
	if n < 2 || ctx.Err() != nil {
		t.Errorf("handler called %d times, context %v; want the handler, not cancellation", n, ctx.Err())
	}
	sigs <- syscall.SIGTERM
	<-ctx.Done()
	restore()
}

// TestCLISignalsCleanUpTheDemo sends SIGTERM and SIGHUP to the demo while
// it works: the process ends with 128+signal and its temporary directory
// (checkpoint, staged GGUF) is gone, as for SIGINT.
func TestCLISignalsCleanUpTheDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo synthesizes a 150 MB checkpoint")
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(signalName(sig), func(t *testing.T) {
			tmp := t.TempDir()
			cmd := q3mCommand("demo", "-n", "64")
			cmd.Env = append(cmd.Env, "TMPDIR="+tmp)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				skipIfNotExecutable(t, err)
				t.Fatal(err)
			}
			sc := bufio.NewScanner(stdout)
			for sc.Scan() && !strings.HasPrefix(sc.Text(), "1. synthesized") {
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, stdout)
			err = cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 128+int(sig) {
				t.Errorf("exit %v, want status %d; stderr %q", err, 128+int(sig), stderr.String())
			}
			if !strings.Contains(stderr.String(), "interrupted ("+signalName(sig)+")") {
				t.Errorf("stderr %q", stderr.String())
			}
			if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
				t.Errorf("TMPDIR holds %v after %s", ents, signalName(sig))
			}
		})
	}
}

// TestEveryNumericFlagHasARule walks every command's flags: each numeric
// one has a rule, and its default value passes it.
func TestEveryNumericFlagHasARule(t *testing.T) {
	rules := numericFlags()
	for _, cmd := range newApp().Commands {
		for _, f := range cmd.Flags {
			name := f.Names()[0]
			var def float64
			switch ff := f.(type) {
			case *cli.IntFlag:
				def = float64(ff.Value)
			case *cli.Float64Flag:
				def = ff.Value
			case *cli.Uint64Flag:
				def = float64(ff.Value)
			case *cli.StringFlag:
				if name != "mem-budget" {
					continue
				}
			default:
				continue
			}
			r, ok := rules[name]
			if !ok {
				t.Errorf("%s --%s: numeric flag without a rule", cmd.Name, name)
				continue
			}
			if err := r.check(name, "default", def); err != nil {
				t.Errorf("%s: default refused: %v", cmd.Name, err)
			}
		}
		if cmd.Before == nil {
			t.Errorf("%s: flags not checked", cmd.Name)
		}
	}
}

// TestCLIRefusesNonsenseFlagValues runs each command with each numeric
// flag out of range. The model does not exist: the flag must be refused
// first, by name.
func TestCLIRefusesNonsenseFlagValues(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.gguf")
	gen := func(f ...string) []string { return append([]string{"generate", "-m", missing, "--ids", "1"}, f...) }
	run := func(f ...string) []string { return append([]string{"run", "-m", missing, "-p", "hi"}, f...) }
	logits := func(f ...string) []string { return append([]string{"logits", "-m", missing, "--ids", "1"}, f...) }
	bench := func(f ...string) []string { return append([]string{"bench", "-m", missing}, f...) }
	tests := []struct {
		args []string
		flag string
	}{
		{gen("-n", "-1"), "-n -1"},
		{gen("--temp", "-1"), "--temp -1"},
		{gen("--temp", "nan"), "--temp NaN"},
		{gen("--temp", "inf"), "--temp +Inf"},
		{gen("--top-p", "5"), "--top-p 5"},
		{gen("--top-p", "-0.1"), "--top-p -0.1"},
		{gen("--min-p", "2"), "--min-p 2"},
		{gen("--top-k", "-3"), "--top-k -3"},
		{gen("--threads", "1000000"), "--threads 1000000"},
		{gen("--threads", "-2"), "--threads -2"},
		{gen("--ctx", "100000000"), "--ctx 100000000"},
		{gen("--ctx", "-1"), "--ctx -1"},
		{gen("--mem-budget", "nan"), "--mem-budget"},
		{gen("--mem-budget", "-1G"), "--mem-budget"},
		{run("--repeat-penalty", "0"), "--repeat-penalty 0"},
		{run("--repeat-penalty", "-1"), "--repeat-penalty -1"},
		{run("--presence-penalty", "nan"), "--presence-penalty NaN"},
		{run("--max-tokens", "-1"), "--max-tokens -1"},
		{run("--min-p", "1.5"), "--min-p 1.5"},
		{run("--temp", "-0.5"), "--temp -0.5"},
		{run("--threads", "1000000"), "--threads 1000000"},
		{run("--ctx", "-5"), "--ctx -5"},
		{logits("--threads", "-1"), "--threads -1"},
		{logits("--ctx", "100000000"), "--ctx 100000000"},
		{logits("--mem-budget", "nan"), "--mem-budget"},
		{bench("-p", "-1"), "-p -1"},
		{bench("-n", "-1"), "-n -1"},
		{bench("-r", "0"), "--repetitions 0"},
		{bench("-t", "1000000"), "--threads 1000000"},
		{[]string{"convert", "--threads", "-1", missing}, "--threads -1"},
		{[]string{"convert", "--threads", "100000", missing}, "--threads 100000"},
		{[]string{"demo", "-n", "-1"}, "-n -1"},
		{[]string{"info", "--layer", "-1", missing}, "--layer -1"},
	}
	for _, tt := range tests {
		_, stderr, err := q3mRun(t, tt.args...)
		if err == nil || !strings.Contains(stderr, tt.flag+": out of range") && !strings.Contains(stderr, tt.flag+": ") ||
			strings.Contains(stderr, "missing.gguf") || strings.Contains(stderr, "panic") {
			t.Errorf("q3m %s: err %v, stderr %q; want the flag refused as %q", strings.Join(tt.args, " "), err, stderr, tt.flag)
		}
	}
}

// TestCLIRefusesFlagsBeyondTheModel: --ctx above the trained context and
// --layer past the last layer are refused by name once the model is known.
func TestCLIRefusesFlagsBeyondTheModel(t *testing.T) {
	model, _ := chatTestModel(t, 256)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"generate", "-m", model, "--ids", "1", "--ctx", "300"}, "--ctx 300: above the model's trained context of 256 tokens"},
		{[]string{"logits", "-m", model, "--ids", "1", "--ctx", "257"}, "--ctx 257: above the model's trained context of 256 tokens"},
		{[]string{"run", "-m", model, "-p", "hi", "--ctx", "100000"}, "--ctx 100000: above the model's trained context of 256 tokens"},
		{[]string{"info", "--layer", "2", model}, "--layer 2: the model has 2 layers"},
	} {
		stdout, stderr, err := q3mRun(t, tt.args...)
		if err == nil || !strings.Contains(stderr, tt.want) || stdout != "" {
			t.Errorf("q3m %s: err %v, stdout %q, stderr %q; want %q", strings.Join(tt.args, " "), err, stdout, stderr, tt.want)
		}
	}
}

// TestReadLineSkipsLinesAboveTheLimit covers the line reader of
// tokenize --jsonl and piped run at its edges.
func TestReadLineSkipsLinesAboveTheLimit(t *testing.T) {
	tests := []struct {
		in   string
		want []string // "!" for a line refused as too long
	}{
		{"abcd\nab\n", []string{"abcd", "ab"}},
		{"abcde\nab\n", []string{"!", "ab"}},
		{"abcd\r\nx", []string{"!", "x"}}, // the \r counts
		{"abc\r\nx", []string{"abc", "x"}},
		{"\n\nab", []string{"", "", "ab"}},
		{strings.Repeat("y", 100000) + "\nok\n" + strings.Repeat("z", 70000), []string{"!", "ok", "!"}},
		{"", nil},
	}
	for _, tt := range tests {
		lr := newLineReader(context.Background(), strings.NewReader(tt.in), 4)
		var got []string
		for {
			line, err := lr.next(context.Background())
			var tooLong *lineTooLongError
			if errors.Is(err, io.EOF) {
				break
			} else if errors.As(err, &tooLong) {
				got = append(got, "!")
				continue
			} else if err != nil {
				t.Fatal(err)
			}
			got = append(got, string(line))
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
			t.Errorf("%.20q: lines %q, want %q", tt.in, got, tt.want)
		}
	}
	// A reader blocked on input gives way to cancellation.
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	lr := newLineReader(ctx, pr, 4)
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := lr.next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("blocked read: %v, want cancellation", err)
	}
}

// TestCLITokenizeJSONLAnswersBadLinesAndGoesOn: a line above the limit, a
// line that is not UTF-8 and one with a lone surrogate each get an error
// answer, and the lines after them are answered.
func TestCLITokenizeJSONLAnswersBadLinesAndGoesOn(t *testing.T) {
	model, _ := chatTestModel(t, 256)
	var in bytes.Buffer
	in.WriteString(`{"text": "a"}` + "\n")
	in.WriteString(`{"text": "` + strings.Repeat("x", maxLineBytes) + `"}` + "\n")
	in.WriteString("{\"text\": \"caf\xe9\"}\n")
	in.WriteString(`{"text": "\ud800x"}` + "\n")
	in.WriteString(`{"messages": [{"role": "user", "content": "\udfff"}]}` + "\n")
	in.WriteString(`{"text": "a"}` + "\n")
	cmd := q3mCommand("tokenize", "-m", model, "--jsonl")
	cmd.Stdin = &in
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	skipIfNotExecutable(t, err)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	wantErr := []string{"", "line 2: longer than the limit of 16777216 bytes (16.0 MiB); skipped",
		"line 3: bad JSON: invalid UTF-8 at byte 13", `line 4: bad JSON: lone high surrogate \ud800 at byte 10`,
		"line 5: bad JSON: lone low surrogate", ""}
	if len(lines) != len(wantErr) {
		t.Fatalf("%d answers, want %d:\n%.500s", len(lines), len(wantErr), stdout.String())
	}
	for i, l := range lines {
		var ans map[string]any
		if err := json.Unmarshal([]byte(l), &ans); err != nil {
			t.Fatalf("answer %d: %v", i+1, err)
		}
		e, _ := ans["error"].(string)
		if wantErr[i] == "" && (e != "" || ans["ids"] == nil) || wantErr[i] != "" && !strings.Contains(e, wantErr[i]) {
			t.Errorf("answer %d: %.200s, want error %q", i+1, l, wantErr[i])
		}
	}
}

// TestCLIRefusesNonRegularConvertInputs: a FIFO as config.json is refused
// at once, not waited on.
func TestCLIRefusesNonRegularConvertInputs(t *testing.T) {
	dir := t.TempDir()
	hf := filepath.Join(dir, "hf")
	if err := synth.Write(hf, synth.Variants()["base"]); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(hf, "config.json")
	os.Remove(cfg)
	if err := syscall.Mkfifo(cfg, 0o644); err != nil {
		t.Skip(err)
	}
	cmd := q3mCommand("convert", "-o", filepath.Join(dir, "o.gguf"), hf)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		skipIfNotExecutable(t, err)
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(stderr.String(), cfg+" is a named pipe (FIFO), not a regular file") {
			t.Errorf("err %v, stderr %q", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("convert waited on the FIFO")
	}
}

// TestRunREPLStopsOnSIGTERMAndSIGHUP: at the prompt (the line editor
// waiting), SIGTERM and SIGHUP end q3m as SIGINT ends other commands,
// with 128+signal; the REPL's own Ctrl-C handling is unchanged.
func TestRunREPLStopsOnSIGTERMAndSIGHUP(t *testing.T) {
	path, _ := chatTestModel(t, 256)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(signalName(sig), func(t *testing.T) {
			cmd := q3mCommand("run", "-m", path, "--history", "", "--threads", "1")
			tm := startTerminal(t, cmd)
			tm.expect(`>>> `)
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			errc := make(chan error, 1)
			go func() { errc <- cmd.Wait() }()
			select {
			case err := <-errc:
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != 128+int(sig) {
					t.Errorf("exit %v, want status %d", err, 128+int(sig))
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("q3m did not exit after %s", signalName(sig))
			}
		})
	}
}

// TestHistoryFileIsCheckedLikeAnOutput: the REPL appends to its history
// file, so the model, a FIFO or a directory are refused; a link to a
// regular file is followed.
func TestHistoryFileIsCheckedLikeAnOutput(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.gguf")
	hist := filepath.Join(dir, "hist")
	for _, p := range []string{model, hist} {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "link")
	fifo := filepath.Join(dir, "fifo")
	modelLink := filepath.Join(dir, "model-link")
	if os.Symlink(hist, link) != nil || syscall.Mkfifo(fifo, 0o644) != nil || os.Symlink(model, modelLink) != nil {
		t.Skip("cannot make links or FIFOs here")
	}
	for _, tt := range []struct {
		path, want string
	}{
		{model, "is the input file"},
		{modelLink, "is the input file"},
		{fifo, "named pipe"},
		{dir, "directory"},
		{hist, ""},
		{link, ""},
		{filepath.Join(dir, "new"), ""},
		{"", ""},
	} {
		err := checkHistoryFile(tt.path, model)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "--history")) {
			t.Errorf("%s: %v, want %q", tt.path, err, tt.want)
		}
	}
}
