package tokenizer

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/q3m/q3m/tokenizer/jinja"
)

// Chat templates are Jinja programs shipped with a model. This file runs
// them with the jinja package, byte for byte as transformers'
// apply_chat_template renders them, and names the templates it recognises
// by the hash of their text.

// ErrUnsupportedTemplate reports a model without a chat template; the
// Template returned with it renders plain ChatML.
var ErrUnsupportedTemplate = errors.New("no chat template, falling back to plain ChatML")

// Message is one turn of a conversation.
type Message struct {
	// Role is "system", "user", "assistant" or "tool".
	Role    string
	Content string
	// ContentNull gives the message a null content (OpenAI's assistant
	// turns that only call tools); Content is then ignored.
	ContentNull bool
	// ReasoningContent is an assistant turn's thinking. Empty means absent:
	// the Qwen3 templates then take the thinking from a "<think>…</think>"
	// prefix of Content, if there is one.
	ReasoningContent string
	// ToolCalls are the calls an assistant turn made.
	ToolCalls []ToolCall
	// Name and ToolCallID identify a tool message's call; empty means
	// absent. The Qwen3 templates ignore them.
	Name, ToolCallID string
}

// ToolCall is one function call made by the assistant. The template sees
// it in OpenAI's shape, {"id", "type", "function": {"name", "arguments"}}
// (id and type only when set), or as {"name", "arguments"} when Flat is set.
type ToolCall struct {
	ID, Type string
	Name     string
	// Arguments is a string, which the template gets as a string (the
	// OpenAI form, JSON text), or a JSON value: json.RawMessage (key order
	// kept; the exact form), json.Number, bool, numbers, []any,
	// map[string]any (keys sorted) or any type encoding/json can marshal.
	// nil leaves the arguments out.
	Arguments any
	Flat      bool
}

// ChatOptions are the template variables besides the messages.
type ChatOptions struct {
	// AddGenerationPrompt appends the header of an assistant turn.
	AddGenerationPrompt bool
	// EnableThinking is passed as enable_thinking when set; the Qwen3
	// release template then renders an empty think block for false.
	EnableThinking *bool
	// Tools are JSON-schema tool definitions, each a JSON value as accepted
	// by ToolCall.Arguments (json.RawMessage keeps key order). nil passes
	// tools=None.
	Tools []any
	// BOSToken, EOSToken and PadToken are the special tokens the template
	// may print (bos_token, eos_token, pad_token); empty leaves them
	// undefined.
	BOSToken, EOSToken, PadToken string
}

// Names of the templates ParseTemplate recognises.
const (
	TemplateQwen3             = "qwen3"               // Qwen3 release (hybrid thinking, enable_thinking)
	TemplateQwen3Instruct2507 = "qwen3-instruct-2507" // Qwen3-2507 Instruct (no thinking)
	TemplateQwen3Thinking2507 = "qwen3-thinking-2507" // Qwen3-2507 Thinking (prompt opens <think>)
	TemplateQwen3Coder        = "qwen3-coder"         // Qwen3-Coder (XML tool calls)
	TemplateChatML            = "chatml"              // q3m's plain ChatML fallback
	tmplChatMLSource          = "{%- for message in messages %}{{ '<|im_start|>' + message.role + '\\n' + (message.content if message.content is string else '') + '<|im_end|>\\n' }}{%- endfor %}{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{%- endif %}"
)

// tmplKnown maps the SHA-256 of a template's normalized text to its name.
// The texts are in testdata/templates, with their sources.
var tmplKnown = map[string]string{
	"87a2728cb8dc9fe424d624542f6060ec05a1d285ebbec578bb078900e33396b5": TemplateQwen3,
	"64f85b198065d0fba2a81f37e10ed68161ce2c19a754c7100e67e0ca2ee9c326": TemplateQwen3Instruct2507,
	"3802169b2a02b81e6adb7ab4f64f91ff02db753c8c3a64a01c35192d3a61d8d7": TemplateQwen3Thinking2507,
	"52ffd6af4b975e5d6ea391b144484daf29f7fa5804f0104aa9a0f8ed42b6edda": TemplateQwen3Coder,
}

// Template renders conversations into a model's prompt text. It is safe for
// concurrent use.
type Template struct {
	name string
	hash string
	prog *jinja.Template
}

// ParseTemplate parses a chat template's source text. A template the jinja
// package cannot parse is an error.
func ParseTemplate(src string) (*Template, error) {
	if strings.TrimSpace(src) == "" {
		return ChatML(), fmt.Errorf("tokenizer: empty chat template: %w", ErrUnsupportedTemplate)
	}
	prog, err := jinja.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: chat template: %w", err)
	}
	h := tmplHash(src)
	return &Template{name: tmplKnown[h], hash: h, prog: prog}, nil
}

