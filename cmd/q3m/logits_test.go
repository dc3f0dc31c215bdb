package main

import (
	"context"
	"io"
	"math/rand/v2"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"testing"

	"github.com/q3m/q3m/convert"
	"github.com/q3m/q3m/quant"
	"github.com/q3m/q3m/runtime"
	"github.com/q3m/q3m/synth"
)

// TestLogitsWithoutOutDoesNotHoldEveryRow checks that printing the top
// logits of a prompt allocates far less than its rows: a 512-token prompt
// over a 2048-token vocabulary (4 MiB of logits) is printed with under
// 1/16 of that allocated, once the KV cache and the session's batch of
// rows exist.
func TestLogitsWithoutOutDoesNotHoldEveryRow(t *testing.T) {
	spec, err := synth.Preset("tiny", 0)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	hf := filepath.Join(dir, "hf")
	if err := synth.Write(hf, spec); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "tiny.gguf")
	if err := convert.Convert(context.Background(), hf, path, convert.Options{Type: quant.Q8_0}); err != nil {
		t.Fatal(err)
	}
	m, err := runtime.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	V := m.Config().Vocab
	const long = 512
	s, err := m.NewSession(runtime.SessionOptions{ContextLen: long, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]int32, long)
	for i := range ids {
		ids[i] = int32(rng.IntN(V))
	}
	if _, err := s.Eval(ids, false); err != nil { // grow the KV cache to its full size
		t.Fatal(err)
	}
	allocated := func(n int) uint64 {
		s.Reset()
		var before, after goruntime.MemStats
		goruntime.GC()
		goruntime.ReadMemStats(&before)
		rows := func(row func(int, []float32) error) error { return logitRows(context.Background(), s, V, ids[:n], row) }
		if err := printTopLogits(io.Discard, ids[:n], rows); err != nil {
			t.Fatal(err)
		}
		goruntime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	allocated(32) // the session's batch of logit rows (as many as it evaluates together)
	full := allocated(long)
	// Observed: 44 kB (fmt's boxing of the printed numbers); holding the
	// rows costs 4 MiB, and the old top-5 by sorting 4 MiB more.
	t.Logf("allocated %d B for %d tokens (their logits: %d B)", full, long, long*V*4)
	if limit := uint64(long * V * 4 / 16); full > limit {
		t.Errorf("printing the logits of %d tokens allocated %d B, more than %d B (1/16 of the T×vocab rows)", long, full, limit)
	}
}

// TestLogitsPrintsTheSameRowsAsOneEval checks that the logits computed a
// batch at a time are those of one Eval of the whole prompt, bit for bit,
// and that the five printed per row are the largest, in order.
func TestLogitsPrintsTheSameRowsAsOneEval(t *testing.T) {
	path, _ := benchTestModel(t)
	m, err := runtime.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	V := m.Config().Vocab
	ids := make([]int32, 77)
	for i := range ids {
		ids[i] = int32((i*131 + 7) % V)
	}
	s, err := m.NewSession(runtime.SessionOptions{ContextLen: 128, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	all, err := s.Eval(ids, true)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(all)
	s.Reset()
	rows := 0
	err = logitRows(context.Background(), s, V, ids, func(r int, row []float32) error {
		if !slices.Equal(row, want[r*V:(r+1)*V]) {
			t.Errorf("row %d differs from one Eval of the prompt", r)
		}
		var top [5]int
		got := topK(top[:], row)
		order := make([]int, V)
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int {
			switch {
			case row[a] > row[b]:
				return -1
			case row[a] < row[b]:
				return 1
			}
			return 0
		})
		if !slices.Equal(got, order[:5]) {
			t.Errorf("row %d: top five %v, want %v", r, got, order[:5])
		}
		rows++
		return nil
	})
	if err != nil || rows != len(ids) {
		t.Fatalf("logitRows: %d rows, %v", rows, err)
	}
	s.Reset()
	err = logitRows(context.Background(), s, V, append([]int32{1, 2}, int32(V)), func(int, []float32) error {
		t.Error("a row was given for a prompt with a token outside the vocabulary")
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "outside vocabulary") {
		t.Errorf("a token outside the vocabulary: %v", err)
	}
}

func TestTopKKeepsTheLargestInOrder(t *testing.T) {
	for _, c := range []struct {
		row  []float32
		want []int
	}{
		{[]float32{1, 5, 3, 5, 2, 9, 0}, []int{5, 1, 3, 2, 4}},
		{[]float32{3, 2, 1}, []int{0, 1, 2}},
		{[]float32{1, 1, 1, 1, 1, 1}, []int{0, 1, 2, 3, 4}},
		{[]float32{-3, -1, -2, -5, -4, -6}, []int{1, 2, 0, 4, 3}},
	} {
		var top [5]int
		if got := topK(top[:], c.row); !slices.Equal(got, c.want) {
			t.Errorf("topK(%v) = %v, want %v", c.row, got, c.want)
		}
	}
}
