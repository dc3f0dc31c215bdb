package tokenizer

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"sync"
	"testing"
)

// qwen3VocabSize is the embedding row count of Qwen3 MoE checkpoints; ids
// past the tokenizer's 151669 tokens are padding.
const qwen3VocabSize = 151936

var (
	qwenOnce sync.Once
	qwenTok  *Tokenizer
	qwenErr  error
)

func readGzip(t testing.TB, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

func tokenizerJSON(t testing.TB) []byte {
	return readGzip(t, "../synth/qwen3/tokenizer.json.gz")
}

// qwen returns the Qwen3 tokenizer built from the committed tokenizer.json.
func qwen(t testing.TB) *Tokenizer {
	t.Helper()
	qwenOnce.Do(func() { qwenTok, qwenErr = FromHF(tokenizerJSON(t), qwen3VocabSize) })
	if qwenErr != nil {
		t.Fatal(qwenErr)
	}
	return qwenTok
}

// refCase is one line of expected.jsonl, written by the JavaScript reference.
type refCase struct {
	Text    string  `json:"text"`
	IDs     []int32 `json:"ids"`     // default encode: added tokens recognized
	Plain   []int32 `json:"plain"`   // added tokens treated as text
	Decoded string  `json:"decoded"` // decode of IDs
}

func refCases(t testing.TB) []refCase {
	t.Helper()
	f, err := os.Open("../testdata/tokenizer/expected.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []refCase
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var c refCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("expected.jsonl line %d: %v", len(cases)+1, err)
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 300 {
		t.Fatalf("expected.jsonl has %d cases, want at least 300", len(cases))
	}
	return cases
}
