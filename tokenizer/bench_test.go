package tokenizer

import "testing"

// BenchmarkEncodeProse encodes ~100 KB of English prose; scripts/tokenizer/bench.mjs
// measures the JavaScript reference on the same text.
func BenchmarkEncodeProse(b *testing.B) {
	tok := qwen(b)
	text := string(readGzip(b, "../testdata/tokenizer/prose.txt.gz"))
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for b.Loop() {
		tok.Encode(text)
	}
}

// BenchmarkEncodeProseCold is BenchmarkEncodeProse with an empty word cache
// each time: the cost of BPE itself.
func BenchmarkEncodeProseCold(b *testing.B) {
	tok := qwen(b)
	text := string(readGzip(b, "../testdata/tokenizer/prose.txt.gz"))
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for b.Loop() {
		tok.cache.mu.Lock()
		tok.cache.m = nil
		tok.cache.mu.Unlock()
		tok.Encode(text)
	}
}

func BenchmarkDecoderAdd(b *testing.B) {
	tok := qwen(b)
	ids := tok.Encode(string(readGzip(b, "../testdata/tokenizer/prose.txt.gz")))
	d := tok.NewDecoder()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		d.Add(ids[i%len(ids)])
	}
}

func BenchmarkFromHF(b *testing.B) {
	raw := tokenizerJSON(b)
	for b.Loop() {
		if _, err := FromHF(raw, qwen3VocabSize); err != nil {
			b.Fatal(err)
		}
	}
}
