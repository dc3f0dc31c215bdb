package server

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// coderGoldens are tool calls rendered by Qwen3-Coder's template under
// jinja2 (scripts/coder_calls/golden.py) with the calls they stand for.
type coderGoldens struct {
	Tools []json.RawMessage `json:"tools"`
	Cases []struct {
		Name    string `json:"name"`
		Output  string `json:"output"`
		Content string `json:"content"`
		Calls   []struct {
			Name      string         `json:"name"`
			Arguments map[string]any `json:"arguments"`
		} `json:"calls"`
	} `json:"cases"`
}

func loadCoderGoldens(t *testing.T) (coderGoldens, xmlTools) {
	t.Helper()
	data, err := os.ReadFile("testdata/coder_calls.json")
	if err != nil {
		t.Fatal(err)
	}
	var g coderGoldens
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	tools := make([]toolDef, len(g.Tools))
	for i, raw := range g.Tools {
		if err := tools[i].UnmarshalJSON(raw); err != nil {
			t.Fatal(err)
		}
	}
	return g, newXMLTools(tools)
}

// coderParser is a parser of Qwen3-Coder output with the tools x.
func coderParser(x xmlTools, forced string) *outputParser {
	p := newOutputParser(true, nil, false, forced)
	p.xml = x
	return p
}

func TestCoderParserReadsTheTemplatesOwnToolCalls(t *testing.T) {
	g, x := loadCoderGoldens(t)
	for _, tc := range g.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			for _, pieces := range splits(tc.Output) {
				got := parseAll(coderParser(x, ""), pieces)
				if got.content != tc.Content || got.reasoning != "" || len(got.calls) != len(tc.Calls) {
					t.Fatalf("pieces %q: got %+v, want content %q and %d calls", pieces, got, tc.Content, len(tc.Calls))
				}
				for i, c := range got.calls {
					var args map[string]any
					if err := json.Unmarshal([]byte(c.Arguments), &args); err != nil {
						t.Fatalf("call %d arguments %s: %v", i, c.Arguments, err)
					}
					if c.Name != tc.Calls[i].Name || !reflect.DeepEqual(args, tc.Calls[i].Arguments) {
						t.Fatalf("pieces %q: call %d is %s(%s), want %s(%v)", pieces, i, c.Name, c.Arguments, tc.Calls[i].Name, tc.Calls[i].Arguments)
					}
				}
			}
		})
	}
}

