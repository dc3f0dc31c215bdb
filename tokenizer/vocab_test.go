package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	goruntime "runtime"
	"slices"
	"testing"
)

// ggufVocab lays the tokenizer.json out the way llama.cpp's converter writes
// tokenizer.ggml.*, independently of VocabFromHF: tokens by id, "[PADn]" for
// ids without a token, type 3 for special added tokens and 4 for the others,
// merges as "a b".
func ggufVocab(t *testing.T, raw []byte, size int) Vocab {
	t.Helper()
	var j struct {
		Model struct {
			Vocab  map[string]int `json:"vocab"`
			Merges [][2]string    `json:"merges"`
		} `json:"model"`
		Added []struct {
			ID      int    `json:"id"`
			Content string `json:"content"`
			Special bool   `json:"special"`
		} `json:"added_tokens"`
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		t.Fatal(err)
	}
	v := Vocab{Model: "gpt2", Pre: "qwen2", Tokens: make([]string, size), Types: make([]int32, size),
		BOS: 151643, EOS: 151645, PAD: 151643}
	for i := range v.Tokens {
		v.Tokens[i], v.Types[i] = fmt.Sprintf("[PAD%d]", i), TypeUnused
	}
	for tok, id := range j.Model.Vocab {
		v.Tokens[id], v.Types[id] = tok, TypeNormal
	}
	for _, a := range j.Added {
		v.Tokens[a.ID], v.Types[a.ID] = a.Content, TypeUserDefined
		if a.Special {
			v.Types[a.ID] = TypeControl
		}
	}
	for _, m := range j.Model.Merges {
		v.Merges = append(v.Merges, m[0]+" "+m[1])
	}
	return v
}

func TestNewFromGGUFVocabEqualsFromHF(t *testing.T) {
	hf := qwen(t)
	g, err := New(ggufVocab(t, tokenizerJSON(t), qwen3VocabSize))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(g.tokens, hf.tokens) || !slices.Equal(g.types, hf.types) || !slices.Equal(g.pieces, hf.pieces) {
		t.Fatal("token texts, types or decoded pieces differ between New and FromHF")
	}
	if !maps.Equal(g.merges, hf.merges) || !maps.Equal(g.ids, hf.ids) || g.byteID != hf.byteID || !slices.Equal(g.added, hf.added) {
		t.Fatal("merge table, lookup map, byte ids or added tokens differ between New and FromHF")
	}
	if g.bos != hf.bos || g.eos != hf.eos || g.pad != hf.pad {
		t.Fatalf("BOS/EOS/PAD: New %d/%d/%d, FromHF %d/%d/%d", g.bos, g.eos, g.pad, hf.bos, hf.eos, hf.pad)
	}
	for i, c := range refCases(t) {
		if got := g.EncodeSpecial(c.Text); !slices.Equal(got, c.IDs) {
			t.Errorf("case %d: New(...).EncodeSpecial(%q) = %v, want %v", i, c.Text, got, c.IDs)
		}
	}
}

// tinyVocab is a valid vocabulary: the 256 byte tokens, "ab", and <s>.
func tinyVocab() Vocab {
	tab := byteRunes()
	v := Vocab{BOS: -1, EOS: -1, PAD: -1}
	for _, r := range tab {
		v.Tokens = append(v.Tokens, string(r))
		v.Types = append(v.Types, TypeNormal)
	}
	v.Tokens = append(v.Tokens, "ab", "<s>")
	v.Types = append(v.Types, TypeNormal, TypeControl)
	v.Merges = []string{"a b"}
	return v
}

