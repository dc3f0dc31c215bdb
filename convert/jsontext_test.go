package convert

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestConvertRefusesMergesOfUnknownTokens: the runtime's tokenizer refuses
// such a file, so convert must not write it.
func TestConvertRefusesMergesOfUnknownTokens(t *testing.T) {
	for _, tt := range []struct {
		merge any
		want  string
	}{
		{"a zz", `"zz" is not a token`},
		{"zz a", `"zz" is not a token`},
		{"d f", `"df" is not a token`},
		{[]string{"", "a"}, `"" is not a token`},
		{[]string{"a", "b"}, ""}, // ab is a token: accepted
	} {
		dir := writeModel(t, buildModel(tinyConfig(), false, "", "BF16", 1), single)
		p := filepath.Join(dir, "tokenizer.json")
		var tj map[string]any
		if err := json.Unmarshal(readFile(t, p), &tj); err != nil {
			t.Fatal(err)
		}
		model := tj["model"].(map[string]any)
		model["merges"] = append(model["merges"].([]any), tt.merge)
		writeJSON(t, p, tj)
		err := convertWithin(t, dir, filepath.Join(t.TempDir(), "o.gguf"))
		if tt.want == "" {
			if err != nil {
				t.Errorf("merge %v: %v", tt.merge, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "tokenizer.json: model.merges[7]") {
			t.Errorf("merge %v: error %v, want one containing %q", tt.merge, err, tt.want)
		}
	}
}

// TestConvertRefusesJSONThatDecodesToReplacementCharacters: encoding/json
// turns bad UTF-8 and lone surrogates into U+FFFD without an error, which
// would change tokens, names and templates silently.
func TestConvertRefusesJSONThatDecodesToReplacementCharacters(t *testing.T) {
	for _, tt := range []struct {
		file string
		edit func(b []byte) []byte
		want string
	}{
		{"tokenizer.json", func(b []byte) []byte { return []byte(strings.Replace(string(b), `"cd"`, "\"c\xffd\"", 1)) }, "invalid UTF-8"},
		{"tokenizer.json", func(b []byte) []byte { return []byte(strings.Replace(string(b), `"cd"`, `"c\udc00"`, 1)) }, "lone low surrogate"},
		{"tokenizer_config.json", func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"add_bos_token"`, "\"add_bos_token\xc3\"", 1))
		}, "invalid UTF-8"},
		{"config.json", func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"qwen3_moe"`, `"qwen3_moe\ud83d"`, 1))
		}, "lone high surrogate"},
		{"model.safetensors.index.json", func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"metadata"`, "\"meta\xe2\x82data\"", 1))
		}, "invalid UTF-8"},
	} {
		dir := writeModel(t, buildModel(tinyConfig(), false, "", "BF16", 1), indexed)
		p := filepath.Join(dir, tt.file)
		b := readFile(t, p)
		nb := tt.edit(b)
		if string(nb) == string(b) {
			t.Fatalf("%s: edit changed nothing", tt.file)
		}
		writeFile(t, p, nb)
		err := convertWithin(t, dir, filepath.Join(t.TempDir(), "o.gguf"))
		if err == nil || !strings.Contains(err.Error(), tt.file) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one naming the file and %q", tt.file, err, tt.want)
		}
	}
}

func TestCheckJSONText(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string // "" for valid
	}{
		{`{"a": "héllo 😀"}`, ""},
		{`{"a": "\ud83d\ude00"}`, ""},
		{`{"a": "\\ud800"}`, ""}, // an escaped backslash, then text
		{`{"a": "\u00e9\uFFFD"}`, ""},
		{"{\"a\": \"\xff\"}", "invalid UTF-8 at byte 7"},
		{"{\"a\": \"\xed\xa0\x80\"}", "invalid UTF-8 at byte 7"}, // a surrogate in UTF-8
		{`{"a": "\ud800"}`, `lone high surrogate \ud800 at byte 7`},
		{`{"a": "\ud800\u0041"}`, "lone high surrogate"},
		{`{"a": "\ud800\ud800"}`, "lone high surrogate"},
		{`{"a": "x\uDFFF"}`, `lone low surrogate \udfff at byte 8`},
		{`{"a": "\ud800"`, "lone high surrogate"},
	} {
		err := CheckJSONText([]byte(tt.in))
		if tt.want == "" {
			if err != nil {
				t.Errorf("%q: %v", tt.in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want %q", tt.in, err, tt.want)
		}
	}
}

// FuzzCheckJSONText: text that CheckJSONText accepts decodes to strings
// holding U+FFFD only where the input spells it.
func FuzzCheckJSONText(f *testing.F) {
	for _, s := range []string{`"a"`, `"\ud83d\ude00"`, `"\ud800"`, "\"\xff\"", `"\ufffd"`, `"\\ud800"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var s string
		if CheckJSONText(b) != nil || json.Unmarshal(b, &s) != nil {
			return
		}
		if strings.ContainsRune(s, '\uFFFD') && !strings.Contains(string(b), "\uFFFD") &&
			!strings.Contains(strings.ToLower(string(b)), `\ufffd`) {
			t.Fatalf("%q accepted but decodes to %q", b, s)
		}
	})
}
