package server

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/q3m/q3m/runtime"
)

func testEngine(t *testing.T, o EngineOptions) *Engine {
	t.Helper()
	m, err := runtime.Load(tinyModelPath(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	o.Threads = 1
	e, err := NewEngine(m, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func TestFrequencyPenaltyLowersLogitsByCount(t *testing.T) {
	e := testEngine(t, EngineOptions{ContextLen: 128})
	prompt := []int32{10, 20, 30, 40}
	run := func(fp float32) [][]float32 {
		var seen [][]float32
		e.pick = func(_ []int32, logits []float32, gen []int32) int32 {
			seen = append(seen, slices.Clone(logits))
			return []int32{7, 7, 9, 7}[len(gen)]
		}
		// The second run reuses the first's cache but for the prompt's last
		// token; prefill and decode give bit-identical logits.
		e.Generate(context.Background(), Request{Prompt: prompt, MaxTokens: 4, FrequencyPenalty: fp}, func(int32) bool { return true })
		return seen
	}
	plain, pen := run(0), run(1.5)
	// Position 3 follows 7, 7, 9: token 7 is down 3 (2 × 1.5), 9 down 1.5,
	// everything else unchanged, bit for bit.
	for id := range plain[3] {
		want := plain[3][id]
		switch id {
		case 7:
			want -= 2 * 1.5
		case 9:
			want -= 1.5
		}
		if pen[3][id] != want {
			t.Fatalf("logit %d: %g with the penalty, %g without; want %g", id, pen[3][id], plain[3][id], want)
		}
	}
}

func TestGenerateRefusesPromptsThatFillTheContext(t *testing.T) {
	e := testEngine(t, EngineOptions{ContextLen: 16})
	_, err := e.Generate(context.Background(), Request{Prompt: make([]int32, 16)}, func(int32) bool { return true })
	if !errors.Is(err, ErrPromptTooLong) {
		t.Errorf("16 tokens in a context of 16: %v, want ErrPromptTooLong", err)
	}
	res, err := e.Generate(context.Background(), Request{Prompt: make([]int32, 15)}, func(int32) bool { return true })
	// The first token fills position 15; the second, sampled from its
	// logits, needs no position.
	if err != nil || res.Finish != FinishLength || res.GenTokens != 2 {
		t.Errorf("15 tokens in a context of 16: %+v, %v; want two tokens, then length", res, err)
	}
	if res.Prefill <= 0 || res.Decode <= 0 {
		t.Errorf("timings %+v, want both positive", res)
	}
}
