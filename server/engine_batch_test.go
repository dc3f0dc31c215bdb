package server

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/q3m/q3m/runtime"
)

// batchRequests are four generations of different prompts, sampled at
// temperature 1 with their own seeds (so their tokens follow the logits
// closely), with their own lengths.
func batchRequests() []Request {
	var reqs []Request
	for i, n := range []int{18, 5, 30, 11} {
		prompt := make([]int32, n)
		for j := range prompt {
			prompt[j] = int32(17*i+31*j) % 250
		}
		reqs = append(reqs, Request{Prompt: prompt, MaxTokens: 10 + 4*i,
			Sampling: runtime.SamplerOptions{Temperature: 1, Seed: uint64(i + 1)}})
	}
	return reqs
}

// generateAll runs req and returns its tokens; first, when set, is called
// at the first token.
func generateAll(t *testing.T, e *Engine, req Request, first func()) []int32 {
	t.Helper()
	var out []int32
	res, err := e.Generate(context.Background(), req, func(id int32) bool {
		if len(out) == 0 && first != nil {
			first()
		}
		out = append(out, id)
		return true
	})
	if err != nil {
		t.Error(err)
	}
	if res.GenTokens != len(out) {
		t.Errorf("result says %d tokens, yield saw %d", res.GenTokens, len(out))
	}
	return out
}

// TestConcurrentGenerationsShareStepsAndMatchAlone runs four generations
// at once on four slots and checks that they shared forward passes and
// that each produced the tokens it produces alone; a fifth, cancelled
// midway, leaves the others' answers unchanged and frees its slot.
func TestConcurrentGenerationsShareStepsAndMatchAlone(t *testing.T) {
	reqs := batchRequests()
	alone := testEngine(t, EngineOptions{ContextLen: 128, Parallel: 1})
	want := make([][]int32, len(reqs))
	for i, r := range reqs {
		want[i] = generateAll(t, alone, r, nil)
	}
	// A generous wait: on a loaded machine the requests still share steps.
	e := testEngine(t, EngineOptions{ContextLen: 128, Parallel: 5, BatchWait: time.Second})
	got := make([][]int32, len(reqs))
	var wg sync.WaitGroup
	start := make(chan struct{})
	// Every request waits at its first token for all of them to get
	// there: on a loaded machine a goroutine can start late enough to miss
	// the others' whole generation.
	var all sync.WaitGroup
	all.Add(len(reqs) + 1)
	first := func() {
		all.Done()
		all.Wait()
	}
	for i, r := range reqs {
		wg.Go(func() {
			<-start
			got[i] = generateAll(t, e, r, first)
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	var cancelled error
	wg.Go(func() {
		<-start
		n := 0
		_, cancelled = e.Generate(ctx, Request{Prompt: []int32{5, 6, 7}, Sampling: runtime.SamplerOptions{Temperature: 1}},
			func(int32) bool {
				if n == 0 {
					first()
				}
				if n++; n == 4 {
					cancel()
				}
				return true
			})
	})
	close(start)
	wg.Wait()
	for i := range reqs {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("request %d: %v together, %v alone", i, got[i], want[i])
		}
	}
	if !errors.Is(cancelled, context.Canceled) {
		t.Errorf("cancelled request: %v", cancelled)
	}
	if st := e.Stats(); st.Busy != 0 {
		t.Errorf("%d slots busy after every request ended", st.Busy)
	}
	st := e.BatchStats()
	if st.Seqs <= st.Steps {
		t.Errorf("%d steps advanced %d sequences: the requests did not share steps", st.Steps, st.Seqs)
	}
	t.Logf("%d steps, %d sequences, %d token rows", st.Steps, st.Seqs, st.Tokens)
}

// TestIgnoreStopsRunsToMaxTokens makes every token but one a stop token:
// a request ends at its first token, unless it ignores the stops and then
// runs to MaxTokens on the one token left.
func TestIgnoreStopsRunsToMaxTokens(t *testing.T) {
	e := testEngine(t, EngineOptions{ContextLen: 64})
	const keep = 42
	var stops []int32
	for id := range int32(e.Model().Config().Vocab) {
		if id != keep {
			stops = append(stops, id)
		}
	}
	req := Request{Prompt: []int32{1, 2, 3}, Stops: stops, MaxTokens: 6, Sampling: runtime.SamplerOptions{Temperature: 1, Seed: 3}}
	if got := generateAll(t, e, req, nil); len(got) > 1 {
		t.Errorf("with stops: %v", got)
	}
	req.IgnoreStops = true
	if got := generateAll(t, e, req, nil); !slices.Equal(got, []int32{keep, keep, keep, keep, keep, keep}) {
		t.Errorf("ignoring stops: %v, want six %d", got, keep)
	}
}