func TestNewRejectsBadVocabularies(t *testing.T) {
	cases := []struct {
		name   string
		change func(v *Vocab)
	}{
		{"no tokens", func(v *Vocab) { v.Tokens, v.Types = nil, nil }},
		{"types length mismatch", func(v *Vocab) { v.Types = v.Types[:10] }},
		{"missing byte token", func(v *Vocab) { v.Tokens[65] = "zz" }},
		{"byte token is control", func(v *Vocab) { v.Types['a'] = TypeControl }},
		{"merge without space", func(v *Vocab) { v.Merges = []string{"ab"} }},
		{"empty merge", func(v *Vocab) { v.Merges = []string{""} }},
		{"merge of unknown token", func(v *Vocab) { v.Merges = []string{"a q9"} }},
		{"merge result not in vocabulary", func(v *Vocab) { v.Merges = []string{"b a"} }},
		{"EOS out of range", func(v *Vocab) { v.EOS = 9999 }},
		{"BOS negative", func(v *Vocab) { v.BOS = -7 }},
		{"other model", func(v *Vocab) { v.Model = "llama" }},
		{"other pre-tokenizer", func(v *Vocab) { v.Pre = "llama3" }},
	}
	if _, err := New(tinyVocab()); err != nil {
		t.Fatalf("tiny vocabulary rejected: %v", err)
	}
	for _, c := range cases {
		v := tinyVocab()
		c.change(&v)
		if _, err := New(v); !errors.Is(err, ErrVocab) {
			t.Errorf("%s: New error = %v, want ErrVocab", c.name, err)
		}
	}
}

func TestTinyVocabularyMergesAndSplitsAddedTokens(t *testing.T) {
	tok, err := New(tinyVocab())
	if err != nil {
		t.Fatal(err)
	}
	ab, s := int32(256), int32(257)
	if got, want := tok.Encode("ab<s>"), []int32{ab, tok.byteID['<'], tok.byteID['s'], tok.byteID['>']}; !slices.Equal(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
	if got, want := tok.EncodeSpecial("ab<s>"), []int32{ab, s}; !slices.Equal(got, want) {
		t.Errorf("EncodeSpecial = %v, want %v", got, want)
	}
}

func TestFromHFRejectsBadJSON(t *testing.T) {
	cases := []struct{ name, json string }{
		{"not JSON", `{"model":`},
		{"wrong model type", `{"model":{"type":"Unigram","vocab":{}}}`},
		{"other split pattern", `{"model":{"type":"BPE","vocab":{"a":0}},"pre_tokenizer":{"type":"Split","pattern":{"Regex":"\\w+"}}}`},
		{"negative id", `{"model":{"type":"BPE","vocab":{"a":-1}}}`},
		{"duplicate id", `{"model":{"type":"BPE","vocab":{"a":0}},"added_tokens":[{"id":0,"content":"<x>"}]}`},
		{"bad merges", `{"model":{"type":"BPE","vocab":{"a":0},"merges":[1,2]}}`},
		{"merge of three", `{"model":{"type":"BPE","vocab":{"a":0},"merges":[["a","b","c"]]}}`},
		{"huge id", `{"model":{"type":"BPE","vocab":{"a":2000000000}}}`},
		{"no byte tokens", `{"model":{"type":"BPE","vocab":{"a":0}}}`},
	}
	for _, c := range cases {
		if _, err := FromHF([]byte(c.json), 0); err == nil {
			t.Errorf("%s: FromHF accepted %s", c.name, c.json)
		}
	}
	if _, err := FromHF(tokenizerJSON(t), 1000); !errors.Is(err, ErrVocab) {
		t.Errorf("FromHF with a vocab size below the token count: error %v, want ErrVocab", err)
	}
}

// TestVocabSizesBeyondMaxVocabAreRefusedBeforeAllocating checks sizes from
// a config (vocab_size) or a tokenizer.json (ids) far beyond any real
// vocabulary: each is an error, reached without allocating for the size.
func TestVocabSizesBeyondMaxVocabAreRefusedBeforeAllocating(t *testing.T) {
	small := `{"model":{"type":"BPE","vocab":{"a":0}}}`
	for _, c := range []struct {
		name string
		json string
		size int
	}{
		{"vocab_size 2e9", small, 2_000_000_000},
		{"vocab_size just past the limit", small, MaxVocab + 1},
		{"id just past the limit", fmt.Sprintf(`{"model":{"type":"BPE","vocab":{"a":%d}}}`, MaxVocab), 0},
	} {
		var before, after goruntime.MemStats
		goruntime.ReadMemStats(&before)
		_, err := VocabFromHF([]byte(c.json), c.size)
		goruntime.ReadMemStats(&after)
		if !errors.Is(err, ErrVocab) {
			t.Errorf("%s: error %v, want ErrVocab", c.name, err)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
			t.Errorf("%s: allocated %d bytes before refusing", c.name, n)
		}
	}
}
