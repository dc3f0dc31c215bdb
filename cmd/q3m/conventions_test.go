package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/runtime"
)

// The CLI conventions of llama.cpp and ollama, end to end through q3m run
// as a child process.

// q3mWith runs q3m with extra environment variables and stdin.
func q3mWith(t *testing.T, env []string, stdin string, args ...string) (string, string, error) {
	t.Helper()
	cmd := q3mCommand(args...)
	cmd.Env = append(cmd.Env, env...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	skipIfNotExecutable(t, err)
	return stdout.String(), stderr.String(), err
}

// libraryReply is the answer the library gives to msg, the reference
// for what the CLI prints.
func libraryReply(t *testing.T, path, msg string, o runtime.ChatOptions) runtime.Reply {
	t.Helper()
	m, err := runtime.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	c, err := m.NewChat(o)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Send(context.Background(), msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func parseAnswers(t *testing.T, stdout string) []jsonAnswer {
	t.Helper()
	var out []jsonAnswer
	dec := json.NewDecoder(strings.NewReader(stdout))
	for dec.More() {
		var a jsonAnswer
		if err := dec.Decode(&a); err != nil {
			t.Fatalf("stdout is not JSON objects: %v\n%s", err, stdout)
		}
		out = append(out, a)
	}
	return out
}

// TestCLIRunJSONAndPipedStdin: --json prints the answer as one object
// equal to the library's reply; piped stdin is one message (a document
// then the prompt, with one); --lines makes each line a message.
func TestCLIRunJSONAndPipedStdin(t *testing.T) {
	path, _ := chatTestModel(t, 256)
	common := []string{"run", path, "--json", "-n", "6", "-t", "1", "-s", "7"}
	doc := "first line\nsecond line\n"
	file := filepath.Join(t.TempDir(), "prompt.txt")
	if err := os.WriteFile(file, []byte("from a file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		stdin string
		msgs  []string // the messages the model must have been sent
	}{
		{"prompt", []string{"-p", "hello"}, "", []string{"hello"}},
		{"positional prompt", []string{"hello", "there"}, "", []string{"hello there"}},
		{"piped document", nil, doc, []string{doc}},
		{"piped document and prompt", []string{"-p", "summarize"}, doc, []string{"first line\nsecond line\n\nsummarize"}},
		{"file", []string{"-f", file}, "", []string{"from a file\n"}},
		{"file from stdin", []string{"-f", "-"}, doc, []string{doc}},
		{"piped lines", []string{"--lines"}, doc, []string{"first line", "second line"}},
	}
	for _, tc := range tests {
		stdout, stderr, err := q3mWith(t, nil, tc.stdin, append(slices.Clone(common), tc.args...)...)
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.name, err, stderr)
		}
		got := parseAnswers(t, stdout)
		if len(got) != len(tc.msgs) {
			t.Fatalf("%s: %d answers, want %d:\n%s", tc.name, len(got), len(tc.msgs), stdout)
		}
		if tc.name == "piped lines" {
			continue // a conversation of two messages; the count is the point
		}
		want := libraryReply(t, path, tc.msgs[0], runtime.ChatOptions{Thinking: true, MaxTokens: 6, Threads: 1, Seed: 7})
		a := got[0]
		if a.Content != want.Content || a.Reasoning != want.Thinking || a.Stop != string(want.Stop) ||
			a.Usage.PromptTokens != want.Stats.PromptTokens || a.Usage.CompletionTokens != want.Stats.GenTokens {
			t.Errorf("%s: %+v\nwant content %q, reasoning %q, stop %s, %d prompt and %d completion tokens", tc.name, a,
				want.Content, want.Thinking, want.Stop, want.Stats.PromptTokens, want.Stats.GenTokens)
		}
	}
	bad := filepath.Join(t.TempDir(), "latin1.txt")
	os.WriteFile(bad, []byte("caf\xe9\n"), 0o644)
	for _, tc := range []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"run", path, "-t", "1"}, "", "stdin is empty"},
		{[]string{"run", path, "-p", "a", "-f", file}, "", "give the prompt once"},
		{[]string{"run", path, "-f", bad}, "", bad + ": not UTF-8 text"},
		{[]string{"run", path}, "caf\xe9", "stdin: not UTF-8 text"},
		{[]string{"run", path, "-f", t.TempDir()}, "", "not a regular file"},
		{[]string{"run", path, "-p", "a", "--lines"}, "b\n", "give no prompt with it"},
	} {
		if _, stderr, err := q3mWith(t, nil, tc.stdin, tc.args...); err == nil || !strings.Contains(stderr, tc.want) {
			t.Errorf("q3m %s: err %v, stderr %q; want %q", strings.Join(tc.args, " "), err, stderr, tc.want)
		}
	}
}

