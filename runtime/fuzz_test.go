package runtime

import (
	"os"
	goruntime "runtime"
	"testing"

	"github.com/q3m/q3m/format"
)

// FuzzModelFromFile loads mutated model files from memory and evaluates a
// token: no input may panic, and what it allocates is bounded by the
// file's size, so that no count, dimension or length read from the file
// (vocabulary, context, heads, layers, experts) drives an allocation by
// itself.
func FuzzModelFromFile(f *testing.F) {
	c := tinyConfig()
	c.Vocab, c.Hidden, c.Heads, c.KVHeads, c.HeadDim, c.Layers = 40, 32, 2, 1, 16, 2
	c.FFN, c.Experts, c.ExpertsUsed, c.ExpertFFN, c.ContextLen = 32, 4, 2, 32, 1<<30
	for seed, dense := range [][]int{{1}, nil} {
		c.DenseLayers = dense
		data, err := os.ReadFile(buildTiny(f, c, buildOptions{seed: uint64(seed)}).path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after goruntime.MemStats
		goruntime.ReadMemStats(&before)
		file, err := format.Parse(data)
		if err != nil {
			return
		}
		m, err := newModel(file)
		if err != nil {
			return
		}
		s, err := m.NewSession(SessionOptions{Threads: 1})
		if err != nil {
			t.Fatalf("a loaded model refused a default session: %v", err)
		}
		if _, err := s.Eval([]int32{0}, false); err != nil {
			t.Fatalf("a loaded model failed to evaluate a token: %v", err)
		}
		goruntime.ReadMemStats(&after)
		// The session's scratch holds 32 tokens of each activation, a few
		// times over: some hundred bytes per byte of the smallest weights.
		if n, limit := after.TotalAlloc-before.TotalAlloc, 1024*uint64(len(data))+(8<<20); n > limit {
			t.Fatalf("a file of %d bytes made parsing, loading and one token allocate %d bytes", len(data), n)
		}
		m.Close()
	})
}
