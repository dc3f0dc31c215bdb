package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/q3m/q3m/synth"
)

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

// TestCLIRunPipedSkipsALineAboveTheLimit: piped `run --lines` reports a message
// line above the limit on stderr and answers the lines around it.
func TestCLIRunPipedSkipsALineAboveTheLimit(t *testing.T) {
	model, _ := chatTestModel(t, 256)
	cmd := q3mCommand("run", "-m", model, "--lines", "--max-tokens", "2", "--threads", "1", "--seed", "1", "--hide-thinking")
	cmd.Stdin = strings.NewReader("hi\n" + strings.Repeat("x", maxLineBytes+1) + "\nthere\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	skipIfNotExecutable(t, err)
	if err != nil {
		t.Fatalf("%v\n%.500s", err, stderr.String())
	}
	if n := strings.Count(stdout.String(), "\n"); n != 2 {
		t.Errorf("%d answers, want 2 (one per short line): %q", n, stdout.String())
	}
	if !strings.Contains(stderr.String(), "line 2: longer than the limit of 16777216 bytes") {
		t.Errorf("stderr %.300q does not report the long line", stderr.String())
	}
}