// TestCLIGenerateDefaultsAreRuns: with no sampling flags, generate
// samples as run does (Qwen3's settings for the thinking mode, the seed
// given), so both print the same answer.
func TestCLIGenerateDefaultsAreRuns(t *testing.T) {
	path, _ := chatTestModel(t, 256)
	for _, think := range []string{"--think=true", "--think=false"} {
		gen, stderr, err := q3mWith(t, nil, "", "generate", path, "-p", "hello", "-s", "5", "-n", "6", "-t", "1", think)
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		run, stderr, err := q3mWith(t, nil, "", "run", path, "-p", "hello", "-s", "5", "-n", "6", "-t", "1", think, "--json")
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		a := parseAnswers(t, run)
		if len(a) != 1 || a[0].Reasoning != "" {
			t.Fatalf("%s: run printed %q; the comparison needs an answer without thinking", think, run)
		}
		if strings.TrimSuffix(gen, "\n") != a[0].Content {
			t.Errorf("%s: generate printed %q, run answered %q", think, gen, a[0].Content)
		}
	}
}

// TestCLIAcceptsFlagsAfterArguments: the model and the prompt may come
// first, the flags after them, in every command.
func TestCLIAcceptsFlagsAfterArguments(t *testing.T) {
	path, _ := chatTestModel(t, 256)
	before, stderr, err := q3mWith(t, nil, "", "run", "-m", path, "-n", "4", "-s", "3", "-t", "1", "--json", "-p", "hello")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	after, stderr, err := q3mWith(t, nil, "", "run", path, "hello", "-n", "4", "-s", "3", "-t", "1", "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if a, b := parseAnswers(t, before), parseAnswers(t, after); len(a) != 1 || len(b) != 1 || a[0].Content != b[0].Content {
		t.Errorf("flags after the arguments changed the answer: %q, %q", before, after)
	}
	for _, args := range [][]string{
		{"info", path, "--json"},
		{"generate", path, "--ids", "1,2", "-n", "2", "-t", "1"},
		{"tokenize", "hello", "-m", path},
		{"bench", path, "-p", "4", "-n", "0", "-r", "1", "-t", "1", "-o", "json"},
		{"run", path, "-n", "2", "-t", "1", "--", "-not a flag"}, // after --, all is the prompt
	} {
		if stdout, stderr, err := q3mWith(t, nil, "", args...); err != nil || stdout == "" {
			t.Errorf("q3m %s: err %v, stdout %q, stderr %q", strings.Join(args, " "), err, stdout, stderr)
		}
	}
}

// TestCLIReadsQ3MEnvironmentVariables: Q3M_MODEL, Q3M_SEED,
// Q3M_MAX_TOKENS, Q3M_THREADS and Q3M_CTX stand for their flags, and are
// checked as the flags are.
func TestCLIReadsQ3MEnvironmentVariables(t *testing.T) {
	path, _ := chatTestModel(t, 256)
	flags, stderr, err := q3mWith(t, nil, "", "run", path, "-p", "hello", "-s", "11", "-n", "3", "-t", "1", "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	env := []string{"Q3M_MODEL=" + path, "Q3M_SEED=11", "Q3M_MAX_TOKENS=3", "Q3M_THREADS=1"}
	fromEnv, stderr, err := q3mWith(t, env, "", "run", "hello", "--json")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	a, b := parseAnswers(t, flags), parseAnswers(t, fromEnv)
	if len(a) != 1 || len(b) != 1 || a[0].Content != b[0].Content || b[0].Usage.CompletionTokens > 3 {
		t.Errorf("environment %v gave %q, the flags %q", env, fromEnv, flags)
	}
	for _, tc := range []struct {
		env  string
		args []string
		want string
	}{
		{"Q3M_THREADS=100000", []string{"run", path, "-p", "hi"}, "--threads 100000: out of range, want a value in [0, 512] (0: all cores; 512 is llama.cpp's GGML_MAX_N_THREADS) (from $Q3M_THREADS)"},
		{"Q3M_CTX=100000", []string{"run", path, "-p", "hi"}, "--ctx 100000: above the model's trained context of 256 tokens"},
		{"Q3M_THREADS=1,600", []string{"bench", path}, "--threads 600: out of range, want a value in [0, 512] (0: all cores; 512 is llama.cpp's GGML_MAX_N_THREADS) (from $Q3M_THREADS)"},
		{"Q3M_SEED=x", []string{"run", path, "-p", "hi"}, "Q3M_SEED"},
		{"Q3M_MODEL=" + filepath.Join(t.TempDir(), "missing.gguf"), []string{"run", "-p", "hi"}, "missing.gguf"},
	} {
		_, stderr, err := q3mWith(t, []string{tc.env}, "", tc.args...)
		if err == nil || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: err %v, stderr %q; want %q", tc.env, err, stderr, tc.want)
		}
	}
}

