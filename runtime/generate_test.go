package runtime

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// argmax64 returns the index of v's largest value and its margin over the
// second largest.
func argmax64(v []float64) (int, float64) {
	best, second := 0, math.Inf(-1)
	for i, x := range v[1:] {
		if x > v[best] {
			best, second = i+1, v[best]
		} else if x > second {
			second = x
		}
	}
	return best, v[best] - second
}

// TestGenerateGreedyFollowsFloat64Reference checks Generate's greedy
// tokens against the float64 reference run on the prompt and the tokens
// generated so far, step by step (while the reference's top-2 margin is
// clear of the runtime's observed error, ≈3e-6).
func TestGenerateGreedyFollowsFloat64Reference(t *testing.T) {
	c := tinyConfig()
	tm := buildTiny(t, c, buildOptions{seed: 3})
	model := openTiny(t, tm)
	s, err := model.NewSession(SessionOptions{Threads: 2, KVType: KVF32})
	if err != nil {
		t.Fatal(err)
	}
	prompt := randIDs(8, 6, c.Vocab)
	var seen []int32
	g, err := s.Generate(context.Background(), prompt, GenerateOptions{MaxTokens: 12, OnToken: func(id int32) error {
		seen = append(seen, id)
		return nil
	}})
	if err != nil || g.Stop != StopLength || len(g.IDs) != 12 {
		t.Fatalf("Generate: %d ids, stop %v, %v; want 12 and StopLength", len(g.IDs), g.Stop, err)
	}
	if !slices.Equal(seen, g.IDs) {
		t.Errorf("OnToken saw %v, result %v", seen, g.IDs)
	}
	if g.Stats.PromptTokens != len(prompt) || g.Stats.GenTokens != 12 || s.Pos() != len(prompt)+11 {
		t.Errorf("stats %+v, position %d; want %d prompt and 12 generated tokens, position %d", g.Stats, s.Pos(), len(prompt), len(prompt)+11)
	}
	ids := slices.Clone(prompt)
	checked := 0
	for i, got := range g.IDs {
		rows := (&ref64{m: tm}).logits(ids)
		want, margin := argmax64(rows[len(rows)-1])
		if margin < 1e-4 {
			break
		}
		if int(got) != want {
			t.Fatalf("token %d: generated %d, the reference's greedy choice is %d (margin %.3g)", i, got, want, margin)
		}
		ids = append(ids, got)
		checked++
	}
	t.Logf("%d of 12 greedy tokens checked against the reference", checked)
	if checked < 8 {
		t.Errorf("only %d of 12 tokens checked against the reference (near ties)", checked)
	}
}

func TestGenerateStops(t *testing.T) {
	c := tinyConfig()
	model := openTiny(t, buildTiny(t, c, buildOptions{seed: 3}))
	prompt := randIDs(8, 6, c.Vocab)
	gen := func(ctxLen int, o GenerateOptions) (*Session, Generation, error) {
		s, err := model.NewSession(SessionOptions{Threads: 1, ContextLen: ctxLen})
		if err != nil {
			t.Fatal(err)
		}
		g, err := s.Generate(context.Background(), prompt, o)
		return s, g, err
	}
	_, free, err := gen(0, GenerateOptions{MaxTokens: 5})
	if err != nil {
		t.Fatal(err)
	}

	// A stop id ends the generation before it, and is not returned.
	_, g, err := gen(0, GenerateOptions{MaxTokens: 5, StopIDs: []int32{free.IDs[2]}})
	if first := slices.Index(free.IDs, free.IDs[2]); err != nil || g.Stop != StopEnd || !slices.Equal(g.IDs, free.IDs[:first]) {
		t.Errorf("stop at %d: %v, %v, %v; want %v and StopEnd", free.IDs[2], g.IDs, g.Stop, err, free.IDs[:first])
	}

	// A full context ends it: the last token sampled is kept, not evaluated.
	s, g, err := gen(10, GenerateOptions{})
	if err != nil || g.Stop != StopContextFull || len(g.IDs) != 10-len(prompt)+1 || s.Pos() != 10 {
		t.Errorf("context of 10: %d ids, %v, %v, position %d; want %d ids, StopContextFull, position 10", len(g.IDs), g.Stop, err, s.Pos(), 10-len(prompt)+1)
	}

	// OnToken's error and a cancelled context stop it, keeping what was made.
	stop := errors.New("enough")
	n := 0
	_, g, err = gen(0, GenerateOptions{OnToken: func(int32) error {
		if n++; n == 2 {
			return stop
		}
		return nil
	}})
	if !errors.Is(err, stop) || g.Stop != StopCancelled || len(g.IDs) != 2 {
		t.Errorf("OnToken error: %d ids, %v, %v", len(g.IDs), g.Stop, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err = model.NewSession(SessionOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	g, err = s.Generate(ctx, prompt, GenerateOptions{OnToken: func(int32) error { cancel(); return nil }})
	if !errors.Is(err, context.Canceled) || g.Stop != StopCancelled || len(g.IDs) != 1 {
		t.Errorf("cancelled: %d ids, %v, %v", len(g.IDs), g.Stop, err)
	}
}

func TestGenerateRefusesBadInput(t *testing.T) {
	c := tinyConfig()
	model := openTiny(t, buildTiny(t, c, buildOptions{seed: 3}))
	s, err := model.NewSession(SessionOptions{Threads: 1, ContextLen: 8})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		name   string
		prompt []int32
		o      GenerateOptions
		want   string
	}{
		{"empty prompt", nil, GenerateOptions{}, "empty prompt"},
		{"negative MaxTokens", []int32{1}, GenerateOptions{MaxTokens: -1}, "negative MaxTokens"},
		{"prompt past the context", randIDs(1, 9, c.Vocab), GenerateOptions{}, "context full"},
		{"id outside the vocabulary", []int32{int32(c.Vocab)}, GenerateOptions{}, "outside vocabulary"},
	} {
		if _, err := s.Generate(context.Background(), bad.prompt, bad.o); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: error %v, want one saying %q", bad.name, err, bad.want)
		}
		if s.Pos() != 0 {
			t.Fatalf("%s: position moved to %d", bad.name, s.Pos())
		}
	}
}
