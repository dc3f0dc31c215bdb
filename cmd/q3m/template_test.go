package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/runtime"
	"github.com/q3m/q3m/tokenizer"
)

// testdata/fields.jinja prints each message's role, content (null when
// null), tool_call_id and tool calls (id, type, name, and the arguments'
// "a" when they are an object, the string when a string).
const fieldsTemplate = "testdata/fields.jinja"

// openAIMessages are OpenAI's shapes: null content, tool_calls with
// id/type/function and arguments as an object and as a string,
// tool_call_id.
const openAIMessages = `[{"role": "user", "content": "hi"},
 {"role": "assistant", "content": null, "tool_calls": [
   {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": {"b": 1, "a": 2}}},
   {"id": "call_2", "type": "function", "function": {"name": "g", "arguments": "{\"x\": 1}"}}]},
 {"role": "tool", "tool_call_id": "call_1", "content": "42"}]`

// openAIRendered is fieldsTemplate over openAIMessages with
// add_generation_prompt, as Python's jinja2 3.1.6 renders it:
//
//	jinja2.Environment().from_string(open("fields.jinja").read()).render(messages=json.loads(M), add_generation_prompt=True)
const openAIRendered = "[user|hi|-][assistant|null|-|call_1 function f O:2|call_2 function g S:{\"x\": 1}][tool|42|call_1]<|im_start|>assistant\n"

// TestCLITokenizeRendersOpenAIMessagesWithATemplateFile: tokenize --jsonl
// reads OpenAI's message shapes and renders them with
// --chat-template-file as jinja2 does; a template file that is not one is
// refused by name.
func TestCLITokenizeRendersOpenAIMessagesWithATemplateFile(t *testing.T) {
	path, _ := chatTestModel(t, 256)
	req := `{"messages": ` + strings.ReplaceAll(openAIMessages, "\n", "") + `, "add_generation_prompt": true}` + "\n" +
		`{"messages": [{"role": "assistant", "content": 3}]}` + "\n" +
		`{"messages": [{"role": "assistant", "tool_calls": [{"id": "c", "type": "function"}]}]}` + "\n"
	stdout, stderr, err := q3mWith(t, nil, req, "tokenize", "--jsonl", "--chat-template-file", fieldsTemplate, path)
	if err != nil {
		t.Fatalf("tokenize: %v\n%s", err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d answers to 3 lines:\n%s", len(lines), stdout)
	}
	var got struct {
		Text string  `json:"text"`
		IDs  []int32 `json:"ids"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	if got.Text != openAIRendered {
		t.Errorf("rendered\n%q\nwant (jinja2)\n%q", got.Text, openAIRendered)
	}
	tok := modelTokenizer(t, path)
	if want := tok.EncodeSpecial(openAIRendered); !slicesEqual(got.IDs, want) {
		t.Errorf("ids %v, want %v", got.IDs, want)
	}
	for i, want := range []string{"content", "function"} {
		if !strings.Contains(lines[i+1], `"error"`) || !strings.Contains(lines[i+1], want) {
			t.Errorf("line %d: answer %s, want an error about the %s", i+2, lines[i+1], want)
		}
	}

	bad := filepath.Join(t.TempDir(), "bad.jinja")
	if err := os.WriteFile(bad, []byte("{% for m in messages %}"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"tokenize", "--jsonl", "--chat-template-file", bad, path},
		{"run", "-m", path, "-p", "hi", "--chat-template-file", bad},
		{"generate", "-m", path, "-p", "hi", "--chat-template-file", bad},
		{"run", "-m", path, "-p", "hi", "--chat-template-file", filepath.Join(t.TempDir(), "none.jinja")},
	} {
		stdout, stderr, err := q3mWith(t, nil, "", args...)
		if err == nil || stdout != "" || !strings.Contains(stderr, "--chat-template-file") || !strings.Contains(stderr, ".jinja") {
			t.Errorf("q3m %s: err %v, stdout %q, stderr %q; want the template file refused by name", strings.Join(args, " "), err, stdout, stderr)
		}
	}
}

// TestCLIRunAndGenerateUseTheChatTemplateFile: run's prompt is the
// template file's rendering of the message, and generate's answer to a
// prompt is its answer to those ids.
func TestCLIRunAndGenerateUseTheChatTemplateFile(t *testing.T) {
	path, _ := chatTestModel(t, 256)
	rendered := "[user|hello|-]<|im_start|>assistant\n" // fields.jinja, as for openAIRendered
	want := modelTokenizer(t, path).EncodeSpecial(rendered)

	stdout, stderr, err := q3mWith(t, nil, "", "run", "-m", path, "-p", "hello", "--json", "-n", "4", "--temp", "0", "-t", "1", "--chat-template-file", fieldsTemplate)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	if a := parseAnswers(t, stdout); len(a) != 1 || a[0].Usage.PromptTokens != len(want) {
		t.Errorf("run --json: %s; want %d prompt tokens, those of %q", stdout, len(want), rendered)
	}

	text, stderr, err := q3mWith(t, nil, "", "generate", "-m", path, "-p", "hello", "-n", "6", "--temp", "0", "-t", "1", "--chat-template-file", fieldsTemplate)
	if err != nil {
		t.Fatalf("generate -p: %v\n%s", err, stderr)
	}
	idsOut, stderr, err := q3mWith(t, nil, "", "generate", "-m", path, "--ids", joinIDs(want), "-n", "6", "--temp", "0", "-t", "1")
	if err != nil {
		t.Fatalf("generate --ids: %v\n%s", err, stderr)
	}
	ids, err := parseIDs(strings.TrimSpace(idsOut))
	if err != nil {
		t.Fatal(err)
	}
	stop, _ := endOfTurnIDs(t, path)
	for i, id := range ids {
		if stop[id] {
			ids = ids[:i]
			break
		}
	}
	if got, want := strings.TrimSuffix(text, "\n"), modelTokenizer(t, path).Decode(ids); got != want {
		t.Errorf("generate -p with the template printed %q; the same ids by --ids decode to %q", got, want)
	}
}

func modelTokenizer(t *testing.T, path string) *tokenizer.Tokenizer {
	t.Helper()
	f, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tok, err := runtime.NewTokenizer(f)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// endOfTurnIDs are the ids generate stops after.
func endOfTurnIDs(t *testing.T, path string) (map[int32]bool, error) {
	tok := modelTokenizer(t, path)
	stops := map[int32]bool{tok.EOS(): true}
	for _, s := range []string{"<|im_end|>", "<|endoftext|>"} {
		if id, ok := tok.Lookup(s); ok {
			stops[id] = true
		}
	}
	return stops, nil
}

func slicesEqual(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