func TestCLISuggestsWhatWasMeant(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"rnu"}, `unknown command "rnu"; did you mean "run"?`},
		{[]string{"benhc"}, `did you mean "bench"?`},
		{[]string{"inof", "x.gguf"}, `did you mean "info"?`},
		{[]string{"zzzzzz"}, `unknown command "zzzzzz" (q3m --help lists the commands)`},
		{[]string{"run", "--modle", "x.gguf"}, "unknown flag --modle; did you mean --model?"},
		{[]string{"run", "x.gguf", "--max-token", "3"}, "did you mean --max-tokens?"},
		{[]string{"bench", "x.gguf", "--treads", "2"}, "did you mean --threads?"},
		{[]string{"bench", "x.gguf", "-o", "cvs"}, `did you mean "csv"?`},
		{[]string{"completion", "bsh"}, `did you mean "bash"?`},
		{[]string{"help", "rnu"}, `unknown command "rnu"; did you mean "run"?`},
		{[]string{"--verison"}, "unknown flag --verison; did you mean --version?"},
		{[]string{"-m", "x.gguf", "run"}, "unknown flag -m; the flags of a command go after it"},
	} {
		_, stderr, err := q3mRun(t, tc.args...)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("q3m %s: err %v, stderr %q; want exit status 2 and %q", strings.Join(tc.args, " "), err, stderr, tc.want)
		}
	}
}

func TestCLIHelpCommandShowsCommandHelp(t *testing.T) {
	out, stderr, err := q3mRun(t, "help", "bench")
	if err != nil || !strings.Contains(out, "q3m bench - measure") || !strings.Contains(out, "--n-prompt") {
		t.Errorf("q3m help bench: err %v, stdout %q, stderr %q", err, out, stderr)
	}
}

func TestCLIVersionNamesTheCommit(t *testing.T) {
	out, stderr, err := q3mRun(t, "--version")
	if err != nil || !strings.HasPrefix(out, "q3m version "+version+" (commit ") || !strings.Contains(out, goruntime.Version()) {
		t.Errorf("--version: err %v, stdout %q, stderr %q", err, out, stderr)
	}
	got := formatVersion("1.2.3", []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-11-30T12:00:00Z"}, {Key: "vcs.modified", Value: "true"},
	}, "go1.26.8")
	if want := "1.2.3 (commit 0123456789abcdef0123456789abcdef01234567 of 2026-11-30T12:00:00Z, with local changes; go1.26.8)"; got != want {
		t.Errorf("formatVersion: %q, want %q", got, want)
	}
	if testing.Short() {
		return
	}
	// A binary built by `go build` in the repository names its commit.
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("git: %v", err)
	}
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if st, err2 := os.Stat(filepath.Join(strings.TrimSpace(string(top)), ".git")); err != nil || err2 != nil || !st.IsDir() {
		t.Skip("not a plain git clone (a worktree's .git is a file, which go build does not stamp)")
	}
	bin := filepath.Join(t.TempDir(), "q3m")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Skipf("go build -buildvcs=true: %v\n%s", err, out)
	}
	out2, err := exec.Command(bin, "--version").Output()
	if err != nil || !strings.Contains(string(out2), "commit "+strings.TrimSpace(string(head))) {
		t.Errorf("built binary's --version %q (err %v), want commit %s", out2, err, head)
	}
}

