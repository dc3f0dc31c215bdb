package server

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/q3m/q3m/tokenizer"
)

func TestDecodeChatRequestRejectsBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, body, param, msg string
	}{
		{"not JSON", `{"messages": [`, "", "invalid"},
		{"invalid UTF-8", "{\"messages\": [{\"role\": \"user\", \"content\": \"a\xff\"}]}", "", "invalid UTF-8 at byte 44"},
		{"lone surrogate", `{"messages": [{"role": "user", "content": "\ud800"}]}`, "", `lone high surrogate \ud800`},
		{"two values", `{"messages": [{"role": "user", "content": "a"}]} {}`, "", "more than one"},
		{"no messages", `{"model": "x"}`, "messages", "non-empty"},
		{"unknown role", `{"messages": [{"role": "wizard", "content": "a"}]}`, "messages[0].role", "unknown role"},
		{"missing role", `{"messages": [{"content": "a"}]}`, "messages[0].role", "missing"},
		{"content a number", `{"messages": [{"role": "user", "content": 5}]}`, "", "content must be"},
		{"image part", `{"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}`, "", "only text parts"},
		{"null user content", `{"messages": [{"role": "user", "content": null}]}`, "messages[0].content", "needs content"},
		{"temperature a string", `{"messages": [{"role": "user", "content": "a"}], "temperature": "hot"}`, "temperature", "expected a number"},
		{"temperature too high", `{"messages": [{"role": "user", "content": "a"}], "temperature": 3}`, "temperature", "[0, 2]"},
		{"top_p above 1", `{"messages": [{"role": "user", "content": "a"}], "top_p": 1.5}`, "top_p", "[0, 1]"},
		{"messages an object", `{"messages": {"role": "user"}}`, "messages", "expected an array"},
		{"n of 2", `{"messages": [{"role": "user", "content": "a"}], "n": 2}`, "n", "n must be 1"},
		{"max_tokens 0", `{"messages": [{"role": "user", "content": "a"}], "max_tokens": 0}`, "max_tokens", "at least 1"},
		{"stop a number", `{"messages": [{"role": "user", "content": "a"}], "stop": 3}`, "", "stop must be"},
		{"empty stop", `{"messages": [{"role": "user", "content": "a"}], "stop": [""]}`, "stop", "1 to"},
		{"tool without function", `{"messages": [{"role": "user", "content": "a"}], "tools": [{"type": "function"}]}`, "", "a tool must be"},
		{"tool_choice unknown", `{"messages": [{"role": "user", "content": "a"}], "tool_choice": "always", "tools": [{"type": "function", "function": {"name": "f"}}]}`, "tool_choice", "must be auto"},
		{"required without tools", `{"messages": [{"role": "user", "content": "a"}], "tool_choice": "required"}`, "tool_choice", "needs tools"},
		{"named tool missing", `{"messages": [{"role": "user", "content": "a"}], "tool_choice": {"type": "function", "function": {"name": "g"}}, "tools": [{"type": "function", "function": {"name": "f"}}]}`, "tool_choice", "not among"},
		{"assistant call without name", `{"messages": [{"role": "assistant", "tool_calls": [{"type": "function", "function": {"arguments": "{}"}}]}]}`, "messages[0].tool_calls[0].function.name", "tool call name"},
		{"json_schema without schema object", `{"messages": [{"role": "user", "content": "a"}], "response_format": {"type": "json_schema"}}`, "response_format.json_schema", "needs a json_schema"},
		{"json_schema unsupported keyword", `{"messages": [{"role": "user", "content": "a"}], "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object", "properties": {"d": {"type": "string", "pattern": "^a"}}}}}}`, "response_format.json_schema.schema", `#/properties/d: keyword "pattern" is not supported`},
		{"json_schema without name", `{"messages": [{"role": "user", "content": "a"}], "response_format": {"type": "json_schema", "json_schema": {"schema": {"type": "object"}}}}`, "response_format.json_schema.name", "1 to 64"},
		{"response_format unknown type", `{"messages": [{"role": "user", "content": "a"}], "response_format": {"type": "yaml"}}`, "response_format.type", "got \"yaml\""},
		{"bad reasoning_effort", `{"messages": [{"role": "user", "content": "a"}], "reasoning_effort": "max"}`, "reasoning_effort", "must be"},
		{"enable_thinking a string", `{"messages": [{"role": "user", "content": "a"}], "chat_template_kwargs": {"enable_thinking": "no"}}`, "chat_template_kwargs.enable_thinking", "expected a boolean"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, e := decodeChatRequest([]byte(tc.body))
			if e == nil {
				t.Fatal("accepted")
			}
			if e.Status != 400 || e.Type != "invalid_request_error" {
				t.Errorf("status %d type %q, want 400 invalid_request_error", e.Status, e.Type)
			}
			param := ""
			if e.Param != nil {
				param = *e.Param
			}
			if param != tc.param || !strings.Contains(e.Message, tc.msg) {
				t.Errorf("param %q message %q, want param %q and a message with %q", param, e.Message, tc.param, tc.msg)
			}
		})
	}
}

