package runtime

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/tokenizer"
)

// copyWithout writes a copy of the GGUF file at path without metadata key.
func copyWithout(t *testing.T, path, key string) string {
	t.Helper()
	src, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	out := filepath.Join(t.TempDir(), "copy.gguf")
	w, err := format.Create(out, src.Alignment)
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range src.KV {
		if kv.Key != key && kv.Key != format.KeyAlignment {
			if err := w.AddKV(kv.Key, kv.Value); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, ti := range src.Tensors {
		if err := w.AddTensor(ti.Name, ti.Type, ti.Dims...); err != nil {
			t.Fatal(err)
		}
	}
	for _, ti := range src.Tensors {
		if _, err := w.Write(src.Data(ti)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTokenizerWithoutTokenTypesKeepsAddedTokensSpecial loads a converted
// model's tokenizer from a copy of its file without
// tokenizer.ggml.token_type: the inferred types must be the ones convert
// wrote from tokenizer.json, and chat markup must encode the same.
func TestTokenizerWithoutTokenTypesKeepsAddedTokensSpecial(t *testing.T) {
	m, _ := chatModel(t)
	typed, err := m.Tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	bare, err := format.Open(copyWithout(t, m.File().Path, "tokenizer.ggml.token_type"))
	if err != nil {
		t.Fatal(err)
	}
	defer bare.Close()
	if _, ok := bare.Lookup("tokenizer.ggml.token_type"); ok {
		t.Fatal("the copy still has token types")
	}
	untyped, err := NewTokenizer(bare)
	if err != nil {
		t.Fatal(err)
	}
	toks, _, _ := m.File().Strings("tokenizer.ggml.tokens")
	merges, _, _ := m.File().Strings("tokenizer.ggml.merges")
	want, _, _ := m.File().Ints("tokenizer.ggml.token_type")
	got := tokenizer.InferTypes(toks, merges)
	for id := range toks {
		if int64(got[id]) != want[id] {
			t.Errorf("token %d %q: inferred type %d, the file says %d", id, toks[id], got[id], want[id])
		}
	}
	for _, s := range []string{"<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nok<|endoftext|>", "plain text"} {
		if g, w := untyped.EncodeSpecial(s), typed.EncodeSpecial(s); !slices.Equal(g, w) {
			t.Errorf("%q: %v without token types, %v with", s, g, w)
		}
	}
	for _, s := range []string{"<|im_end|>", "<think>"} {
		id, _ := typed.Lookup(s)
		if untyped.IsSpecial(id) != typed.IsSpecial(id) || untyped.IsAdded(id) != typed.IsAdded(id) {
			t.Errorf("%s: special %v added %v without types, %v %v with", s, untyped.IsSpecial(id), untyped.IsAdded(id), typed.IsSpecial(id), typed.IsAdded(id))
		}
	}
}
