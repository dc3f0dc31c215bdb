package tokenizer

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/q3m/q3m/tokenizer/jinja"
)

// The goldens in testdata/templates/golden.json are rendered from
// conversations.json by Python's jinja2 running each template under
// transformers' settings (scripts/templates/golden.py).

type tmplCase struct {
	Name                string            `json:"name"`
	AddGenerationPrompt bool              `json:"add_generation_prompt"`
	EnableThinking      *bool             `json:"enable_thinking"`
	Tools               []json.RawMessage `json:"tools"`
	Messages            []Message         `json:"messages"`
	BOSToken            string            `json:"bos_token"`
}

func (c tmplCase) options() ChatOptions {
	opt := ChatOptions{AddGenerationPrompt: c.AddGenerationPrompt, EnableThinking: c.EnableThinking,
		BOSToken: c.BOSToken, EOSToken: "<|im_end|>", PadToken: "<|endoftext|>"}
	if c.Tools != nil {
		opt.Tools = []any{}
		for _, t := range c.Tools {
			opt.Tools = append(opt.Tools, t)
		}
	}
	return opt
}

type tmplGolden struct {
	Text   *string `json:"text"`
	Error  string  `json:"error"`
	Raised bool    `json:"raised"`
}

func tmplReadTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "templates", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func tmplCases(t testing.TB) []tmplCase {
	var cases []tmplCase
	if err := json.Unmarshal(tmplReadTestdata(t, "conversations.json"), &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

func TestTemplatesRenderLikeJinja2(t *testing.T) {
	cases := tmplCases(t)
	var golden struct {
		Results map[string]map[string]tmplGolden `json:"results"`
	}
	if err := json.Unmarshal(tmplReadTestdata(t, "golden.json"), &golden); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "templates", "*.jinja"))
	others, _ := filepath.Glob(filepath.Join("..", "testdata", "templates", "other", "*.jinja"))
	files = append(files, others...)
	if len(files) < 8 || len(golden.Results) != len(files) || len(cases) < 30 {
		t.Fatalf("%d templates, %d golden sets, %d cases: regenerate with scripts/templates/golden.py", len(files), len(golden.Results), len(cases))
	}
	rendered, rejected := 0, 0
	for _, f := range files {
		name, _ := filepath.Rel(filepath.Join("..", "testdata", "templates"), f)
		tmpl, err := ParseTemplate(string(tmplReadTestdata(t, name)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		results := golden.Results[name]
		if len(results) != len(cases) {
			t.Fatalf("%s: %d goldens for %d cases", name, len(results), len(cases))
		}
		for _, c := range cases {
			want, ok := results[c.Name]
			if !ok {
				t.Fatalf("%s: no golden for %s", name, c.Name)
			}
			t.Run(name+"/"+c.Name, func(t *testing.T) {
				got, err := tmpl.Render(c.Messages, c.options())
				if want.Text == nil {
					rejected++
					var je *jinja.Error
					if !errors.As(err, &je) {
						t.Fatalf("jinja2 rejects this (%s); q3m gave %q, %v", want.Error, got, err)
					}
					if want.Raised && (!je.Raised || je.Msg != want.Error) {
						t.Errorf("raised %q (raised %v); want raise_exception(%q)", je.Msg, je.Raised, want.Error)
					}
					return
				}
				rendered++
				if err != nil {
					t.Fatal(err)
				}
				if got != *want.Text {
					t.Errorf("render mismatch\n got: %q\nwant: %q", got, *want.Text)
				}
			})
		}
	}
	t.Logf("%d renders byte-exact, %d rejections matched", rendered, rejected)
}

func TestParseTemplateRecognisesShippedTemplates(t *testing.T) {
	for file, want := range map[string]string{
		"qwen3.jinja":               TemplateQwen3,
		"qwen3-instruct-2507.jinja": TemplateQwen3Instruct2507,
		"qwen3-thinking-2507.jinja": TemplateQwen3Thinking2507,
		"qwen3-coder.jinja":         TemplateQwen3Coder,
		"jinja-features.jinja":      "",
	} {
		src := string(tmplReadTestdata(t, file))
		base := strings.TrimSuffix(src, "\n")
		for _, s := range []string{base, base + "\n", strings.ReplaceAll(base+"\n", "\n", "\r\n")} {
			tmpl, err := ParseTemplate(s)
			if err != nil || tmpl.Name() != want {
				t.Errorf("%s: name %q, %v; want %q", file, tmpl.Name(), err, want)
			}
		}
		edited, err := ParseTemplate(strings.Replace(src, "<|im_start|>", "<|im_start|> ", 1))
		if err != nil || edited.Name() != "" || !strings.HasPrefix(edited.Describe(), "unrecognised") {
			t.Errorf("%s edited: name %q, %v", file, edited.Name(), err)
		}
	}
}

func TestParseTemplateFallsBackToChatMLOnlyWithoutTemplate(t *testing.T) {
	tmpl, err := ParseTemplate(" \n")
	if !errors.Is(err, ErrUnsupportedTemplate) || tmpl == nil || tmpl.Name() != TemplateChatML {
		t.Fatalf("empty template: %v, %+v", err, tmpl)
	}
	got, err := tmpl.Render([]Message{{Role: "system", Content: "s"}, {Role: "user", Content: "u"}, {Role: "assistant", ContentNull: true}},
		ChatOptions{AddGenerationPrompt: true})
	want := "<|im_start|>system\ns<|im_end|>\n<|im_start|>user\nu<|im_end|>\n<|im_start|>assistant\n<|im_end|>\n<|im_start|>assistant\n"
	if err != nil || got != want {
		t.Errorf("fallback render = %q, %v; want %q", got, err, want)
	}
	other, err := ParseTemplate("{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}")
	if err != nil || other.Name() != "" {
		t.Fatalf("other template: %v", err)
	}
	if got, err := other.Render([]Message{{Role: "user", Content: "hi"}}, ChatOptions{}); err != nil || got != "[user]hi" {
		t.Errorf("other template rendered %q, %v", got, err)
	}
}

func TestParseTemplateRejectsWhatItCannotRun(t *testing.T) {
	for name, src := range map[string]string{
		"unclosed block":  "{% if x %}",
		"unknown filter":  "{{ x | frobnicate }}",
		"unknown test":    "{% if x is frobnicated %}{% endif %}",
		"include":         "{% include 'other.jinja' %}",
		"unclosed string": "{{ 'abc }}",
		"unclosed tag":    "{{ x ",
	} {
		if _, err := ParseTemplate(src); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestRenderRejectsBadInput(t *testing.T) {
	tmpl, err := ParseTemplate(string(tmplReadTestdata(t, "qwen3.jinja")))
	if err != nil {
		t.Fatal(err)
	}
	bad := json.RawMessage(`{"a": `)
	for name, c := range map[string]struct {
		msgs []Message
		opt  ChatOptions
	}{
		"no messages":        {nil, ChatOptions{}},
		"broken tool json":   {[]Message{{Role: "user", Content: "x"}}, ChatOptions{Tools: []any{bad}}},
		"broken args json":   {[]Message{{Role: "assistant", ToolCalls: []ToolCall{{Name: "f", Arguments: bad}}}}, ChatOptions{}},
		"unmarshalable args": {[]Message{{Role: "assistant", ToolCalls: []ToolCall{{Name: "f", Arguments: func() {}}}}}, ChatOptions{}},
		"deep json":          {[]Message{{Role: "user", Content: "x"}}, ChatOptions{Tools: []any{json.RawMessage(strings.Repeat("[", 10000))}}},
	} {
		if _, err := tmpl.Render(c.msgs, c.opt); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestMessagesAcceptOpenAIShape(t *testing.T) {
	var msgs []Message
	err := json.Unmarshal([]byte(`[
		{"role": "assistant", "content": null, "tool_calls": [
			{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"b\": 1, \"a\": 2}"}},
			{"type": "function", "function": {"name": "g", "arguments": {"b": 1, "a": 2}}},
			{"name": "h", "arguments": {"z": true}}]},
		{"role": "tool", "tool_call_id": "c1", "name": "f", "content": "ok", "extra": 1}
	]`), &msgs)
	if err != nil {
		t.Fatal(err)
	}
	calls := msgs[0].ToolCalls
	if !msgs[0].ContentNull || len(calls) != 3 || msgs[1].ToolCallID != "c1" || msgs[1].Name != "f" || msgs[1].Content != "ok" {
		t.Fatalf("decoded %+v", msgs)
	}
	if calls[0].ID != "c1" || calls[0].Type != "function" || calls[0].Arguments != `{"b": 1, "a": 2}` || calls[0].Flat {
		t.Errorf("OpenAI call with string arguments: %+v", calls[0])
	}
	if raw, ok := calls[1].Arguments.(json.RawMessage); !ok || string(raw) != `{"b": 1, "a": 2}` {
		t.Errorf("OpenAI call with object arguments: %+v", calls[1])
	}
	if !calls[2].Flat || calls[2].Name != "h" {
		t.Errorf("flat call: %+v", calls[2])
	}
	tmpl, err := ParseTemplate(string(tmplReadTestdata(t, "qwen3-instruct-2507.jinja")))
	if err != nil {
		t.Fatal(err)
	}
	got, err := tmpl.Render(msgs, ChatOptions{})
	want := "<|im_start|>assistant\n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"b\": 1, \"a\": 2}}\n</tool_call>\n" +
		"<tool_call>\n{\"name\": \"g\", \"arguments\": {\"b\": 1, \"a\": 2}}\n</tool_call>\n" +
		"<tool_call>\n{\"name\": \"h\", \"arguments\": {\"z\": true}}\n</tool_call><|im_end|>\n" +
		"<|im_start|>user\n<tool_response>\nok\n</tool_response><|im_end|>\n"
	if err != nil || got != want {
		t.Errorf("render %q, %v\nwant %q", got, err, want)
	}
	for name, bad := range map[string]string{
		"no role":            `{"content": "x"}`,
		"array content":      `{"role": "user", "content": [{"type": "text", "text": "x"}]}`,
		"call without name":  `{"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"arguments": {}}}]}`,
		"call without func":  `{"role": "assistant", "content": "", "tool_calls": [{"id": "x", "type": "function"}]}`,
		"bad arguments json": `{"role": "assistant", "content": "", "tool_calls": [{"name": "f", "arguments": "\u"}]}`,
	} {
		var m Message
		if err := json.Unmarshal([]byte(bad), &m); err == nil {
			t.Errorf("%s: accepted as %+v", name, m)
		}
	}
}

func BenchmarkTemplateRender(b *testing.B) {
	cases := tmplCases(b)
	sort.Slice(cases, func(i, j int) bool { return len(cases[i].Messages) > len(cases[j].Messages) })
	for _, file := range []string{"qwen3.jinja", "qwen3-coder.jinja"} {
		tmpl, err := ParseTemplate(string(tmplReadTestdata(b, file)))
		if err != nil {
			b.Fatal(err)
		}
		c := cases[0]
		b.Run(file, func(b *testing.B) {
			n := 0
			for b.Loop() {
				out, err := tmpl.Render(c.Messages, c.options())
				if err != nil {
					b.Fatal(err)
				}
				n = len(out)
			}
			b.SetBytes(int64(n))
		})
	}
}

// FuzzRenderNeverPanics renders arbitrary conversations with every template.
func FuzzRenderNeverPanics(f *testing.F) {
	f.Add("user", "hi", "assistant", "<think>a</think>b", "", `{"a":1}`, true)
	f.Add("tool", "<tool_response>", "tool", "</think>", "r", `"s"`, false)
	var tmpls []*Template
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "templates", "*.jinja"))
	for _, file := range files {
		tmpl, err := ParseTemplate(string(tmplReadTestdata(f, filepath.Base(file))))
		if err != nil {
			f.Fatal(err)
		}
		tmpls = append(tmpls, tmpl)
	}
	f.Fuzz(func(t *testing.T, r1, c1, r2, c2, reasoning, args string, gen bool) {
		off := false
		msgs := []Message{
			{Role: r1, Content: c1},
			{Role: r2, Content: c2, ReasoningContent: reasoning, ToolCalls: []ToolCall{{Name: "f", Arguments: json.RawMessage(args)}}},
			{Role: r1, Content: c2, ContentNull: gen},
		}
		for _, tmpl := range tmpls {
			tmpl.Render(msgs, ChatOptions{AddGenerationPrompt: gen, EnableThinking: &off, Tools: []any{json.RawMessage(args)}})
		}
	})
}
