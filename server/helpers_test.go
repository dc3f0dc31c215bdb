package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/q3m/q3m/convert"
	"github.com/q3m/q3m/quant"
	"github.com/q3m/q3m/runtime"
	"github.com/q3m/q3m/synth"
)

// The tests serve a tiny random model (synth's byte-level BPE tokenizer,
// Qwen's added tokens) with Qwen3's chat template, converted once.
var tiny struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if tiny.dir != "" {
		os.RemoveAll(tiny.dir)
	}
	os.Exit(code)
}

func tinyModelPath(t testing.TB) string {
	t.Helper()
	tiny.once.Do(func() {
		if tiny.dir, tiny.err = os.MkdirTemp("", "q3m-server-test-"); tiny.err != nil {
			return
		}
		s := synth.Variants()["base"]
		s.Layers, s.MaxPos = 2, 2048
		hf := filepath.Join(tiny.dir, "hf")
		if tiny.err = synth.Write(hf, s); tiny.err != nil {
			return
		}
		tiny.path = filepath.Join(tiny.dir, "tiny.gguf")
		tiny.err = convert.Convert(context.Background(), hf, tiny.path, convert.Options{Type: quant.Q8_0, Threads: 1})
	})
	if tiny.err != nil {
		t.Fatal(tiny.err)
	}
	return tiny.path
}

// testServer serves the tiny model with the given options over httptest.
func testServer(t *testing.T, eo EngineOptions, o Options) (*Server, *httptest.Server) {
	t.Helper()
	m, err := runtime.Load(tinyModelPath(t))
	if err != nil {
		t.Fatal(err)
	}
	if eo.Threads == 0 {
		eo.Threads = 1
	}
	eng, err := NewEngine(m, eo)
	if err != nil {
		t.Fatal(err)
	}
	if o.Template == nil {
		o.Template = qwen3Template(t)
	}
	s, err := New(eng, o)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(func() {
		hs.Close()
		eng.Close()
		m.Close()
	})
	return s, hs
}

// script makes the engine answer text (then <|im_end|>) instead of sampling.
func script(t *testing.T, s *Server, text string) []int32 {
	t.Helper()
	end, ok := s.tok.Lookup("<|im_end|>")
	if !ok {
		t.Fatal("no <|im_end|>")
	}
	ids := append(s.tok.EncodeSpecial(text), end)
	s.eng.pick = func(_ []int32, _ []float32, gen []int32) int32 { return ids[min(len(gen), len(ids)-1)] }
	return ids[:len(ids)-1]
}

// post sends body as JSON and returns the response and its body.
func post(t *testing.T, url string, body any, header ...string) (*http.Response, []byte) {
	t.Helper()
	var b []byte
	switch v := body.(type) {
	case string:
		b = []byte(v)
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, out
}

// events splits a server-sent event stream into its data payloads; the
// last must be [DONE] for a complete stream.
func events(t *testing.T, body []byte) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("stream line %q is not data", line)
		}
		out = append(out, data)
	}
	return out
}

// streamed is a chat stream put back together.
type streamed struct {
	role, content, reasoning, finish string
	calls                            []respToolCall
	usage                            *usage
	done                             bool
}

func assemble(t *testing.T, body []byte) streamed {
	t.Helper()
	var s streamed
	for _, data := range events(t, body) {
		if data == "[DONE]" {
			s.done = true
			continue
		}
		if s.done {
			t.Fatal("data after [DONE]")
		}
		var c chatChunk
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			t.Fatalf("chunk %s: %v", data, err)
		}
		if c.Object != "chat.completion.chunk" {
			t.Fatalf("chunk object %q: %s", c.Object, data)
		}
		if c.Usage != nil {
			s.usage = c.Usage
		}
		for _, ch := range c.Choices {
			d := ch.Delta
			if d.Role != "" {
				s.role = d.Role
			}
			if d.Content != nil {
				s.content += *d.Content
			}
			if d.ReasoningContent != nil {
				s.reasoning += *d.ReasoningContent
			}
			for _, tc := range d.ToolCalls {
				for len(s.calls) <= tc.Index {
					s.calls = append(s.calls, respToolCall{})
				}
				c := &s.calls[tc.Index]
				if tc.ID != "" {
					c.ID, c.Type = tc.ID, tc.Type
				}
				c.Function.Name += tc.Function.Name
				c.Function.Arguments += tc.Function.Arguments
			}
			if ch.FinishReason != nil {
				s.finish = *ch.FinishReason
			}
		}
	}
	return s
}

func decodeResponse[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return v
}

func errorOf(t *testing.T, body []byte) apiError {
	t.Helper()
	var e struct {
		Error *apiError `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error == nil {
		t.Fatalf("not an error body: %s", body)
	}
	return *e.Error
}
