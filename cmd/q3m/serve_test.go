package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startServe runs `q3m serve` on a free port and returns its base URL.
func startServe(t *testing.T, args ...string) (string, func() error, func(syscall.Signal)) {
	t.Helper()
	cmd := q3mCommand(append([]string{"serve", "--port", "0", "--threads", "1"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		skipIfNotExecutable(t, err)
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	re := regexp.MustCompile(`on (http://[0-9.:]+) `)
	timeout := time.After(60 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("serve exited before listening")
			}
			m := re.FindStringSubmatch(line)
			if m == nil {
				t.Logf("serve: %s", line)
				continue
			}
			go func() {
				for range lines {
				}
			}()
			return m[1], cmd.Wait, func(s syscall.Signal) { cmd.Process.Signal(s) }
		case <-timeout:
			t.Fatal("serve did not start")
		}
	}
}

func TestServeAnswersThenExitsZeroOnSIGTERM(t *testing.T) {
	path, _ := chatTestModel(t, 256)
	url, wait, signal := startServe(t, "-m", path, "--ctx", "256", "--parallel", "2", "--alias", "tiny",
		"--chat-template", filepath.Join("..", "..", "testdata", "templates", "qwen3.jinja"))

	resp, err := http.Post(url+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"messages": [{"role": "user", "content": "hello"}], "max_tokens": 4, "seed": 1}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var r struct {
		Model string `json:"model"`
		Usage struct {
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(body, &r); err != nil || resp.StatusCode != 200 || r.Model != "tiny" || r.Usage.CompletionTokens == 0 {
		t.Fatalf("chat: status %d, %s", resp.StatusCode, body)
	}

	// A stream in progress when SIGTERM comes ends, and the process exits 0.
	resp, err = http.Post(url+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"messages": [{"role": "user", "content": "hello"}], "stream": true, "temperature": 1.5}`))
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(resp.Body)
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve exited with %v after SIGTERM, want status 0", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not exit after SIGTERM")
	}
	rest, _ := io.ReadAll(br)
	resp.Body.Close()
	// Either the answer ended first, or the stream says why it was cut.
	finished := bytes.Contains(rest, []byte(`"finish_reason":"`)) && bytes.HasSuffix(rest, []byte("data: [DONE]\n\n"))
	if !finished && !bytes.Contains(rest, []byte("the server is shutting down")) {
		t.Errorf("stream after SIGTERM ends: ...%s", rest[max(0, len(rest)-400):])
	}
}

func TestServeRejectsBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--parallel", "0"}, "--parallel 0: out of range"},
		{[]string{"--port", "70000"}, "--port 70000"},
		{[]string{"--max-body", "lots"}, "--max-body"},
		{[]string{"--timeout", "-1s"}, "--timeout must be positive"},
	} {
		_, stderr, err := q3mRun(t, append([]string{"serve", "-m", "nonexistent.gguf"}, tc.args...)...)
		if err == nil || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: err %v, stderr %q, want %q", tc.args, err, stderr, tc.want)
		}
	}
}