// TestBenchOutputFormatsParse runs a cross product of two prompt sizes,
// one generation size and two thread counts: six tests, in each format.
func TestBenchOutputFormatsParse(t *testing.T) {
	path, _ := benchTestModel(t)
	args := []string{"bench", path, "-p", "4,8", "-n", "2", "-t", "1,2", "-r", "1"}
	want := []string{"pp4/1", "pp8/1", "tg2/1", "pp4/2", "pp8/2", "tg2/2"}
	for _, f := range []string{"md", "csv", "json", "jsonl"} {
		stdout, stderr, err := q3mRun(t, append(slices.Clone(args), "-o", f)...)
		if err != nil {
			t.Fatalf("-o %s: %v\n%s", f, err, stderr)
		}
		var got []string
		switch f {
		case "md":
			for line := range strings.Lines(stdout) {
				cells := strings.Split(line, "|")
				if len(cells) == 9 && strings.Contains(cells[6], "p") || len(cells) == 9 && strings.Contains(cells[6], "tg") {
					got = append(got, strings.TrimSpace(cells[6])+"/"+strings.TrimSpace(cells[5]))
				}
			}
		case "csv":
			rows, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
			if err != nil || len(rows) == 0 || rows[0][7] != "test" || rows[0][6] != "threads" {
				t.Fatalf("-o csv: %v\n%s", err, stdout)
			}
			for _, r := range rows[1:] {
				got = append(got, r[7]+"/"+r[6])
			}
		case "json":
			var rep benchReport
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatalf("-o json: %v\n%s", err, stdout)
			}
			for _, tc := range rep.Tests {
				got = append(got, fmt.Sprintf("%s/%d", tc.Name, tc.Threads))
			}
		case "jsonl":
			for line := range strings.Lines(stdout) {
				var row benchRow
				if err := json.Unmarshal([]byte(line), &row); err != nil || row.Mean <= 0 || row.Model == "" {
					t.Fatalf("-o jsonl: line %q: %v", line, err)
				}
				got = append(got, fmt.Sprintf("%s/%d", row.Test, row.Threads))
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("-o %s: tests %v, want %v\n%s", f, got, want, stdout)
		}
		if !strings.Contains(stderr, "bench: pp8, 2 threads") || strings.Contains(stdout, "bench: ") {
			t.Errorf("-o %s: progress not on stderr alone: stderr %q", f, stderr)
		}
	}
}

func TestInfoJSONDescribesTheFile(t *testing.T) {
	path, _ := chatTestModel(t, 256)
	stdout, stderr, err := q3mRun(t, "info", "-m", path, "--json", "--layer", "1")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var got infoJSON
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	f, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var total uint64
	for i, tt := range f.Tensors {
		total += tt.Bytes()
		if i < len(got.Tensors) && (got.Tensors[i].Name != tt.Name || got.Tensors[i].Bytes != tt.Bytes()) {
			t.Errorf("tensor %d: %+v, file has %s of %d bytes", i, got.Tensors[i], tt.Name, tt.Bytes())
		}
	}
	if len(got.Tensors) != len(f.Tensors) || got.Totals.Bytes != total || got.Architecture != "qwen3moe" ||
		got.Config == nil || got.Config.Layers != 2 || got.Config.ContextLen != 256 || got.Metadata["general.architecture"] != "qwen3moe" {
		t.Errorf("info --json: %d tensors (file %d), %d bytes (file %d), arch %q, config %+v", len(got.Tensors), len(f.Tensors),
			got.Totals.Bytes, total, got.Architecture, got.Config)
	}
	if len(got.ExpertRanges) == 0 || !strings.HasPrefix(got.ExpertRanges[0].Tensor, "blk.1.") {
		t.Errorf("expert ranges of layer 1: %+v", got.ExpertRanges[:min(2, len(got.ExpertRanges))])
	}
	sh, err := runtime.ExpertPageSharing(f, os.Getpagesize())
	if err != nil {
		t.Fatal(err)
	}
	if e := got.ExpertPages; e.Experts != sh.Experts || e.Ranges != 3*sh.Experts || e.SharedBytes != sh.Shared || e.Bytes != sh.Bytes || e.Experts == 0 {
		t.Errorf("expert_pages %+v, runtime.ExpertPageSharing %+v", e, sh)
	}
	// Long arrays (the vocabulary) show their length, not their values.
	if v, ok := got.Metadata["tokenizer.ggml.tokens"].(map[string]any); !ok || v["length"] == nil {
		t.Errorf("tokenizer.ggml.tokens: %v", got.Metadata["tokenizer.ggml.tokens"])
	}
	text, _, err := q3mRun(t, "info", path)
	if err != nil || !strings.Contains(text, " KiB") || !strings.Contains(text, "parameters, ") || !strings.Contains(text, "expert pages: "+sh.String()) {
		t.Errorf("info: sizes not human-readable:\n%.2000s", text)
	}
}

