package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/q3m/q3m/convert"
	"github.com/q3m/q3m/grammar"
	"github.com/q3m/q3m/tokenizer"
)

// chatRequest is the body of POST /v1/chat/completions. Optional numbers
// are pointers so that "absent" differs from zero.
type chatRequest struct {
	Model    string        `json:"model"`
	Messages []chatMessage `json:"messages"`
	samplingFields
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Tools               []toolDef       `json:"tools"`
	ToolChoice          json.RawMessage `json:"tool_choice"`
	ChatTemplateKwargs  struct {
		EnableThinking *bool `json:"enable_thinking"`
	} `json:"chat_template_kwargs"`
	ReasoningEffort *string         `json:"reasoning_effort"`
	ResponseFormat  json.RawMessage `json:"response_format"`
	Logprobs        *bool           `json:"logprobs"`

	format *grammar.Grammar // response_format compiled; nil for text
}

// samplingFields are the generation settings shared by chat and completions.
type samplingFields struct {
	Stream        bool `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	MaxTokens         *int     `json:"max_tokens"`
	Temperature       *float64 `json:"temperature"`
	TopP              *float64 `json:"top_p"`
	TopK              *int     `json:"top_k"`
	MinP              *float64 `json:"min_p"`
	PresencePenalty   *float64 `json:"presence_penalty"`
	FrequencyPenalty  *float64 `json:"frequency_penalty"`
	RepetitionPenalty *float64 `json:"repetition_penalty"`
	Seed              *int64   `json:"seed"`
	Stop              stopList `json:"stop"`
	N                 *int     `json:"n"`
	// IgnoreEOS (llama-server's ignore_eos) keeps generating past the
	// end-of-turn tokens, up to max_tokens: for benchmarks.
	IgnoreEOS bool `json:"ignore_eos"`
}

// chatMessage is one message of a chat request.
type chatMessage struct {
	Role             string            `json:"role"`
	Content          messageContent    `json:"content"`
	ReasoningContent *string           `json:"reasoning_content"`
	Name             string            `json:"name"`
	ToolCalls        []messageToolCall `json:"tool_calls"`
	ToolCallID       string            `json:"tool_call_id"`
}

// messageToolCall is an assistant message's tool call, as OpenAI spells it.
type messageToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// toolDef is a tool of the request, kept as sent (for the template) with
// its name and parameters read out.
type toolDef struct {
	raw        json.RawMessage
	Name       string
	Parameters json.RawMessage
}

func (t *toolDef) UnmarshalJSON(b []byte) error {
	var v struct {
		Type     string `json:"type"`
		Function *struct {
			Name       string          `json:"name"`
			Parameters json.RawMessage `json:"parameters"`
		} `json:"function"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.Type != "function" || v.Function == nil {
		return fmt.Errorf("a tool must be {\"type\": \"function\", \"function\": {...}}")
	}
	if !validName(v.Function.Name) {
		return fmt.Errorf("tool name %q must be 1 to 64 letters, digits, _ or -", v.Function.Name)
	}
	t.raw, t.Name, t.Parameters = append(json.RawMessage(nil), b...), v.Function.Name, v.Function.Parameters
	return nil
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// messageContent is a message's content: a string, null, or an array of
// parts of which only text parts are supported.
type messageContent struct {
	Text string
	Null bool
}

func (c *messageContent) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		c.Null = true
		return nil
	case len(b) > 0 && b[0] == '"':
		return json.Unmarshal(b, &c.Text)
	case len(b) > 0 && b[0] == '[':
		var parts []struct {
			Type string  `json:"type"`
			Text *string `json:"text"`
		}
		if err := json.Unmarshal(b, &parts); err != nil {
			return err
		}
		texts := make([]string, 0, len(parts))
		for i, p := range parts {
			if p.Type != "text" || p.Text == nil {
				return fmt.Errorf("content part %d has type %q; only text parts are supported", i, p.Type)
			}
			texts = append(texts, *p.Text)
		}
		c.Text = strings.Join(texts, "\n")
		return nil
	}
	return fmt.Errorf("content must be a string, an array of text parts or null")
}

