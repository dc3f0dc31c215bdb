package server

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/q3m/q3m/tokenizer"
)

func coderTemplate(t testing.TB) *tokenizer.Template {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "testdata", "templates", "qwen3-coder.jinja"))
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := tokenizer.ParseTemplate(string(src))
	if err != nil || tmpl.Name() != tokenizer.TemplateQwen3Coder {
		t.Fatalf("qwen3-coder.jinja: %v", err)
	}
	return tmpl
}

// chatCalls posts req and returns the answer's content, tool calls and
// finish reason, streamed or not.
func chatCalls(t *testing.T, url string, req map[string]any) (string, []respToolCall, string) {
	t.Helper()
	resp, body := post(t, url+"/v1/chat/completions", req)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if req["stream"] == true {
		st := assemble(t, body)
		if !st.done {
			t.Fatalf("stream without [DONE]: %s", body)
		}
		return st.content, st.calls, st.finish
	}
	c := decodeResponse[chatResponse](t, body).Choices[0]
	content := ""
	if c.Message.Content != nil {
		content = *c.Message.Content
	}
	return content, c.Message.ToolCalls, c.FinishReason
}

func TestCoderChatReturnsTheTemplatesToolCalls(t *testing.T) {
	s, hs := testServer(t, EngineOptions{ContextLen: 2048}, Options{Template: coderTemplate(t)})
	g, _ := loadCoderGoldens(t)
	var tools []any
	for _, raw := range g.Tools {
		tools = append(tools, json.RawMessage(raw))
	}
	if testing.Short() {
		// The race run: the template's tool prompt is 1,700 tokens here,
		// minutes of decoding under the race detector; the parser's tests
		// read the same goldens.
		t.Skip("a 1,700-token prompt per request")
	}
	for _, tc := range g.Cases {
		for _, stream := range []bool{false, true} {
			script(t, s, tc.Output)
			content, calls, finish := chatCalls(t, hs.URL, map[string]any{"messages": userMsg("go"), "tools": tools, "stream": stream})
			if content != tc.Content || finish != "tool_calls" || len(calls) != len(tc.Calls) {
				t.Fatalf("%s stream %v: content %q finish %q calls %+v", tc.Name, stream, content, finish, calls)
			}
			for i, c := range calls {
				var args map[string]any
				if err := json.Unmarshal([]byte(c.Function.Arguments), &args); err != nil || c.Function.Name != tc.Calls[i].Name ||
					!reflect.DeepEqual(args, tc.Calls[i].Arguments) || c.Type != "function" || !strings.HasPrefix(c.ID, "call_") {
					t.Fatalf("%s stream %v: call %d %+v, want %+v", tc.Name, stream, i, c, tc.Calls[i])
				}
			}
		}
	}
}

