package tokenizer

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// The goldens are rendered from testdata/chat/cases.json by Python's jinja2
// running the real Qwen3 template (scripts/chat/render_goldens.py).

type tmplTestCase struct {
	Name                string            `json:"name"`
	AddGenerationPrompt bool              `json:"add_generation_prompt"`
	EnableThinking      *bool             `json:"enable_thinking"`
	Tools               []json.RawMessage `json:"tools"`
	Messages            []struct {
		Role             string `json:"role"`
		Content          string `json:"content"`
		ReasoningContent string `json:"reasoning_content"`
		Name             string `json:"name"`
		ToolCalls        []struct {
			Function *struct {
				Name      string          `json:"name"`
				Arguments json.RawMessage `json:"arguments"`
			} `json:"function"`
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
		} `json:"tool_calls"`
	} `json:"messages"`
}

func (c tmplTestCase) convert() ([]Message, ChatOptions) {
	opt := ChatOptions{AddGenerationPrompt: c.AddGenerationPrompt, EnableThinking: c.EnableThinking}
	for _, t := range c.Tools {
		opt.Tools = append(opt.Tools, t)
	}
	var msgs []Message
	for _, m := range c.Messages {
		msg := Message{Role: m.Role, Content: m.Content, ReasoningContent: m.ReasoningContent, Name: m.Name}
		for _, tc := range m.ToolCalls {
			call := ToolCall{Name: tc.Name, Arguments: tc.Arguments}
			if tc.Function != nil {
				call = ToolCall{Name: tc.Function.Name, Arguments: tc.Function.Arguments}
			}
			msg.ToolCalls = append(msg.ToolCalls, call)
		}
		msgs = append(msgs, msg)
	}
	return msgs, opt
}

func tmplReadTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "chat", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTemplateRendersQwen3LikeTransformers(t *testing.T) {
	tmpl, err := ParseTemplate(string(tmplReadTestdata(t, "qwen3.jinja")))
	if err != nil {
		t.Fatalf("ParseTemplate(qwen3.jinja): %v", err)
	}
	if tmpl.Dialect() != DialectQwen3 {
		t.Fatalf("dialect = %q, want %q", tmpl.Dialect(), DialectQwen3)
	}
	var cases []tmplTestCase
	if err := json.Unmarshal(tmplReadTestdata(t, "cases.json"), &cases); err != nil {
		t.Fatal(err)
	}
	var goldens struct {
		Goldens []struct{ Name, Text string } `json:"goldens"`
	}
	if err := json.Unmarshal(tmplReadTestdata(t, "goldens.json"), &goldens); err != nil {
		t.Fatal(err)
	}
	if len(cases) != len(goldens.Goldens) || len(cases) < 15 {
		t.Fatalf("%d cases, %d goldens: regenerate with scripts/chat/render_goldens.py", len(cases), len(goldens.Goldens))
	}
	for i, c := range cases {
		want := goldens.Goldens[i]
		t.Run(c.Name, func(t *testing.T) {
			if want.Name != c.Name {
				t.Fatalf("golden %d is %q, case is %q", i, want.Name, c.Name)
			}
			msgs, opt := c.convert()
			got, err := tmpl.Render(msgs, opt)
			if err != nil {
				t.Fatal(err)
			}
			if got != want.Text {
				t.Errorf("render mismatch\n got: %q\nwant: %q", got, want.Text)
			}
		})
	}
}