func TestCoderParserHandlesWhatModelsWrite(t *testing.T) {
	_, x := loadCoderGoldens(t)
	for _, tc := range []struct {
		name, text, forced string
		want               parsed
	}{
		{name: "exact argument text", text: "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n<parameter=days>\n2\n</parameter>\n</function>\n</tool_call>",
			want: parsed{calls: []toolCall{{"get_weather", `{"city": "Paris", "days": 2}`}}}},
		{name: "without <tool_call>", text: "Sure.\n<function=get_weather>\n<parameter=city>\nRome\n</parameter>\n</function>\n",
			want: parsed{content: "Sure.", calls: []toolCall{{"get_weather", `{"city": "Rome"}`}}}},
		{name: "without </tool_call>", text: "<tool_call>\n<function=ping>\n</function>\nDone.",
			want: parsed{calls: []toolCall{{"ping", `{}`}}, content: "Done."}},
		{name: "without </parameter>", text: "<tool_call>\n<function=get_weather>\n<parameter=city>\nOslo\n<parameter=days>\n4\n</function>\n</tool_call>",
			want: parsed{calls: []toolCall{{"get_weather", `{"city": "Oslo", "days": 4}`}}}},
		{name: "value not valid for its type stays text", text: "<tool_call>\n<function=get_weather>\n<parameter=days>\nthree\n</parameter>\n</function>\n</tool_call>",
			want: parsed{calls: []toolCall{{"get_weather", `{"days": "three"}`}}}},
		{name: "JSON object value compacted", text: "<tool_call>\n<function=get_weather>\n<parameter=where>\n{\"lat\":  1,\n \"x\": [true]}\n</parameter>\n</function>\n</tool_call>",
			want: parsed{calls: []toolCall{{"get_weather", `{"where": {"lat":1,"x":[true]}}`}}}},
		{name: "boolean written as JSON", text: "<tool_call>\n<function=get_weather>\n<parameter=metric>\nfalse\n</parameter>\n</function>\n</tool_call>",
			want: parsed{calls: []toolCall{{"get_weather", `{"metric": false}`}}}},
		{name: "unknown parameter kept as text", text: "<tool_call>\n<function=get_weather>\n<parameter=zzz>\n12\n</parameter>\n</function>\n</tool_call>",
			want: parsed{calls: []toolCall{{"get_weather", `{"zzz": "12"}`}}}},
		{name: "markup-like text in a string value", text: "<tool_call>\n<function=write_file>\n<parameter=content>\na <b>\"q\"</b> \\ c\n</parameter>\n</function>\n</tool_call>",
			want: parsed{calls: []toolCall{{"write_file", `{"content": "a <b>\"q\"</b> \\ c"}`}}}},
		{name: "cut short inside a value keeps the value so far", text: "<tool_call>\n<function=write_file>\n<parameter=path>\na.txt\n</parameter>\n<parameter=content>\nhel",
			want: parsed{calls: []toolCall{{"write_file", `{"path": "a.txt", "content": "hel"}`}}}},
		{name: "cut short inside the closing tag", text: "<tool_call>\n<function=write_file>\n<parameter=path>\na.txt\n</param",
			want: parsed{calls: []toolCall{{"write_file", `{"path": "a.txt"}`}}}},
		{name: "cut short after the name", text: "<tool_call>\n<function=ping>",
			want: parsed{calls: []toolCall{{"ping", `{}`}}}},
		{name: "not a call is text", text: "<tool_call>\nhello there",
			want: parsed{content: "<tool_call>\nhello there"}},
		{name: "a bad name is text", text: "x <function=\nfoo> y",
			want: parsed{content: "x <function=\nfoo> y"}},
		{name: "JSON-form call is text under the Coder template", text: "<tool_call>\n{\"name\": \"ping\"}\n</tool_call>",
			want: parsed{content: "<tool_call>\n{\"name\": \"ping\"}\n</tool_call>"}},
		{name: "forced required call", forced: "\n<function=", text: "ping>\n</function>\n</tool_call>",
			want: parsed{calls: []toolCall{{"ping", `{}`}}}},
		{name: "forced named call", forced: "\n<function=get_weather>\n", text: "<parameter=city>\nLima\n</parameter>\n</function>\n</tool_call>",
			want: parsed{calls: []toolCall{{"get_weather", `{"city": "Lima"}`}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, pieces := range splits(tc.text) {
				got := parseAll(coderParser(x, tc.forced), pieces)
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("pieces %q:\n got %+v\nwant %+v", pieces, got, tc.want)
				}
			}
		})
	}
}

func TestCoderParserStreamsEachParameterAsItCloses(t *testing.T) {
	_, x := loadCoderGoldens(t)
	p := coderParser(x, "")
	var args []string
	feed := func(s string) {
		for _, ev := range p.feed(s) {
			if ev.kind == evCallArgs {
				args = append(args, ev.text)
			}
		}
	}
	feed("<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n")
	if want := []string{`{"city": "Paris"`}; !reflect.DeepEqual(args, want) {
		t.Fatalf("after the first parameter: %q, want %q", args, want)
	}
	feed("<parameter=days>\n2\n</param")
	if len(args) != 1 {
		t.Fatalf("an unclosed parameter was sent: %q", args)
	}
	feed("eter>\n</function>\n</tool_call>")
	if got := strings.Join(args, ""); got != `{"city": "Paris", "days": 2}` {
		t.Fatalf("arguments %q", got)
	}
}