func TestDecodeChatRequestReadsOpenAIShapes(t *testing.T) {
	body := `{"model": "m", "messages": [
		{"role": "developer", "content": [{"type": "text", "text": "be brief"}, {"type": "text", "text": "really"}]},
		{"role": "user", "content": "weather?"},
		{"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
			"function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
		{"role": "tool", "tool_call_id": "call_1", "content": "sunny"}],
		"stop": "\n\n", "max_completion_tokens": 7, "reasoning_effort": "none",
		"tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
		"tool_choice": {"type": "function", "function": {"name": "get_weather"}}}`
	r, e := decodeChatRequest([]byte(body))
	if e != nil {
		t.Fatal(e)
	}
	if r.thinking() || *r.MaxTokens != 7 || len(r.Stop) != 1 || r.Stop[0] != "\n\n" {
		t.Errorf("thinking %v max tokens %d stop %q", r.thinking(), *r.MaxTokens, r.Stop)
	}
	if c, _ := r.toolChoice(); c.kind != toolNamed || c.name != "get_weather" {
		t.Errorf("tool choice %+v", c)
	}
	msgs := r.messages()
	if msgs[0].Role != "system" || msgs[0].Content != "be brief\nreally" {
		t.Errorf("developer message became %+v", msgs[0])
	}
	if tc := msgs[2].ToolCalls; len(tc) != 1 || tc[0].Name != "get_weather" || string(tc[0].Arguments.(json.RawMessage)) != `{"city":"Paris"}` {
		t.Errorf("assistant tool calls %+v", tc)
	}
}

// qwen3Template is Qwen3's chat template as shipped.
func qwen3Template(t testing.TB) *tokenizer.Template {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "testdata", "templates", "qwen3.jinja"))
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := tokenizer.ParseTemplate(string(src))
	if err != nil || tmpl.Name() != "qwen3" {
		t.Fatalf("qwen3.jinja: %v", err)
	}
	return tmpl
}

// FuzzDecodeChatRequest checks that no body crashes the decoder or the
// rendering of what it accepts.
func FuzzDecodeChatRequest(f *testing.F) {
	for _, s := range []string{
		`{"messages": [{"role": "user", "content": "hi"}]}`,
		`{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": [{"type": "text", "text": "x"}]}], "stream": true, "stop": ["a", "b"]}`,
		`{"messages": [{"role": "assistant", "content": null, "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{\"a\": [1, {\"b\": null}]}"}}]}, {"role": "tool", "content": "r"}], "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"a": {"type": "array"}}}}}], "tool_choice": "required"}`,
		`{"messages": [{"role": "user", "content": "x"}], "chat_template_kwargs": {"enable_thinking": false}, "temperature": 0.2, "seed": -5, "top_k": 3}`,
		`{"messages": [{"role": "assistant", "content": "<think>a</think>b", "reasoning_content": "r"}]}`,
		`[]`, `null`, `{"messages": null}`, `{"messages": [null]}`,
	} {
		f.Add([]byte(s))
	}
	tmpl := qwen3Template(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		r, e := decodeChatRequest(body)
		if e != nil {
			if e.Status != 400 || e.Message == "" {
				t.Fatalf("error %+v", e)
			}
			return
		}
		choice, e := r.toolChoice()
		if e != nil {
			t.Fatalf("accepted request with bad tool_choice: %v", e)
		}
		thinking := r.thinking()
		opt := tokenizer.ChatOptions{AddGenerationPrompt: true, EnableThinking: &thinking}
		if choice.kind != toolNone {
			for _, tl := range r.Tools {
				opt.Tools = append(opt.Tools, tl.raw)
			}
		}
		tmpl.Render(r.messages(), opt) // may fail on odd arguments, must not panic
	})
}
