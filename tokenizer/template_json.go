package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Messages read from JSON take OpenAI's chat shape, which transformers'
// templates also accept:
//
//	{"role": "assistant", "content": "…" or null,
//	 "reasoning_content": "…", "name": "…", "tool_call_id": "…",
//	 "tool_calls": [{"id": "…", "type": "function",
//	                 "function": {"name": "…", "arguments": "{…}" or {…}}}]}
//
// A tool call may also be flat, {"name": "…", "arguments": …}. Arguments
// given as a JSON string stay a string (templates print it as is, or reject
// it where they want an object, as jinja2 does); any other JSON value keeps
// its key order. Other keys are ignored.

type jsonMessage struct {
	Role             *string         `json:"role"`
	Content          json.RawMessage `json:"content"`
	ReasoningContent *string         `json:"reasoning_content"`
	Name             *string         `json:"name"`
	ToolCallID       *string         `json:"tool_call_id"`
	ToolCalls        []ToolCall      `json:"tool_calls"`
}

// UnmarshalJSON reads a message in OpenAI's shape; a missing or null
// content is a null content.
func (m *Message) UnmarshalJSON(b []byte) error {
	var j jsonMessage
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("message: %w", err)
	}
	if j.Role == nil || *j.Role == "" {
		return errors.New("message: no role")
	}
	*m = Message{Role: *j.Role, ToolCalls: j.ToolCalls}
	switch c := bytes.TrimSpace(j.Content); {
	case len(c) == 0 || string(c) == "null":
		m.ContentNull = true
	case c[0] == '"':
		if err := json.Unmarshal(c, &m.Content); err != nil {
			return fmt.Errorf("message: content: %w", err)
		}
	default:
		return fmt.Errorf("message: content must be a string or null, not %.20s", c)
	}
	for _, f := range []struct {
		src *string
		dst *string
	}{{j.ReasoningContent, &m.ReasoningContent}, {j.Name, &m.Name}, {j.ToolCallID, &m.ToolCallID}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	return nil
}

type jsonFunction struct {
	Name      *string         `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

type jsonToolCall struct {
	ID       string        `json:"id"`
	Type     string        `json:"type"`
	Function *jsonFunction `json:"function"`
	jsonFunction
}

// UnmarshalJSON reads a tool call in OpenAI's shape or the flat one.
func (tc *ToolCall) UnmarshalJSON(b []byte) error {
	var j jsonToolCall
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("tool call: %w", err)
	}
	fn := j.Function
	*tc = ToolCall{ID: j.ID, Type: j.Type}
	if fn == nil {
		if j.ID != "" || j.Type != "" {
			return errors.New("tool call: no function")
		}
		fn, tc.Flat = &j.jsonFunction, true
	}
	if fn.Name == nil || *fn.Name == "" {
		return errors.New("tool call: no function name")
	}
	tc.Name = *fn.Name
	switch a := bytes.TrimSpace(fn.Arguments); {
	case len(a) == 0:
	case a[0] == '"':
		var s string
		if err := json.Unmarshal(a, &s); err != nil {
			return fmt.Errorf("tool call %s: arguments: %w", tc.Name, err)
		}
		tc.Arguments = s
	default:
		tc.Arguments = json.RawMessage(append([]byte(nil), a...))
	}
	return nil
}