// stopList is "stop": a string or an array of strings.
type stopList []string

func (s *stopList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*s = nil
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = stopList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("stop must be a string or an array of strings")
	}
	*s = many
	return nil
}

// maxStops bounds the stop strings of a request; maxStopLen their length.
const (
	maxStops   = 16
	maxStopLen = 256
)

// decodeJSON decodes a request body into v. Text encoding/json would
// silently turn into U+FFFD (bytes that are not UTF-8, escapes of lone
// surrogates) is refused, so a prompt is never changed without an error.
func decodeJSON(body []byte, v any) *apiError {
	if err := convert.CheckJSONText(body); err != nil {
		return invalid("", "invalid request body: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return invalid("", "invalid request body: more than one JSON value")
	}
	return nil
}

// decodeChatRequest parses and validates a chat completion request body.
func decodeChatRequest(body []byte) (*chatRequest, *apiError) {
	var r chatRequest
	if e := decodeJSON(body, &r); e != nil {
		return nil, e
	}
	if e := r.samplingFields.validate(); e != nil {
		return nil, e
	}
	if r.MaxCompletionTokens != nil {
		if *r.MaxCompletionTokens < 1 {
			return nil, invalid("max_completion_tokens", "max_completion_tokens must be at least 1, got %d", *r.MaxCompletionTokens)
		}
		r.MaxTokens = r.MaxCompletionTokens
	}
	if len(r.Messages) == 0 {
		return nil, invalid("messages", "messages must be a non-empty array")
	}
	for i, m := range r.Messages {
		if e := m.validate(i); e != nil {
			return nil, e
		}
	}
	var e *apiError
	if r.format, e = parseResponseFormat(r.ResponseFormat); e != nil {
		return nil, e
	}
	if r.Logprobs != nil && *r.Logprobs {
		return nil, invalid("logprobs", "logprobs are not supported")
	}
	if r.ReasoningEffort != nil {
		switch *r.ReasoningEffort {
		case "none", "minimal", "low", "medium", "high":
		default:
			return nil, invalid("reasoning_effort", "reasoning_effort must be none, minimal, low, medium or high, got %q", *r.ReasoningEffort)
		}
	}
	if _, e := r.toolChoice(); e != nil {
		return nil, e
	}
	return &r, nil
}

func (m *chatMessage) validate(i int) *apiError {
	p := func(f string) string { return fmt.Sprintf("messages[%d].%s", i, f) }
	switch m.Role {
	case "system", "developer", "user", "tool":
		if m.Content.Null {
			return invalid(p("content"), "%s: a %s message needs content", p("content"), m.Role)
		}
		if len(m.ToolCalls) > 0 {
			return invalid(p("tool_calls"), "%s: only assistant messages carry tool calls", p("tool_calls"))
		}
	case "assistant":
		for j, tc := range m.ToolCalls {
			if tc.Type != "" && tc.Type != "function" {
				return invalid(p(fmt.Sprintf("tool_calls[%d].type", j)), "tool call type %q; only \"function\" is supported", tc.Type)
			}
			if !validName(tc.Function.Name) {
				return invalid(p(fmt.Sprintf("tool_calls[%d].function.name", j)), "tool call name %q must be 1 to 64 letters, digits, _ or -", tc.Function.Name)
			}
		}
	case "":
		return invalid(p("role"), "%s is missing", p("role"))
	default:
		return invalid(p("role"), "%s: unknown role %q (want system, developer, user, assistant or tool)", p("role"), m.Role)
	}
	return nil
}

func (s *samplingFields) validate() *apiError {
	rng := func(name string, v *float64, lo, hi float64) *apiError {
		if v != nil && (math.IsNaN(*v) || *v < lo || *v > hi) {
			return invalid(name, "%s must be in [%g, %g], got %g", name, lo, hi, *v)
		}
		return nil
	}
	for _, c := range []struct {
		name   string
		v      *float64
		lo, hi float64
	}{
		{"temperature", s.Temperature, 0, 2},
		{"top_p", s.TopP, 0, 1},
		{"min_p", s.MinP, 0, 1},
		{"presence_penalty", s.PresencePenalty, -2, 2},
		{"frequency_penalty", s.FrequencyPenalty, -2, 2},
		{"repetition_penalty", s.RepetitionPenalty, 0, 10},
	} {
		if e := rng(c.name, c.v, c.lo, c.hi); e != nil {
			return e
		}
	}
	if s.TopK != nil && *s.TopK < -1 {
		return invalid("top_k", "top_k must be at least -1 (off), got %d", *s.TopK)
	}
	if s.MaxTokens != nil && *s.MaxTokens < 1 {
		return invalid("max_tokens", "max_tokens must be at least 1, got %d", *s.MaxTokens)
	}
	if s.N != nil && *s.N != 1 {
		return invalid("n", "n must be 1, got %d", *s.N)
	}
	if len(s.Stop) > maxStops {
		return invalid("stop", "at most %d stop strings, got %d", maxStops, len(s.Stop))
	}
	for _, st := range s.Stop {
		if st == "" || len(st) > maxStopLen {
			return invalid("stop", "stop strings must be 1 to %d bytes long", maxStopLen)
		}
	}
	return nil
}

// toolChoiceKind is what tool_choice asks for.
type toolChoiceKind int

const (
	toolAuto toolChoiceKind = iota
	toolNone
	toolRequired
	toolNamed
)

type toolChoice struct {
	kind toolChoiceKind
	name string // toolNamed
}

// toolChoice reads tool_choice: "auto" (the default with tools), "none",
// "required" or {"type": "function", "function": {"name": …}}.
func (r *chatRequest) toolChoice() (toolChoice, *apiError) {
	raw := bytes.TrimSpace(r.ToolChoice)
	if len(raw) == 0 || string(raw) == "null" {
		if len(r.Tools) == 0 {
			return toolChoice{kind: toolNone}, nil
		}
		return toolChoice{kind: toolAuto}, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		var c toolChoice
		switch s {
		case "auto":
			c.kind = toolAuto
		case "none":
			return toolChoice{kind: toolNone}, nil
		case "required":
			c.kind = toolRequired
		default:
			return c, invalid("tool_choice", "tool_choice must be auto, none, required or a function, got %q", s)
		}
		if len(r.Tools) == 0 {
			return c, invalid("tool_choice", "tool_choice %q needs tools", s)
		}
		return c, nil
	}
	var named struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(raw, &named); err != nil || named.Type != "function" {
		return toolChoice{}, invalid("tool_choice", "tool_choice must be auto, none, required or {\"type\": \"function\", \"function\": {\"name\": …}}")
	}
	for _, t := range r.Tools {
		if t.Name == named.Function.Name {
			return toolChoice{kind: toolNamed, name: t.Name}, nil
		}
	}
	return toolChoice{}, invalid("tool_choice", "tool_choice names function %q, which is not among the tools", named.Function.Name)
}

// thinking reports whether the request leaves Qwen3's thinking on.
func (r *chatRequest) thinking() bool {
	if r.ChatTemplateKwargs.EnableThinking != nil && !*r.ChatTemplateKwargs.EnableThinking {
		return false
	}
	return r.ReasoningEffort == nil || *r.ReasoningEffort != "none"
}

// messages converts the request's messages for the chat template.
func (r *chatRequest) messages() []tokenizer.Message {
	out := make([]tokenizer.Message, len(r.Messages))
	for i, m := range r.Messages {
		role := m.Role
		if role == "developer" {
			role = "system"
		}
		tm := tokenizer.Message{Role: role, Content: m.Content.Text, Name: m.Name}
		if m.ReasoningContent != nil {
			tm.ReasoningContent = *m.ReasoningContent
		}
		for _, tc := range m.ToolCalls {
			var args any = tc.Function.Arguments
			// JSON arguments are rendered as the template's tojson renders
			// them, which is also how the model wrote them.
			if a := strings.TrimSpace(tc.Function.Arguments); json.Valid([]byte(a)) && strings.HasPrefix(a, "{") {
				args = json.RawMessage(a)
			}
			tm.ToolCalls = append(tm.ToolCalls, tokenizer.ToolCall{Name: tc.Function.Name, Arguments: args})
		}
		out[i] = tm
	}
	return out
}
