package server

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/q3m/q3m/runtime"
	"github.com/q3m/q3m/tokenizer"
)

func userMsg(text string) []map[string]any {
	return []map[string]any{{"role": "user", "content": text}}
}

// referenceChat generates from the prompt of msgs directly on a runtime
// Session with a Sampler, as an independent check of the server's plumbing.
func referenceChat(t *testing.T, s *Server, msgs []tokenizer.Message, thinking bool, o runtime.SamplerOptions, n int) (prompt, gen []int32) {
	t.Helper()
	prompt, _, err := s.enc.Encode(msgs, tokenizer.ChatOptions{AddGenerationPrompt: true, EnableThinking: &thinking})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := s.eng.Model().NewSession(runtime.SessionOptions{ContextLen: 512, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	logits, err := sess.Eval(prompt, false)
	if err != nil {
		t.Fatal(err)
	}
	sm := runtime.NewSampler(o)
	for len(gen) < n {
		id := sm.Sample(logits, gen)
		if slices.Contains(s.stops, id) {
			break
		}
		gen = append(gen, id)
		if logits, err = sess.Eval([]int32{id}, false); err != nil {
			t.Fatal(err)
		}
	}
	return prompt, gen
}

// textOf runs generated ids through the output parser as the server does.
func textOf(s *Server, gen []int32, tools bool) parsed {
	p := newOutputParser(tools, nil, false, "")
	dec := s.tok.NewDecoder()
	var pieces []string
	for _, id := range gen {
		if !s.tok.IsSpecial(id) {
			pieces = append(pieces, dec.Add(id))
		}
	}
	return parseAll(p, append(pieces, dec.Flush()))
}

func TestChatAnswersLikeTheLibraryStreamedOrNot(t *testing.T) {
	s, hs := testServer(t, EngineOptions{ContextLen: 512}, Options{})
	// No sampling fields: Qwen3's non-thinking recommendation (0.7, 0.8, 20).
	want := runtime.DefaultSampling(false)
	want.Seed = 42
	_, gen := referenceChat(t, s, []tokenizer.Message{{Role: "user", Content: "hello"}}, false, want, 12)
	ref := textOf(s, gen, false)

	req := map[string]any{"messages": userMsg("hello"), "max_tokens": 12, "seed": 42,
		"chat_template_kwargs": map[string]any{"enable_thinking": false}}
	resp, body := post(t, hs.URL+"/v1/chat/completions", req)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	r := decodeResponse[chatResponse](t, body)
	if r.Object != "chat.completion" || len(r.Choices) != 1 || r.Choices[0].Message.Role != "assistant" {
		t.Fatalf("response %s", body)
	}
	c := r.Choices[0]
	content := ""
	if c.Message.Content != nil {
		content = *c.Message.Content
	}
	wantFinish := "stop"
	if len(gen) == 12 {
		wantFinish = "length"
	}
	if content != ref.content || c.Message.ReasoningContent != ref.reasoning || c.FinishReason != wantFinish {
		t.Errorf("answer %q (reasoning %q, %s), the library's %q (reasoning %q, %s)",
			content, c.Message.ReasoningContent, c.FinishReason, ref.content, ref.reasoning, wantFinish)
	}
	if r.Usage.CompletionTokens != len(gen) || r.Usage.TotalTokens != r.Usage.PromptTokens+len(gen) {
		t.Errorf("usage %+v, want %d completion tokens", *r.Usage, len(gen))
	}

	req["stream"] = true
	req["stream_options"] = map[string]any{"include_usage": true}
	resp, body = post(t, hs.URL+"/v1/chat/completions", req)
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, ct)
	}
	st := assemble(t, body)
	if !st.done || st.role != "assistant" || st.content != content || st.reasoning != c.Message.ReasoningContent || st.finish != c.FinishReason {
		t.Errorf("stream %+v, non-streamed %q / %s", st, content, c.FinishReason)
	}
	if st.usage == nil || st.usage.CompletionTokens != len(gen) || st.usage.PromptTokens != r.Usage.PromptTokens {
		t.Errorf("stream usage %+v, want %+v", st.usage, r.Usage)
	}
	// The same prompt again: all but its last token come from the slot's cache.
	if st.usage == nil || st.usage.PromptDetails.CachedTokens != r.Usage.PromptTokens-1 {
		t.Errorf("cached tokens %+v, want %d", st.usage, r.Usage.PromptTokens-1)
	}
}

