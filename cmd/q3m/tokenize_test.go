package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/q3m/q3m/convert"
	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/quant"
	"github.com/q3m/q3m/runtime"
	"github.com/q3m/q3m/synth"
	"github.com/q3m/q3m/tokenizer"
)

// chatTestModel converts a small random checkpoint with synth's byte-level
// BPE tokenizer and returns the model file and the checkpoint directory.
func chatTestModel(t testing.TB, maxPos int) (string, string) {
	t.Helper()
	s := synth.Variants()["base"]
	s.Layers, s.MaxPos = 2, maxPos
	dir := t.TempDir()
	hf := filepath.Join(dir, "hf")
	if err := synth.Write(hf, s); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "chat.gguf")
	if err := convert.Convert(context.Background(), hf, out, convert.Options{Type: quant.Q8_0}); err != nil {
		t.Fatal(err)
	}
	return out, hf
}

func TestTokenizeJSONLAnswersEachLine(t *testing.T) {
	path, hf := chatTestModel(t, 256)
	f, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tok, err := runtime.NewTokenizer(f)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := runtime.NewChatTemplate(f)
	if err != nil {
		t.Fatal(err)
	}
	// The reference tokenizer comes from the checkpoint's tokenizer.json,
	// not from the file's metadata.
	js, err := os.ReadFile(filepath.Join(hf, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := tokenizer.FromHF(js, 0)
	if err != nil {
		t.Fatal(err)
	}
	chatText := "<|im_start|>system\nbe brief<|im_end|>\n<|im_start|>user\nhi <|im_end|><|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n" // synth's template with enable_thinking false
	tests := []struct {
		name, in string
		want     map[string]any
	}{
		{"text with special tokens", `{"text": "the cat<|im_end|>\n"}`,
			map[string]any{"ids": ref.EncodeSpecial("the cat<|im_end|>\n")}},
		{"empty text", `{"text": ""}`, map[string]any{"ids": []int32{}}},
		{"ids", mustJSON(t, map[string]any{"ids": ref.EncodeSpecial("héllo <think>")}), map[string]any{"text": "héllo <think>"}},
		{"messages", `{"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi <|im_end|>"}], "add_generation_prompt": true, "enable_thinking": false}`,
			map[string]any{"text": chatText, "ids": ref.EncodeSpecial(chatText)}},
		{"bad JSON", `{"text": `, map[string]any{"error": true}},
		{"two kinds", `{"text": "a", "ids": [1]}`, map[string]any{"error": true}},
		{"unknown field", `{"txt": "a"}`, map[string]any{"error": true}},
		{"id out of range", `{"ids": [1, 99999]}`, map[string]any{"error": true}},
		{"negative id", `{"ids": [-3]}`, map[string]any{"error": true}},
		{"message without role", `{"messages": [{"content": "x"}]}`, map[string]any{"error": true}},
		{"tool call without name", `{"messages": [{"role": "assistant", "tool_calls": [{"function": {"arguments": {}}}]}]}`, map[string]any{"error": true}},
		{"not an object", `[1, 2]`, map[string]any{"error": true}},
	}
	var in strings.Builder
	for _, tc := range tests {
		in.WriteString(tc.in + "\n\n") // blank lines are skipped
	}
	var out bytes.Buffer
	if err := tokenizeJSONL(context.Background(), strings.NewReader(in.String()), &out, tok, tmpl, maxLineBytes); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != len(tests) {
		t.Fatalf("%d answer lines for %d requests:\n%s", len(lines), len(tests), out.String())
	}
	for i, tc := range tests {
		var got map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &got); err != nil {
			t.Errorf("%s: answer %q is not JSON: %v", tc.name, lines[i], err)
			continue
		}
		if _, isErr := tc.want["error"]; isErr {
			if msg, ok := got["error"].(string); !ok || msg == "" || len(got) != 1 {
				t.Errorf("%s: answer %s, want only an error", tc.name, lines[i])
			}
			continue
		}
		if wantJSON := mustJSON(t, tc.want); lines[i] != wantJSON {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, lines[i], wantJSON)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
