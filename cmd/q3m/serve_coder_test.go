package main

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// q3m serve with Qwen3-Coder's template given by --chat-template-file
// answers a forced tool call in the template's XML form, parsed back into
// OpenAI's tool_calls, on random weights.
func TestServeWithTheCoderTemplateReturnsXMLToolCalls(t *testing.T) {
	// The template's tool prompt is 990 tokens here; the shortest call
	// after it, 100 bytes.
	path, _ := chatTestModel(t, 2048)
	url, _, _ := startServe(t, "-m", path, "--ctx", "2048",
		"--chat-template-file", filepath.Join("..", "..", "testdata", "templates", "qwen3-coder.jinja"))
	body := `{"messages": [{"role": "user", "content": "weather?"}], "max_tokens": 120, "seed": 4, "temperature": 1.5,
		"tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object",
			"properties": {"city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city", "days"]}}}],
		"tool_choice": "required"}`
	resp, err := http.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var r struct {
		Choices []struct {
			FinishReason string `json:"finish_reason"`
			Message      struct {
				ToolCalls []struct {
					Function struct {
						Name, Arguments string
					} `json:"function"`
				} `json:"tool_calls"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(raw, &r); err != nil || resp.StatusCode != 200 || len(r.Choices) != 1 {
		t.Fatalf("status %d: %s", resp.StatusCode, raw)
	}
	c := r.Choices[0]
	if c.FinishReason != "tool_calls" || len(c.Message.ToolCalls) != 1 || c.Message.ToolCalls[0].Function.Name != "get_weather" {
		t.Fatalf("answer %s", raw)
	}
	var args struct {
		City *string          `json:"city"`
		Days *json.RawMessage `json:"days"`
	}
	var days int64
	if err := json.Unmarshal([]byte(c.Message.ToolCalls[0].Function.Arguments), &args); err != nil || args.City == nil || args.Days == nil ||
		json.Unmarshal(*args.Days, &days) != nil {
		t.Fatalf("arguments %q: %v", c.Message.ToolCalls[0].Function.Arguments, err)
	}
}