func TestChatSeparatesReasoningAndParsesToolCalls(t *testing.T) {
	s, hs := testServer(t, EngineOptions{ContextLen: 1024}, Options{})
	script(t, s, "<think>\nthe user wants weather\n</think>\n\nLet me check.\n<tool_call>\n"+
		`{"name": "get_weather", "arguments": {"city": "Paris", "unit": "c"}}`+"\n</tool_call>")
	tools := []any{map[string]any{"type": "function", "function": map[string]any{
		"name": "get_weather", "parameters": map[string]any{"type": "object",
			"properties": map[string]any{"city": map[string]any{"type": "string"}}}}}}
	req := map[string]any{"messages": userMsg("weather in Paris?"), "tools": tools}
	resp, body := post(t, hs.URL+"/v1/chat/completions", req)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	c := decodeResponse[chatResponse](t, body).Choices[0]
	if c.FinishReason != "tool_calls" || c.Message.ReasoningContent != "the user wants weather" ||
		c.Message.Content == nil || *c.Message.Content != "Let me check." {
		t.Fatalf("choice %s", body)
	}
	check := func(calls []respToolCall) {
		t.Helper()
		if len(calls) != 1 || calls[0].Type != "function" || calls[0].Function.Name != "get_weather" || !strings.HasPrefix(calls[0].ID, "call_") {
			t.Fatalf("tool calls %+v", calls)
		}
		var args map[string]string
		if err := json.Unmarshal([]byte(calls[0].Function.Arguments), &args); err != nil || args["city"] != "Paris" || args["unit"] != "c" {
			t.Errorf("arguments %q: %v", calls[0].Function.Arguments, err)
		}
	}
	check(c.Message.ToolCalls)

	req["stream"] = true
	_, body = post(t, hs.URL+"/v1/chat/completions", req)
	st := assemble(t, body)
	if st.finish != "tool_calls" || st.reasoning != "the user wants weather" || st.content != "Let me check." {
		t.Errorf("stream %+v", st)
	}
	check(st.calls)
	if strings.Contains(string(body), "<think>") || strings.Contains(string(body), "<tool_call>") {
		t.Errorf("markup leaked into the stream: %s", body)
	}
	// The arguments stream as they are generated, in several deltas.
	if n := strings.Count(string(body), `"tool_calls":[{"index":0,"function":{"arguments":`); n < 3 {
		t.Errorf("arguments came in %d deltas, want them as generated", n)
	}

	// tool_choice none: the same output is plain text.
	req["stream"], req["tool_choice"] = false, "none"
	_, body = post(t, hs.URL+"/v1/chat/completions", req)
	c = decodeResponse[chatResponse](t, body).Choices[0]
	if c.FinishReason != "stop" || len(c.Message.ToolCalls) != 0 || !strings.Contains(*c.Message.Content, "<tool_call>") {
		t.Errorf("tool_choice none: %s", body)
	}
}

func TestChatNamedToolChoiceOpensTheCallInThePrompt(t *testing.T) {
	s, hs := testServer(t, EngineOptions{ContextLen: 1024}, Options{})
	var prompt []int32
	answer := s.tok.EncodeSpecial(`{"city": "Oslo"}}` + "\n</tool_call>")
	end, _ := s.tok.Lookup("<|im_end|>")
	answer = append(answer, end)
	s.eng.pick = func(p []int32, _ []float32, gen []int32) int32 {
		prompt = p
		return answer[min(len(gen), len(answer)-1)]
	}
	req := map[string]any{"messages": userMsg("weather?"),
		"tools": []any{map[string]any{"type": "function", "function": map[string]any{"name": "get_weather",
			"parameters": map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}}}}},
		"tool_choice": map[string]any{"type": "function", "function": map[string]any{"name": "get_weather"}}}
	_, body := post(t, hs.URL+"/v1/chat/completions", req)
	c := decodeResponse[chatResponse](t, body).Choices[0]
	if c.FinishReason != "tool_calls" || len(c.Message.ToolCalls) != 1 || c.Message.ToolCalls[0].Function.Arguments != `{"city": "Oslo"}` {
		t.Fatalf("choice %s", body)
	}
	text := s.tok.Decode(prompt)
	if want := "<|im_start|>assistant\n<think>\n\n</think>\n\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "; !strings.HasSuffix(text, want) {
		t.Errorf("prompt ends %q, want the opened call %q", text[max(0, len(text)-120):], want)
	}
}