func TestCoderParserStreamsStringValuesAsTheyAreWritten(t *testing.T) {
	_, x := loadCoderGoldens(t)
	p := coderParser(x, "")
	args := ""
	feed := func(s string) {
		for _, ev := range p.feed(s) {
			if ev.kind == evCallArgs {
				args += ev.text
			}
		}
	}
	for _, step := range []struct{ in, want string }{
		{"<tool_call>\n<function=write_file>\n<parameter=content>\n", `{"content": "`},
		{"line \"one\"\n", `{"content": "line \"one\"`}, // the newline may come before </parameter>
		{"é\xe6\x97", `{"content": "line \"one\"\né`},   // half a character
		{"\xa5\n</para", `{"content": "line \"one\"\né日`},
		{"meter>\n<parameter=path>\nx\n</parameter>\n", `{"content": "line \"one\"\né日", "path": "x"`},
		{"<parameter=zzz>\n1", `{"content": "line \"one\"\né日", "path": "x", "zzz": "1`}, // unknown: a string
		{"\n</parameter>\n</function>\n</tool_call>\n<tool_call>\n<function=get_weather>\n<parameter=days>\n4",
			`{"content": "line \"one\"\né日", "path": "x", "zzz": "1"}`}, // typed: sent whole
		{"\n</parameter>\n</function>\n</tool_call>", `{"content": "line \"one\"\né日", "path": "x", "zzz": "1"}{"days": 4}`},
	} {
		feed(step.in)
		if args != step.want {
			t.Fatalf("after %q: arguments %s, want %s", step.in, args, step.want)
		}
	}
}

func TestPythonLiteralsBecomeJSON(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{'a': 1, 'b': True, 'c': None, 'd': [1.5, 'x']}`, `{"a": 1, "b": true, "c": null, "d": [1.5, "x"]}`},
		{`{'s': 'it\'s "q"\n\u00e9'}`, `{"s": "it's \"q\"\né"}`},
		{`("a", -2, 1e3,)`, `["a", -2, 1e3]`},
		{`[]`, `[]`},
		{`{"k": {}}`, `{"k": {}}`},
	} {
		got, ok := pyLiteralJSON(tc.in)
		if !ok || got != tc.want {
			t.Errorf("%s: got %s %v, want %s", tc.in, got, ok, tc.want)
		}
	}
	for _, bad := range []string{`{1: 2}`, `[1, 2`, `'unterminated`, `f(x)`, `{'a' 1}`, `[1] x`, `nan`, strings.Repeat("[", 100) + strings.Repeat("]", 100)} {
		if got, ok := pyLiteralJSON(bad); ok {
			t.Errorf("%s: got %s, want a refusal", bad, got)
		}
	}
}

// FuzzCoderParser checks that whatever a model writes, fed in any pieces,
// the parser does not fail, reads valid text the same in pieces as whole,
// and every tool call it returns has arguments that are a JSON object.
func FuzzCoderParser(f *testing.F) {
	data, err := os.ReadFile("testdata/coder_calls.json")
	if err != nil {
		f.Fatal(err)
	}
	var g coderGoldens
	if err := json.Unmarshal(data, &g); err != nil {
		f.Fatal(err)
	}
	tools := make([]toolDef, len(g.Tools))
	for i, raw := range g.Tools {
		if err := tools[i].UnmarshalJSON(raw); err != nil {
			f.Fatal(err)
		}
	}
	x := newXMLTools(tools)
	for _, c := range g.Cases {
		f.Add(c.Output, uint8(7))
	}
	f.Add("<function=get_weather>\n<parameter=where>\n{'a': [1, (2,)], 'b': None}\n</parameter>", uint8(3))
	f.Fuzz(func(t *testing.T, text string, cut uint8) {
		var pieces []string
		for step := int(cut%16) + 1; len(text) > 0; {
			n := min(step, len(text))
			pieces = append(pieces, text[:n])
			text = text[n:]
		}
		got := parseAll(coderParser(x, ""), pieces)
		all := strings.Join(pieces, "")
		if whole := parseAll(coderParser(x, ""), []string{all}); utf8.ValidString(all) && !reflect.DeepEqual(got, whole) {
			t.Fatalf("pieces %q: %+v; whole: %+v", pieces, got, whole)
		}
		for _, c := range got.calls {
			var v map[string]any
			if err := json.Unmarshal([]byte(c.Arguments), &v); err != nil {
				t.Fatalf("call %s arguments %q: %v", c.Name, c.Arguments, err)
			}
		}
	})
}