func TestCoderChatForcedCallsAreValidForTheSchema(t *testing.T) {
	_, hs := testServer(t, EngineOptions{ContextLen: 2048}, Options{Template: coderTemplate(t)})
	tools := []any{
		map[string]any{"type": "function", "function": map[string]any{"name": "get_weather", "parameters": map[string]any{
			"type": "object", "properties": map[string]any{
				"city":   map[string]any{"type": "string"},
				"days":   map[string]any{"type": "integer"},
				"metric": map[string]any{"type": "boolean"}},
			"required": []any{"city", "days"}}}},
		map[string]any{"type": "function", "function": map[string]any{"name": "set_alarm", "parameters": map[string]any{
			"type": "object", "properties": map[string]any{"at": map[string]any{"type": "array", "items": map[string]any{"type": "integer"}, "maxItems": 3}},
			"required": []any{"at"}}}},
	}
	check := func(name, args string) error {
		dec := json.NewDecoder(strings.NewReader(args))
		dec.UseNumber()
		var v map[string]any
		if err := dec.Decode(&v); err != nil {
			return err
		}
		switch name {
		case "get_weather":
			_, ok := v["city"].(string)
			days, ok2 := v["days"].(json.Number)
			_, err := days.Int64()
			m, hasM := v["metric"]
			_, okM := m.(bool)
			if !ok || !ok2 || err != nil || hasM && !okM || len(v) > 3 {
				return fmt.Errorf("arguments %v", v)
			}
		case "set_alarm":
			at, ok := v["at"].([]any)
			if !ok || len(at) > 3 || len(v) != 1 {
				return fmt.Errorf("arguments %v", v)
			}
			for _, x := range at {
				if n, ok := x.(json.Number); !ok || strings.ContainsAny(string(n), ".eE") {
					return fmt.Errorf("arguments %v", v)
				}
			}
		default:
			return fmt.Errorf("name %q", name)
		}
		return nil
	}
	named := map[string]any{"type": "function", "function": map[string]any{"name": "get_weather"}}
	// The shortest get_weather call after the forced opening is 100 bytes
	// (name, city empty, days 0, the closing tags).
	budgets, seeds := []int{100, 160}, 2
	if testing.Short() {
		budgets, seeds = budgets[:1], 1 // the race run: the tightest budget
	}
	for _, choice := range []any{"required", named} {
		for _, maxTokens := range budgets {
			for seed := range seeds {
				for _, stream := range []bool{false, true} {
					if testing.Short() && stream == (choice == "required") {
						continue // the race run: required whole, the named call streamed
					}
					_, calls, finish := chatCalls(t, hs.URL, map[string]any{"messages": userMsg("do it"), "tools": tools, "tool_choice": choice,
						"max_tokens": maxTokens, "seed": seed, "temperature": 1.5, "stream": stream})
					if len(calls) != 1 || finish != "tool_calls" {
						t.Fatalf("%v max_tokens %d seed %d: finish %q calls %+v", choice, maxTokens, seed, finish, calls)
					}
					if err := check(calls[0].Function.Name, calls[0].Function.Arguments); err != nil {
						t.Fatalf("%v max_tokens %d seed %d stream %v: %v", choice, maxTokens, seed, stream, err)
					}
					if choice != "required" && calls[0].Function.Name != "get_weather" {
						t.Fatalf("named choice called %q", calls[0].Function.Name)
					}
				}
			}
		}
	}
}

func TestCoderPromptRendersEarlierCallsAndForcedOpenings(t *testing.T) {
	s, _ := testServer(t, EngineOptions{ContextLen: 2048}, Options{Template: coderTemplate(t)})
	tools := `[{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object",
		"properties": {"city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city"]}}}]`
	history := `[{"role": "user", "content": "weather?"},
		{"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
			"function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\", \"days\": 2}"}}]},
		{"role": "tool", "tool_call_id": "call_1", "content": "sunny"}]`
	for _, tc := range []struct {
		choice, end string
	}{
		{`"auto"`, "<|im_start|>assistant\n"},
		{`"required"`, "<|im_start|>assistant\n<tool_call>\n<function="},
		{`{"type": "function", "function": {"name": "get_weather"}}`, "<|im_start|>assistant\n<tool_call>\n<function=get_weather>\n"},
	} {
		r, e := decodeChatRequest([]byte(`{"messages": ` + history + `, "tools": ` + tools + `, "tool_choice": ` + tc.choice + `}`))
		if e != nil {
			t.Fatal(e)
		}
		j, e := s.chatJob(r)
		if e != nil {
			t.Fatal(e)
		}
		text := s.tok.Decode(j.req.Prompt)
		call := "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n<parameter=days>\n2\n</parameter>\n</function>\n</tool_call>"
		if !strings.Contains(text, call) || !strings.Contains(text, "<tool_response>\nsunny\n</tool_response>") || !strings.HasSuffix(text, tc.end) {
			t.Errorf("tool_choice %s: prompt %q", tc.choice, text)
		}
		if j.xml == nil || (j.req.Constraint != nil) != (tc.choice != `"auto"`) {
			t.Errorf("tool_choice %s: xml %v, constraint %v", tc.choice, j.xml != nil, j.req.Constraint != nil)
		}
	}
}