func TestChatThinkingSwitchesAndSamplingDefaults(t *testing.T) {
	s, _ := testServer(t, EngineOptions{ContextLen: 512}, Options{})
	temp := 0.3
	s2, _ := testServer(t, EngineOptions{ContextLen: 512}, Options{Sampling: SamplingDefaults{Temperature: &temp}})
	for _, tc := range []struct {
		name   string
		srv    *Server
		body   string
		think  bool
		want   runtime.SamplerOptions
		wantFP float32
	}{
		{"default thinks", s, `{"messages": [{"role": "user", "content": "a"}]}`, true, runtime.DefaultSampling(true), 0},
		{"enable_thinking false", s, `{"messages": [{"role": "user", "content": "a"}], "chat_template_kwargs": {"enable_thinking": false}}`,
			false, runtime.DefaultSampling(false), 0},
		{"reasoning_effort none", s, `{"messages": [{"role": "user", "content": "a"}], "reasoning_effort": "none"}`, false, runtime.DefaultSampling(false), 0},
		{"reasoning_effort high", s, `{"messages": [{"role": "user", "content": "a"}], "reasoning_effort": "high"}`, true, runtime.DefaultSampling(true), 0},
		{"request fields win", s, `{"messages": [{"role": "user", "content": "a"}], "temperature": 0, "top_k": 5, "min_p": 0.1, "presence_penalty": 1, "frequency_penalty": 0.5, "repetition_penalty": 1.1}`,
			true, runtime.SamplerOptions{Temperature: 0, TopP: 0.95, TopK: 5, MinP: 0.1, PresencePenalty: 1, RepetitionPenalty: 1.1}, 0.5},
		{"server default below request", s2, `{"messages": [{"role": "user", "content": "a"}], "top_p": 0.5}`,
			true, runtime.SamplerOptions{Temperature: 0.3, TopP: 0.5, TopK: 20, RepetitionPenalty: 1}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, e := decodeChatRequest([]byte(tc.body))
			if e != nil {
				t.Fatal(e)
			}
			j, e := tc.srv.chatJob(r)
			if e != nil {
				t.Fatal(e)
			}
			text := tc.srv.tok.Decode(j.req.Prompt)
			emptyThink := strings.HasSuffix(text, "<|im_start|>assistant\n<think>\n\n</think>\n\n")
			if emptyThink == tc.think {
				t.Errorf("thinking %v, but the prompt ends %q", tc.think, text[max(0, len(text)-40):])
			}
			got := j.req.Sampling
			got.Seed = 0
			if got != tc.want || j.req.FrequencyPenalty != tc.wantFP {
				t.Errorf("sampling %+v (frequency %g), want %+v (%g)", got, j.req.FrequencyPenalty, tc.want, tc.wantFP)
			}
		})
	}
}

func TestChatStopStringEndsTheAnswerUnsent(t *testing.T) {
	s, hs := testServer(t, EngineOptions{ContextLen: 512}, Options{})
	ids := script(t, s, "one two three. END and more text that is never generated")
	for _, stream := range []bool{false, true} {
		req := map[string]any{"messages": userMsg("count"), "stop": []string{"END", "zzz"}, "stream": stream,
			"stream_options": map[string]any{"include_usage": true}, "chat_template_kwargs": map[string]any{"enable_thinking": false}}
		_, body := post(t, hs.URL+"/v1/chat/completions", req)
		var content, finish string
		var u *usage
		if stream {
			st := assemble(t, body)
			content, finish, u = st.content, st.finish, st.usage
		} else {
			r := decodeResponse[chatResponse](t, body)
			content, finish, u = *r.Choices[0].Message.Content, r.Choices[0].FinishReason, r.Usage
		}
		if content != "one two three. " || finish != "stop" || strings.Contains(string(body), "END") {
			t.Errorf("stream %v: content %q finish %s, body %s", stream, content, finish, body)
		}
		if u == nil || u.CompletionTokens >= len(ids) {
			t.Errorf("stream %v: usage %+v: generation went on past the stop (script %d tokens)", stream, u, len(ids))
		}
	}
}

