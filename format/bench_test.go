package format

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/q3m/q3m/quant"
)

// BenchmarkParseVocabHeader parses a header holding a Qwen3-sized tokenizer
// (151936 tokens, as many merges and token types).
func BenchmarkParseVocabHeader(b *testing.B) {
	const n = 151936
	tokens, merges, types := make([]string, n), make([]string, n), make([]int32, n)
	for i := range tokens {
		tokens[i] = fmt.Sprintf("Ġtok%d", i)
		merges[i] = fmt.Sprintf("Ġ t%d", i)
		types[i] = 1
	}
	kvs := []KV{{"tokenizer.ggml.tokens", tokens}, {"tokenizer.ggml.merges", merges}, {"tokenizer.ggml.token_type", types}}
	specs := []tensorSpec{{name: "w", typ: quant.F32, dims: []uint64{8}, data: make([]byte, 32)}}
	data, err := os.ReadFile(writeTestFile(b, b.TempDir(), 32, kvs, specs, 32))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriterWrite streams a 64 MiB tensor through Write in 1 MiB pieces.
func BenchmarkWriterWrite(b *testing.B) {
	const size = 64 << 20
	chunk := make([]byte, 1<<20)
	dir := b.TempDir()
	b.SetBytes(size)
	for b.Loop() {
		w, err := Create(filepath.Join(dir, "bench.gguf"), 4096)
		if err != nil {
			b.Fatal(err)
		}
		if err := w.AddTensor("t", quant.F32, 4096, size/4/4096); err != nil {
			b.Fatal(err)
		}
		for written := 0; written < size; written += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