// TestHelpPrintsEachDefaultOnce: no help line says its default twice,
// switches do not print "default: false", and the thread default is
// GOMAXPROCS.
func TestHelpPrintsEachDefaultOnce(t *testing.T) {
	for _, cmd := range newApp().Commands {
		out, _, err := q3mRun(t, cmd.Name, "--help")
		if err != nil {
			t.Fatalf("%s --help: %v", cmd.Name, err)
		}
		for line := range strings.Lines(out) {
			if strings.Count(line, "default") > 1 || strings.Contains(line, "default: false") {
				t.Errorf("%s --help: %q", cmd.Name, line)
			}
			if strings.Contains(line, "--threads value, -t value") && !strings.Contains(line, fmt.Sprintf("(default: %d, GOMAXPROCS)", goruntime.GOMAXPROCS(0))) {
				t.Errorf("%s --help: %q, want the default GOMAXPROCS = %d", cmd.Name, line, goruntime.GOMAXPROCS(0))
			}
		}
	}
}

// TestSharedFlagsMeanTheSameEverywhere: a flag name has one short form
// and one environment variable in every command that has it.
func TestSharedFlagsMeanTheSameEverywhere(t *testing.T) {
	want := map[string]string{"model": "m", "threads": "t", "ctx": "c", "max-tokens": "n", "seed": "s", "prompt": "p", "file": "f"}
	seen := map[string]string{}
	for _, cmd := range newApp().Commands {
		for _, f := range cmd.Flags {
			names := f.Names()
			desc := fmt.Sprint(names)
			if df, ok := f.(cli.DocGenerationFlag); ok {
				desc += fmt.Sprint(df.GetEnvVars())
			}
			if short, ok := want[names[0]]; ok && !slices.Contains(names, short) {
				t.Errorf("%s --%s: no -%s", cmd.Name, names[0], short)
			}
			if prev, ok := seen[names[0]]; ok && prev != desc && names[0] != "threads" {
				t.Errorf("%s --%s is %s, elsewhere %s", cmd.Name, names[0], desc, prev)
			}
			seen[names[0]] = desc
		}
	}
	for name := range want {
		if _, ok := seen[name]; !ok {
			t.Errorf("no command has --%s", name)
		}
	}
}

func TestCompletionScriptsComplete(t *testing.T) {
	script, stderr, err := q3mRun(t, "completion", "bash")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	complete := func(words ...string) string {
		prog := script + fmt.Sprintf("\nCOMP_WORDS=(%s); COMP_CWORD=%d; _q3m; echo \"${COMPREPLY[*]}\"\n", strings.Join(words, " "), len(words)-1)
		out, err := exec.Command("bash", "-c", prog).CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v\n%s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	for _, tc := range []struct {
		words []string
		want  string
	}{
		{[]string{"q3m", "ru"}, "run"},
		{[]string{"q3m", "b"}, "bench"},
		{[]string{"q3m", "run", "--max"}, "--max-tokens"},
		{[]string{"q3m", "bench", "--n-"}, "--n-prompt --n-gen --n-depth"},
		{[]string{"q3m", "completion", "f"}, "fish"},
		{[]string{"q3m", "trace", "s"}, "stats sim"},
		{[]string{"q3m", "trace", "gen", "--pat"}, "--pattern"},
	} {
		if got := complete(tc.words...); got != tc.want {
			t.Errorf("completing %v: %q, want %q", tc.words, got, tc.want)
		}
	}
	for _, sh := range []string{"zsh", "fish"} {
		script, _, err := q3mRun(t, "completion", sh)
		if err != nil || !strings.Contains(script, "max-tokens") {
			t.Errorf("completion %s: %v\n%s", sh, err, script)
		}
		if _, err := exec.LookPath(sh); err != nil {
			continue // syntax checked where the shell is installed
		}
		f := filepath.Join(t.TempDir(), "q3m."+sh)
		os.WriteFile(f, []byte(script), 0o644)
		if out, err := exec.Command(sh, "-n", f).CombinedOutput(); err != nil {
			t.Errorf("%s -n: %v\n%s", sh, err, out)
		}
	}
}
