package server

import (
	"net/http"
	"strings"
	"testing"
)

// Request fields of issue 9 whose other tests check only how they are
// decoded: here they are checked on what the server answers.

func TestMaxCompletionTokensCapsTheAnswer(t *testing.T) {
	s, hs := testServer(t, EngineOptions{ContextLen: 512}, Options{})
	script(t, s, "one two three four five six seven eight nine ten eleven twelve")
	for _, tc := range []struct {
		name string
		req  map[string]any
		want int
	}{
		{"max_completion_tokens", map[string]any{"max_completion_tokens": 3}, 3},
		{"max_tokens", map[string]any{"max_tokens": 4}, 4},
		{"max_completion_tokens wins over max_tokens", map[string]any{"max_tokens": 9, "max_completion_tokens": 2}, 2},
	} {
		for _, stream := range []bool{false, true} {
			req := map[string]any{"messages": userMsg("go on"), "seed": 1, "temperature": 1, "stream": stream,
				"chat_template_kwargs": map[string]any{"enable_thinking": false}}
			for k, v := range tc.req {
				req[k] = v
			}
			if stream {
				req["stream_options"] = map[string]any{"include_usage": true}
			}
			resp, body := post(t, hs.URL+"/v1/chat/completions", req)
			if resp.StatusCode != 200 {
				t.Fatalf("%s: status %d: %s", tc.name, resp.StatusCode, body)
			}
			var u *usage
			var finish string
			if stream {
				st := assemble(t, body)
				u, finish = st.usage, st.finish
			} else {
				r := decodeResponse[chatResponse](t, body)
				u, finish = r.Usage, r.Choices[0].FinishReason
			}
			if u == nil || u.CompletionTokens != tc.want || finish != "length" {
				t.Errorf("%s stream %v: usage %+v finish %q, want %d tokens", tc.name, stream, u, finish, tc.want)
			}
		}
	}
}

func TestCompletionPromptLongerThanContextIs400(t *testing.T) {
	_, hs := testServer(t, EngineOptions{ContextLen: 64}, Options{})
	for _, prompt := range []any{strings.Repeat("word ", 100), make([]int, 64)} {
		resp, body := post(t, hs.URL+"/v1/completions", map[string]any{"prompt": prompt})
		e := errorOf(t, body)
		if resp.StatusCode != 400 || e.Code == nil || *e.Code != "context_length_exceeded" {
			t.Errorf("status %d, error %+v", resp.StatusCode, e)
		}
	}
}

func TestWithoutTheKeyEveryPathButHealthIs401(t *testing.T) {
	_, hs := testServer(t, EngineOptions{ContextLen: 256}, Options{APIKey: "sekret"})
	for _, ep := range []struct{ method, path string }{
		{"GET", "/v1/chat/completions"}, // a wrong method
		{"DELETE", "/v1/models"},
		{"GET", "/v1/embeddings"}, // no such endpoint
		{"POST", "/v1/"},
		{"GET", "/"},
	} {
		req, _ := http.NewRequest(ep.method, hs.URL+ep.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != "Bearer" {
			t.Errorf("%s %s without the key: status %d, want 401", ep.method, ep.path, resp.StatusCode)
		}
		req.Header.Set("Authorization", "Bearer sekret")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 401 {
			t.Errorf("%s %s with the key: 401", ep.method, ep.path)
		}
	}
}
