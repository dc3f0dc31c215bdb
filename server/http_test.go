package server

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/q3m/q3m/runtime"
)

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestDisconnectStopsGenerationAndFreesTheSlot(t *testing.T) {
	s, hs := testServer(t, EngineOptions{ContextLen: 1024, Parallel: 1}, Options{})
	var steps atomic.Int64
	s.eng.pick = func(_ []int32, _ []float32, gen []int32) int32 {
		steps.Add(1)
		time.Sleep(2 * time.Millisecond)
		return s.tok.Encode(" a")[0]
	}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, hs.URL+"/v1/chat/completions",
		strings.NewReader(`{"messages": [{"role": "user", "content": "go on forever"}], "stream": true}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(resp.Body)
	for range 3 { // a few events, then hang up
		if _, err := br.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	resp.Body.Close()
	waitFor(t, "the slot to be freed", func() bool { return s.eng.Stats().Busy == 0 })
	at := steps.Load()
	time.Sleep(50 * time.Millisecond)
	if n := steps.Load(); n != at || at > 900 {
		t.Errorf("generation went on after the disconnect: %d steps, then %d", at, n)
	}
	// The slot serves the next request.
	script(t, s, "next")
	_, body := post(t, hs.URL+"/v1/chat/completions", map[string]any{"messages": userMsg("hi"), "reasoning_effort": "none"})
	if c := decodeResponse[chatResponse](t, body).Choices[0]; *c.Message.Content != "next" {
		t.Errorf("next request: %s", body)
	}
}

// blockFirst makes the engine's first generation wait for release.
func blockFirst(s *Server) (started, release chan struct{}) {
	started, release = make(chan struct{}), make(chan struct{})
	var once sync.Once
	end, _ := s.tok.Lookup("<|im_end|>")
	s.eng.pick = func([]int32, []float32, []int32) int32 {
		once.Do(func() {
			close(started)
			<-release
		})
		return end
	}
	return started, release
}

func TestQueueFullIs503WithRetryAfter(t *testing.T) {
	s, hs := testServer(t, EngineOptions{ContextLen: 256, Parallel: 1, Queue: 1}, Options{})
	started, release := blockFirst(s)
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := post(t, hs.URL+"/v1/chat/completions", map[string]any{"messages": userMsg("x")})
			codes[i] = resp.StatusCode
		}()
		if i == 0 {
			<-started
		}
	}
	waitFor(t, "a queued request", func() bool { return s.eng.Stats().Queued == 1 })
	resp, body := post(t, hs.URL+"/v1/chat/completions", map[string]any{"messages": userMsg("x")})
	e := errorOf(t, body)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || e.Code == nil || *e.Code != "queue_full" {
		t.Errorf("third request: status %d, Retry-After %q, error %+v", resp.StatusCode, resp.Header.Get("Retry-After"), e)
	}
	close(release)
	wg.Wait()
	if codes[0] != 200 || codes[1] != 200 {
		t.Errorf("running and queued requests answered %v, want 200s", codes)
	}
	if st := s.eng.Stats(); st.Rejected != 1 || st.Requests != 2 {
		t.Errorf("stats %+v, want 2 requests and 1 rejected", st)
	}
}

func TestAPIKeyIsRequiredOnEveryEndpointButHealth(t *testing.T) {
	_, hs := testServer(t, EngineOptions{ContextLen: 256}, Options{APIKey: "sekret"})
	chat := `{"messages": [{"role": "user", "content": "x"}], "max_tokens": 1}`
	for _, ep := range []struct{ method, path, body string }{
		{"POST", "/v1/chat/completions", chat},
		{"POST", "/v1/completions", `{"prompt": "x", "max_tokens": 1}`},
		{"GET", "/v1/models", ""},
		{"POST", "/tokenize", `{"content": "x"}`},
		{"POST", "/detokenize", `{"tokens": [1]}`},
		{"GET", "/metrics", ""},
	} {
		for _, auth := range []string{"", "Bearer wrong", "sekret", "Bearer sekret"} {
			req, _ := http.NewRequest(ep.method, hs.URL+ep.path, strings.NewReader(ep.body))
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			want := 401
			if auth == "Bearer sekret" {
				want = 200
			}
			if resp.StatusCode != want {
				t.Errorf("%s %s with %q: status %d, want %d", ep.method, ep.path, auth, resp.StatusCode, want)
			}
		}
	}
	resp, err := http.Get(hs.URL + "/health")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("/health without a key: %v %v", resp, err)
	}
}

func TestBodyLargerThanTheLimitIs413(t *testing.T) {
	_, hs := testServer(t, EngineOptions{ContextLen: 256}, Options{MaxBodyBytes: 1000})
	resp, body := post(t, hs.URL+"/v1/chat/completions", `{"messages": [{"role": "user", "content": "`+strings.Repeat("x", 2000)+`"}]}`)
	if e := errorOf(t, body); resp.StatusCode != 413 || e.Type != "invalid_request_error" {
		t.Errorf("status %d, error %+v", resp.StatusCode, e)
	}
}

func TestBadRequestsAre400WithOpenAIErrors(t *testing.T) {
	_, hs := testServer(t, EngineOptions{ContextLen: 256}, Options{})
	for _, body := range []string{
		`{"messages": [{"role": "user", "content": "x"}`,
		`{"messages": [{"role": "narrator", "content": "x"}]}`,
		`{"messages": "hello"}`,
		`{"messages": [{"role": "user", "content": "x"}], "n": 3}`,
	} {
		resp, out := post(t, hs.URL+"/v1/chat/completions", body)
		if e := errorOf(t, out); resp.StatusCode != 400 || e.Type != "invalid_request_error" || e.Message == "" {
			t.Errorf("%s: status %d, %s", body, resp.StatusCode, out)
		}
	}
	resp, err := http.Get(hs.URL + "/v1/chat/completions")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if e := errorOf(t, buf.Bytes()); resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" || e.Type != "invalid_request_error" {
		t.Errorf("GET /v1/chat/completions: %d %s", resp.StatusCode, buf.Bytes())
	}
	resp, out := post(t, hs.URL+"/v1/completions", `{"prompt": [1, 2, 99999]}`)
	if e := errorOf(t, out); resp.StatusCode != 400 || e.Param == nil || *e.Param != "prompt" {
		t.Errorf("completion with an id outside the vocabulary: %d %s", resp.StatusCode, out)
	}
}

func TestRequestTimeoutIs504(t *testing.T) {
	s, hs := testServer(t, EngineOptions{ContextLen: 1024}, Options{Timeout: 50 * time.Millisecond})
	s.eng.pick = func([]int32, []float32, []int32) int32 {
		time.Sleep(5 * time.Millisecond)
		return s.tok.Encode(" a")[0]
	}
	resp, body := post(t, hs.URL+"/v1/chat/completions", map[string]any{"messages": userMsg("x")})
	if e := errorOf(t, body); resp.StatusCode != 504 || e.Code == nil || *e.Code != "timeout" {
		t.Errorf("status %d, %s", resp.StatusCode, body)
	}
}

func TestCompletionsMatchGreedyDecoding(t *testing.T) {
	s, hs := testServer(t, EngineOptions{ContextLen: 512}, Options{})
	prompt := s.tok.EncodeSpecial("the cat is")
	sess, err := s.eng.Model().NewSession(runtime.SessionOptions{ContextLen: 512, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	logits, err := sess.Eval(prompt, false)
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	dec := s.tok.NewDecoder()
	n := 0
	for ; n < 10; n++ {
		id := runtime.NewSampler(runtime.SamplerOptions{}).Sample(logits, nil) // greedy
		if containsID(s.stops, id) {
			break
		}
		if !s.tok.IsSpecial(id) {
			want.WriteString(dec.Add(id))
		}
		if logits, err = sess.Eval([]int32{id}, false); err != nil {
			t.Fatal(err)
		}
	}
	want.WriteString(dec.Flush())
	ids := make([]int, len(prompt))
	for i, id := range prompt {
		ids[i] = int(id)
	}
	for _, p := range []any{"the cat is", ids, []string{"the cat is"}} {
		for _, stream := range []bool{false, true} {
			_, body := post(t, hs.URL+"/v1/completions", map[string]any{"prompt": p, "max_tokens": 10, "temperature": 0, "stream": stream})
			var text string
			if stream {
				evs := events(t, body)
				if evs[len(evs)-1] != "[DONE]" {
					t.Fatalf("stream does not end in [DONE]: %s", body)
				}
				for _, ev := range evs[:len(evs)-1] {
					text += decodeResponse[completionResponse](t, []byte(ev)).Choices[0].Text
				}
			} else {
				r := decodeResponse[completionResponse](t, body)
				text = r.Choices[0].Text
				if r.Object != "text_completion" || r.Usage.PromptTokens != len(prompt) || r.Usage.CompletionTokens != n {
					t.Errorf("response %s, want %d prompt and %d completion tokens", body, len(prompt), n)
				}
			}
			if text != want.String() {
				t.Errorf("prompt %v stream %v: %q, greedy decoding gives %q", p, stream, text, want.String())
			}
		}
	}
}

func TestModelsTokenizeDetokenizeHealth(t *testing.T) {
	s, hs := testServer(t, EngineOptions{ContextLen: 256}, Options{ModelName: "tiny-test"})
	resp, err := http.Get(hs.URL + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	resp.Body.Close()
	m := decodeResponse[struct {
		Object string `json:"object"`
		Data   []struct {
			ID, Object string
		} `json:"data"`
	}](t, buf.Bytes())
	if m.Object != "list" || len(m.Data) != 1 || m.Data[0].ID != "tiny-test" || m.Data[0].Object != "model" {
		t.Errorf("models %s", buf.Bytes())
	}

	text := "the <|im_start|> hat"
	_, body := post(t, hs.URL+"/tokenize", map[string]any{"content": text})
	tk := decodeResponse[struct{ Tokens []int32 }](t, body)
	if want := s.tok.EncodeSpecial(text); !equalIDs(tk.Tokens, want) {
		t.Errorf("tokenize %v, want %v", tk.Tokens, want)
	}
	_, body = post(t, hs.URL+"/tokenize", map[string]any{"content": text, "parse_special": false})
	if plain := decodeResponse[struct{ Tokens []int32 }](t, body); !equalIDs(plain.Tokens, s.tok.Encode(text)) {
		t.Errorf("tokenize without specials %v", plain.Tokens)
	}
	_, body = post(t, hs.URL+"/detokenize", map[string]any{"tokens": tk.Tokens})
	if d := decodeResponse[struct{ Content string }](t, body); d.Content != text {
		t.Errorf("detokenize %q, want %q", d.Content, text)
	}
	resp, err = http.Get(hs.URL + "/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health: %v %v", resp, err)
	}
	resp.Body.Close()
}

func equalIDs(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestMetricsCountRequestsAndTokens(t *testing.T) {
	s, hs := testServer(t, EngineOptions{ContextLen: 256, Parallel: 2}, Options{})
	answer := script(t, s, "four words right here")
	_, body := post(t, hs.URL+"/v1/chat/completions", map[string]any{"messages": userMsg("x"), "reasoning_effort": "none"})
	r := decodeResponse[chatResponse](t, body)
	resp, err := http.Get(hs.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	resp.Body.Close()
	out := buf.String()
	for _, want := range []string{
		`q3m_requests_total{endpoint="/v1/chat/completions"} 1`,
		"q3m_generated_tokens_total " + strconv.Itoa(len(answer)),
		"q3m_prompt_tokens_total " + strconv.Itoa(r.Usage.PromptTokens),
		"q3m_slots 2", "q3m_requests_queued 0", "q3m_requests_processing 0",
		"# TYPE q3m_batch_steps_total counter",
		"# TYPE q3m_pager_hits_total counter",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("metrics lack %q:\n%s", want, out)
		}
	}
}
