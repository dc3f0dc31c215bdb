package server

import (
	"reflect"
	"strings"
	"testing"
)

// parsed is the whole of a parser's output.
type parsed struct {
	content, reasoning string
	calls              []toolCall
	stopped            bool
}

// parseAll feeds pieces to a parser and collects its events.
func parseAll(p *outputParser, pieces []string) parsed {
	var out parsed
	take := func(evs []event) {
		for _, ev := range evs {
			switch ev.kind {
			case evContent:
				out.content += ev.text
			case evReasoning:
				out.reasoning += ev.text
			case evCallStart:
				out.calls = append(out.calls, toolCall{Name: ev.text})
			case evCallArgs:
				out.calls[len(out.calls)-1].Arguments += ev.text
			case evToolCall:
				out.calls = append(out.calls, *ev.call)
			}
		}
	}
	for _, s := range pieces {
		take(p.feed(s))
	}
	take(p.finish())
	out.stopped = p.stopped
	return out
}

// splits returns text cut at every byte, in pairs of pieces, and whole.
func splits(text string) [][]string {
	out := [][]string{{text}}
	for i := 1; i < len(text); i++ {
		out = append(out, []string{text[:i], text[i:]})
	}
	bytes := make([]string, len(text))
	for i := 0; i < len(text); i++ { // bytes, not runes: every byte a piece
		bytes[i] = text[i : i+1]
	}
	return append(out, bytes)
}

func TestParserSeparatesReasoningContentAndToolCalls(t *testing.T) {
	for _, tc := range []struct {
		name      string
		text      string
		tools     bool
		stops     []string
		reasoning bool
		forced    string
		want      parsed
	}{
		{name: "plain answer", text: "\n\nHello there.\n", want: parsed{content: "Hello there."}},
		{name: "thinking then answer", text: "<think>\nLet me see.\nOK.\n</think>\n\nThe answer is 4.",
			want: parsed{reasoning: "Let me see.\nOK.", content: "The answer is 4."}},
		{name: "empty think block", text: "<think>\n\n</think>\n\nHi", want: parsed{content: "Hi"}},
		{name: "unclosed thinking", text: "<think>\nstill going", want: parsed{reasoning: "still going"}},
		{name: "think tag after content is text", text: "a <think> b", want: parsed{content: "a <think> b"}},
		{name: "prompt opened the think block", text: "plan\n</think>\n\nanswer", reasoning: true,
			want: parsed{reasoning: "plan", content: "answer"}},
		{name: "tool call", tools: true,
			text: "<think>\nneed weather\n</think>\n\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>",
			want: parsed{reasoning: "need weather", calls: []toolCall{{"get_weather", `{"city": "Paris", "days": 2}`}}}},
		{name: "two tool calls and text", tools: true,
			text: "Checking.\n<tool_call>\n{\"name\": \"a\", \"arguments\": {}}\n</tool_call>\n<tool_call>\n{\"name\": \"b\", \"arguments\": \"{\\\"x\\\": 1}\"}\n</tool_call>",
			want: parsed{content: "Checking.", calls: []toolCall{{"a", "{}"}, {"b", `{"x": 1}`}}}},
		{name: "tool call without tools is text", text: "<tool_call>\n{\"name\": \"a\", \"arguments\": {}}\n</tool_call>",
			want: parsed{content: "<tool_call>\n{\"name\": \"a\", \"arguments\": {}}\n</tool_call>"}},
		{name: "malformed arguments are passed on as generated", tools: true, text: "<tool_call>\n{\"name\": \"a\", \"arguments\": {\n</tool_call>",
			want: parsed{calls: []toolCall{{"a", "{"}}}},
		{name: "a call without its header is text", tools: true, text: "<tool_call>\n{\"arguments\": {}, \"name\": \"a\"\n</tool_call>",
			want: parsed{content: "<tool_call>\n{\"arguments\": {}, \"name\": \"a\"\n</tool_call>"}},
		{name: "call cut short keeps its arguments so far", tools: true, text: "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": [1, {}]}",
			want: parsed{calls: []toolCall{{"f", `{"a": [1, {}]}`}}}},
		{name: "nested braces and a partial close tag in a string", tools: true,
			text: "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"s\": \"}</tool\", \"o\": {\"p\": {}}}}\n</tool_call>\nafter",
			want: parsed{calls: []toolCall{{"f", `{"s": "}</tool", "o": {"p": {}}}`}}, content: "after"}},
		{name: "unfinished tool call is text", tools: true, text: "<tool_call>\n{\"name\": \"a\"",
			want: parsed{content: "<tool_call>\n{\"name\": \"a\""}},
		{name: "unfinished tool call keeps the newline before it", tools: true, text: "Look.\n<tool_call>\n{\"na",
			want: parsed{content: "Look.\n<tool_call>\n{\"na"}},
		{name: "forced named call", tools: true, forced: "\n{\"name\": \"f\", \"arguments\": ",
			text: "{\"q\": [1, 2]}}\n</tool_call>", want: parsed{calls: []toolCall{{"f", `{"q": [1, 2]}`}}}},
		{name: "stop string cuts content", stops: []string{"END"}, text: "one two END three",
			want: parsed{content: "one two ", stopped: true}},
		{name: "earliest of several stops", stops: []string{"zz", "\n\n"}, text: "ab\n\ncd zz",
			want: parsed{content: "ab", stopped: true}},
		{name: "partial stop at the end is text", stops: []string{"ENDING"}, text: "it ENDS", want: parsed{content: "it ENDS"}},
		{name: "stop does not apply to thinking", stops: []string{"x"}, text: "<think>\nx marks\n</think>\n\nfix this",
			want: parsed{reasoning: "x marks", content: "fi", stopped: true}},
		{name: "partial tag at the end is text", tools: true, text: "see <tool_ca", want: parsed{content: "see <tool_ca"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, pieces := range splits(tc.text) {
				got := parseAll(newOutputParser(tc.tools, tc.stops, tc.reasoning, tc.forced), pieces)
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("pieces %q:\n got %+v\nwant %+v", pieces, got, tc.want)
				}
			}
		})
	}
}

func TestParserNeverEmitsTextAfterAStop(t *testing.T) {
	p := newOutputParser(false, []string{"STOP"}, false, "")
	var out strings.Builder
	for _, s := range []string{"a S", "TO", "P b", "c"} {
		for _, ev := range p.feed(s) {
			out.WriteString(ev.text)
		}
	}
	for _, ev := range p.finish() {
		out.WriteString(ev.text)
	}
	if out.String() != "a " || !p.stopped {
		t.Errorf("output %q stopped %v, want \"a \" and stopped", out.String(), p.stopped)
	}
}

func TestParserRawModeKeepsTextAsIs(t *testing.T) {
	p := newOutputParser(false, nil, false, "")
	p.raw = true
	got := parseAll(p, []string{"\n<think>x</think>\n", "<tool_call>\n"})
	if want := (parsed{content: "\n<think>x</think>\n<tool_call>\n"}); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