func TestChatExtendingAConversationReusesItsPrefix(t *testing.T) {
	s, hs := testServer(t, EngineOptions{ContextLen: 512, Parallel: 2}, Options{})
	answer := script(t, s, "hi there")
	off := map[string]any{"enable_thinking": false}
	_, body := post(t, hs.URL+"/v1/chat/completions", map[string]any{"messages": userMsg("hello"), "chat_template_kwargs": off})
	r1 := decodeResponse[chatResponse](t, body)
	if r1.Usage.PromptDetails.CachedTokens != 0 {
		t.Fatalf("first request cached %d tokens", r1.Usage.PromptDetails.CachedTokens)
	}
	msgs := []map[string]any{{"role": "user", "content": "hello"},
		{"role": "assistant", "content": *r1.Choices[0].Message.Content}, {"role": "user", "content": "more"}}
	_, body = post(t, hs.URL+"/v1/chat/completions", map[string]any{"messages": msgs, "chat_template_kwargs": off})
	r2 := decodeResponse[chatResponse](t, body)

	thinking := false
	opt := tokenizer.ChatOptions{AddGenerationPrompt: true, EnableThinking: &thinking}
	ids1, _, _ := s.enc.Encode([]tokenizer.Message{{Role: "user", Content: "hello"}}, opt)
	ids2, _, _ := s.enc.Encode([]tokenizer.Message{{Role: "user", Content: "hello"}, {Role: "assistant", Content: "hi there"}, {Role: "user", Content: "more"}}, opt)
	want := commonPrefix(append(ids1, answer...), ids2)
	if got := r2.Usage.PromptDetails.CachedTokens; got != want || want == 0 {
		t.Errorf("second request reused %d tokens, want %d (the prompt has %d)", got, want, r2.Usage.PromptTokens)
	}
}

func TestChatPromptLongerThanContextIs400(t *testing.T) {
	_, hs := testServer(t, EngineOptions{ContextLen: 64}, Options{})
	resp, body := post(t, hs.URL+"/v1/chat/completions", map[string]any{"messages": userMsg(strings.Repeat("word ", 100))})
	e := errorOf(t, body)
	if resp.StatusCode != 400 || e.Code == nil || *e.Code != "context_length_exceeded" {
		t.Errorf("status %d, error %+v", resp.StatusCode, e)
	}
}

func TestSlotsKeepTheirOwnConversations(t *testing.T) {
	s, hs := testServer(t, EngineOptions{ContextLen: 512, Parallel: 2}, Options{})
	answer := script(t, s, "fine")
	thinking := false
	opt := tokenizer.ChatOptions{AddGenerationPrompt: true, EnableThinking: &thinking}
	off := map[string]any{"enable_thinking": false}
	first := map[string]string{"A": "hello there", "B": "what is the time"}
	for _, name := range []string{"A", "B"} {
		_, body := post(t, hs.URL+"/v1/chat/completions", map[string]any{"messages": userMsg(first[name]), "chat_template_kwargs": off})
		if r := decodeResponse[chatResponse](t, body); r.Usage.PromptDetails.CachedTokens != 0 {
			t.Errorf("conversation %s started with %d cached tokens, want a fresh slot", name, r.Usage.PromptDetails.CachedTokens)
		}
	}
	// Each conversation goes on in the slot that holds it.
	for _, name := range []string{"A", "B"} {
		msgs := []tokenizer.Message{{Role: "user", Content: first[name]}, {Role: "assistant", Content: "fine"}, {Role: "user", Content: "and?"}}
		_, body := post(t, hs.URL+"/v1/chat/completions", map[string]any{"messages": []map[string]any{
			{"role": "user", "content": first[name]}, {"role": "assistant", "content": "fine"}, {"role": "user", "content": "and?"}},
			"chat_template_kwargs": off})
		ids1, _, _ := s.enc.Encode(msgs[:1], opt)
		ids2, _, _ := s.enc.Encode(msgs, opt)
		want := commonPrefix(append(ids1, answer...), ids2)
		if got := decodeResponse[chatResponse](t, body).Usage.PromptDetails.CachedTokens; got != want {
			t.Errorf("conversation %s: %d cached tokens, want %d", name, got, want)
		}
	}
}