func TestParseTemplateFlagsUnknownTemplatesAndFallsBackToChatML(t *testing.T) {
	src := string(tmplReadTestdata(t, "qwen3.jinja"))
	for name, s := range map[string]string{
		"empty":       "",
		"edited":      strings.Replace(src, "# Tools", "# Functions", 1),
		"other model": "{% for m in messages %}{{ m.content }}{% endfor %}",
	} {
		tmpl, err := ParseTemplate(s)
		if !errors.Is(err, ErrUnsupportedTemplate) {
			t.Errorf("%s: err = %v, want ErrUnsupportedTemplate", name, err)
		}
		if tmpl == nil || tmpl.Dialect() != DialectChatML {
			t.Fatalf("%s: want a ChatML fallback template, got %+v", name, tmpl)
		}
		got, err := tmpl.Render([]Message{{Role: "system", Content: "s"}, {Role: "user", Content: "u"}},
			ChatOptions{AddGenerationPrompt: true})
		want := "<|im_start|>system\ns<|im_end|>\n<|im_start|>user\nu<|im_end|>\n<|im_start|>assistant\n"
		if err != nil || got != want {
			t.Errorf("%s: fallback render = %q, %v; want %q", name, got, err, want)
		}
	}
}

func TestParseTemplateIgnoresLineEndingAndTrailingNewline(t *testing.T) {
	src := string(tmplReadTestdata(t, "qwen3.jinja"))
	for _, s := range []string{src + "\n", strings.ReplaceAll(src, "\n", "\r\n")} {
		tmpl, err := ParseTemplate(s)
		if err != nil || tmpl.Dialect() != DialectQwen3 {
			t.Errorf("ParseTemplate: %v, dialect %v", err, tmpl.Dialect())
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

// Expected strings below were produced by Python 3's json.dumps(x,
// ensure_ascii=False) on the value Python would hold.
func TestToJSONMatchesPythonForGoValues(t *testing.T) {
	for _, c := range []struct {
		name string
		in   any
		want string
	}{
		{"map keys sorted", map[string]any{"b": 1.0, "a": []any{"x", true, nil}}, `{"a": ["x", true, null], "b": 1}`},
		{"integral float64 as int", 42.0, `42`},
		{"fractional float64", 0.1, `0.1`},
		{"small float64", 1.5e-7, `1.5e-07`},
		{"large float64", 1e300, `1e+300`},
		{"negative zero", math.Copysign(0, -1), `-0.0`},
		{"float32", float32(0.25), `0.25`},
		{"ints", []any{int8(-3), uint64(1 << 63), int64(-1 << 63)}, `[-3, 9223372036854775808, -9223372036854775808]`},
		{"json.Number", json.Number("1e2"), `100.0`},
		{"struct via encoding/json", struct {
			Z string `json:"z"`
			A int    `json:"a"`
		}{"é", 1}, `{"z": "é", "a": 1}`},
		{"raw string", json.RawMessage(`"\u00e9\t"`), `"é\t"`},
		{"escapes", "\x00\x1f\x7f\u2028\"\\", `"\u0000\u001f` + "\x7f\u2028" + `\"\\"`},
	} {
		got, err := tmplToJSON(c.in)
		if err != nil || got != c.want {
			t.Errorf("%s: got %s, %v; want %s", c.name, got, err, c.want)
		}
	}
}

func TestToolCallStringArgumentsAreVerbatim(t *testing.T) {
	for _, args := range []any{`{"x":1}`, json.RawMessage(`"{\"x\":1}"`)} {
		got, err := tmplToolArguments(args)
		if err != nil || got != `{"x":1}` {
			t.Errorf("%#v: got %q, %v", args, got, err)
		}
	}
}

func TestPythonFloatRepr(t *testing.T) {
	// Pairs of (JSON literal, Python repr(float(literal))).
	for _, c := range [][2]string{
		{"1.0", "1.0"}, {"1e5", "100000.0"}, {"1e16", "1e+16"}, {"9999999999999998.0", "9999999999999998.0"},
		{"1e-4", "0.0001"}, {"1e-5", "1e-05"}, {"123.456e-10", "1.23456e-08"}, {"5e-324", "5e-324"},
		{"1.7976931348623157e308", "1.7976931348623157e+308"}, {"0.30000000000000004", "0.30000000000000004"},
		{"-2.5e-5", "-2.5e-05"}, {"1e400", "Infinity"}, {"-0.0", "-0.0"}, {"0e0", "0.0"},
	} {
		var b strings.Builder
		if err := tmplWriteNumber(&b, c[0]); err != nil || b.String() != c[1] {
			t.Errorf("%s: got %s, %v; want %s", c[0], b.String(), err, c[1])
		}
	}
	for _, bad := range []string{"", "-", "01", "1.", ".5", "1e", "+1", "1x", "NaN"} {
		var b strings.Builder
		if err := tmplWriteNumber(&b, bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func BenchmarkTemplateRender(b *testing.B) {
	tmpl := &Template{dialect: DialectQwen3}
	msgs := []Message{
		{Role: "system", Content: "You are helpful."},
		{Role: "user", Content: "hello"},
		{Role: "assistant", Content: "<think>\nhmm\n</think>\n\nHi!"},
		{Role: "user", Content: "weather?"},
	}
	opt := ChatOptions{AddGenerationPrompt: true, Tools: []any{json.RawMessage(`{"name": "w", "parameters": {"type": "object"}}`)}}
	for b.Loop() {
		if _, err := tmpl.Render(msgs, opt); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzToJSONRoundTrips checks that any JSON value comes back as JSON that
// decodes to the same value, and that nothing panics.
func FuzzToJSONRoundTrips(f *testing.F) {
	for _, s := range []string{`{"a": [1, 2.5, "x"], "b": null}`, `"\u00e9\n"`, `1e400`, `[[[]]]`, `{"k":1,"k":2}`, `-0`, `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := tmplToJSON(json.RawMessage(raw))
		var want any
		if !utf8.Valid(raw) || json.Unmarshal(raw, &want) != nil {
			return // invalid input: any error or output is fine, just no panic
		}
		if err != nil {
			if strings.Contains(err.Error(), "nested too deeply") {
				return
			}
			t.Fatalf("valid JSON %q rejected: %v", raw, err)
		}
		var back any
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			if strings.Contains(got, "Infinity") {
				return // Python prints overflowing floats as Infinity, which is not JSON
			}
			t.Fatalf("output %q of %q is not JSON: %v", got, raw, err)
		}
		if !reflect.DeepEqual(tmplNormalizeNumbers(want), tmplNormalizeNumbers(back)) {
			t.Fatalf("%q became %q", raw, got)
		}
	})
}

// tmplNormalizeNumbers maps -0 to 0 so that Python's int("-0") == 0 compares equal.
func tmplNormalizeNumbers(v any) any {
	switch x := v.(type) {
	case float64:
		if x == 0 {
			return 0.0
		}
	case []any:
		for i := range x {
			x[i] = tmplNormalizeNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = tmplNormalizeNumbers(x[k])
		}
	}
	return v
}

// FuzzRenderNeverPanics renders arbitrary conversations.
func FuzzRenderNeverPanics(f *testing.F) {
	f.Add("user", "hi", "assistant", "<think>a</think>b", "", `{"a":1}`, true)
	f.Add("tool", "<tool_response>", "tool", "</think>", "r", `"s"`, false)
	tmpl := &Template{dialect: DialectQwen3}
	f.Fuzz(func(t *testing.T, r1, c1, r2, c2, reasoning, args string, gen bool) {
		off := false
		msgs := []Message{
			{Role: r1, Content: c1},
			{Role: r2, Content: c2, ReasoningContent: reasoning, ToolCalls: []ToolCall{{Name: "f", Arguments: json.RawMessage(args)}}},
			{Role: r1, Content: c2},
		}
		out, err := tmpl.Render(msgs, ChatOptions{AddGenerationPrompt: gen, EnableThinking: &off, Tools: []any{json.RawMessage(args)}})
		if err == nil && gen && !strings.HasSuffix(out, "<|im_start|>assistant\n<think>\n\n</think>\n\n") {
			t.Fatalf("generation prompt missing: %q", out)
		}
	})
}