// ChatML returns a Template that renders plain ChatML.
func ChatML() *Template {
	prog, err := jinja.Parse(tmplChatMLSource)
	if err != nil {
		panic("tokenizer: the built-in ChatML template does not parse: " + err.Error())
	}
	return &Template{name: TemplateChatML, hash: tmplHash(tmplChatMLSource), prog: prog}
}

// Name returns the name of a recognised template (one of the Template…
// constants), or "" for any other.
func (t *Template) Name() string { return t.name }

// Hash returns the SHA-256 of the template's text, with line endings
// normalized and one trailing newline dropped, in hex.
func (t *Template) Hash() string { return t.hash }

// Describe names the template for people: its name, or "unrecognised"
// with the start of its hash.
func (t *Template) Describe() string {
	if t.name != "" {
		return t.name
	}
	return "unrecognised (sha256 " + t.hash[:12] + "…), rendered by the Jinja engine"
}

// tmplHash hashes a template's text after normalizing line endings and
// dropping the single trailing newline Jinja itself ignores.
func tmplHash(src string) string {
	s := strings.ReplaceAll(src, "\r\n", "\n")
	s = strings.TrimSuffix(s, "\n")
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Render returns the prompt text for msgs. A conversation the template
// rejects (its raise_exception, or an operation jinja2 fails on too) is an
// error wrapping a *jinja.Error.
func (t *Template) Render(msgs []Message, opt ChatOptions) (string, error) {
	vars, err := tmplVars(msgs, opt)
	if err != nil {
		return "", fmt.Errorf("tokenizer: chat template: %w", err)
	}
	out, err := t.prog.Render(vars)
	if err != nil {
		return "", fmt.Errorf("tokenizer: chat template: %w", err)
	}
	return out, nil
}

// tmplVars builds the variables transformers passes to a template.
func tmplVars(msgs []Message, opt ChatOptions) (map[string]jinja.Value, error) {
	list := jinja.NewList()
	for i, m := range msgs {
		d, err := m.value()
		if err != nil {
			return nil, fmt.Errorf("message %d: %w", i, err)
		}
		list.Items = append(list.Items, d)
	}
	vars := map[string]jinja.Value{
		"messages":              list,
		"tools":                 nil,
		"documents":             nil,
		"add_generation_prompt": opt.AddGenerationPrompt,
	}
	if opt.Tools != nil {
		tools := jinja.NewList()
		for i, tool := range opt.Tools {
			v, err := jinja.FromGo(tool)
			if err != nil {
				return nil, fmt.Errorf("tool %d: %w", i, err)
			}
			tools.Items = append(tools.Items, v)
		}
		vars["tools"] = tools
	}
	if opt.EnableThinking != nil {
		vars["enable_thinking"] = *opt.EnableThinking
	}
	for k, v := range map[string]string{"bos_token": opt.BOSToken, "eos_token": opt.EOSToken, "pad_token": opt.PadToken} {
		if v != "" {
			vars[k] = v
		}
	}
	return vars, nil
}

// value returns the message as the dict the template sees.
func (m Message) value() (*jinja.Dict, error) {
	d := jinja.NewDict()
	d.Set("role", m.Role)
	if m.ContentNull {
		d.Set("content", nil)
	} else {
		d.Set("content", m.Content)
	}
	if m.ReasoningContent != "" {
		d.Set("reasoning_content", m.ReasoningContent)
	}
	if len(m.ToolCalls) > 0 {
		calls := jinja.NewList()
		for j, tc := range m.ToolCalls {
			v, err := tc.value()
			if err != nil {
				return nil, fmt.Errorf("tool call %d (%s): %w", j, tc.Name, err)
			}
			calls.Items = append(calls.Items, v)
		}
		d.Set("tool_calls", calls)
	}
	if m.Name != "" {
		d.Set("name", m.Name)
	}
	if m.ToolCallID != "" {
		d.Set("tool_call_id", m.ToolCallID)
	}
	return d, nil
}

func (tc ToolCall) value() (*jinja.Dict, error) {
	fn := jinja.NewDict()
	fn.Set("name", tc.Name)
	if tc.Arguments != nil {
		args, err := jinja.FromGo(tc.Arguments)
		if err != nil {
			return nil, fmt.Errorf("arguments: %w", err)
		}
		fn.Set("arguments", args)
	}
	if tc.Flat {
		return fn, nil
	}
	d := jinja.NewDict()
	if tc.ID != "" {
		d.Set("id", tc.ID)
	}
	if tc.Type != "" {
		d.Set("type", tc.Type)
	}
	d.Set("function", fn)
	return d, nil
}
