package runtime

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/q3m/q3m/quant"
)

// engineSeq is one sequence of the engine tests: a prompt, then tokens fed
// one at a time (scripted, so that the alone and batched runs feed the
// same ones), on a session of the given KV type.
type engineSeq struct {
	prompt, decode []int32
	kv             KVType
}

func engineSeqs(vocab int) []engineSeq {
	return []engineSeq{
		{randIDs(21, 5, vocab), randIDs(31, 12, vocab), KVF16},
		{randIDs(22, 40, vocab), randIDs(32, 9, vocab), KVQ8_0}, // a prompt over several steps
		{randIDs(23, 1, vocab), randIDs(33, 20, vocab), KVF32},
		{randIDs(24, 13, vocab), randIDs(34, 3, vocab), KVF16}, // leaves early
		{randIDs(25, 7, vocab), randIDs(35, 15, vocab), KVQ8_0},
	}
}

// aloneLogits evaluates q on its own Session: the logits after the prompt
// and after each decoded token.
func aloneLogits(t *testing.T, m *Model, q engineSeq) [][]float32 {
	t.Helper()
	s, err := m.NewSession(SessionOptions{Threads: 2, KVType: q.kv})
	if err != nil {
		t.Fatal(err)
	}
	var out [][]float32
	got, err := s.Eval(q.prompt, false)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, slices.Clone(got))
	for _, id := range q.decode {
		if got, err = s.Eval([]int32{id}, false); err != nil {
			t.Fatal(err)
		}
		out = append(out, slices.Clone(got))
	}
	return out
}

// engineLogits evaluates q through e, starting once start is closed, and
// returns what aloneLogits does.
//
// It waits for start before attaching, closes attached once attached (if
// not nil), and waits for first (if not nil) before its first Eval.
func engineLogits(ctx context.Context, e *Engine, m *Model, q engineSeq, start <-chan struct{}, attached chan<- struct{}, first <-chan struct{}, progress func(int)) ([][]float32, error) {
	<-start
	s, err := m.NewSession(SessionOptions{Threads: 2, KVType: q.kv})
	if err != nil {
		return nil, err
	}
	seq, err := e.Attach(s)
	if attached != nil {
		close(attached)
	}
	if err != nil {
		return nil, err
	}
	defer seq.Detach()
	if first != nil {
		<-first
	}
	var out [][]float32
	got, err := seq.Eval(ctx, q.prompt)
	if err != nil {
		return nil, err
	}
	out = append(out, slices.Clone(got))
	for i, id := range q.decode {
		if got, err = seq.Eval(ctx, []int32{id}); err != nil {
			return nil, err
		}
		out = append(out, slices.Clone(got))
		if progress != nil {
			progress(i)
		}
	}
	return out, nil
}

// firstBitDiff returns the index of the first value whose bits differ, or -1.
func firstBitDiff(a, b []float32) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

// TestEngineLogitsEqualSessionAloneBitForBit decodes five sequences
// together through an engine — mixed KV types, sequences joining while
// others decode, one prompt evaluated over several steps beside decoding
// rows, sequences leaving at different times — and checks every logit of
// every sequence against the same sequence evaluated alone on a Session,
// bit for bit, with and without the expert pager (a one-byte budget evicts
// every step) and over two weight types.
func TestEngineLogitsEqualSessionAloneBitForBit(t *testing.T) {
	c := tinyConfig()
	for _, tc := range []struct {
		name string
		typ  quant.Type
		opt  LoadOptions
	}{
		{"q8_0", quant.Q8_0, LoadOptions{NoPager: true}},
		{"q4_0", quant.Q4_0, LoadOptions{NoPager: true}},
		{"q8_0 pager one-byte budget", quant.Q8_0, LoadOptions{ExpertBudget: 1}},
		{"q8_0 pread slots one-byte budget", quant.Q8_0, LoadOptions{ExpertBudget: 1, ExpertIO: IOPread}},
		{"q4_0 pread slots, no budget", quant.Q4_0, LoadOptions{ExpertIO: IOPread}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tm := buildTiny(t, c, buildOptions{typ: tc.typ, seed: 41})
			m, err := LoadWith(tm.path, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			seqs := engineSeqs(c.Vocab)
			want := make([][][]float32, len(seqs))
			for i, q := range seqs {
				want[i] = aloneLogits(t, m, q)
			}
			// A generous wait: on a loaded machine the sequences still
			// share steps (the default waits half a step, which on this
			// tiny model is shorter than a busy scheduler's latency).
			e, err := m.NewEngine(EngineOptions{Seqs: 4, StepTokens: 12, Threads: 2, Wait: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			// Sequences 0 and 1 start at once; each later one joins when
			// sequence 0 has decoded a few more tokens.
			// Each joiner is attached before sequence 0 goes on, so the
			// engine waits for it and the steps are shared however slowly
			// the goroutines are scheduled.
			starts := make([]chan struct{}, len(seqs))
			attached := make([]chan struct{}, len(seqs))
			for i := range starts {
				starts[i] = make(chan struct{})
				attached[i] = make(chan struct{})
			}
			close(starts[0])
			close(starts[1])
			joined := 2
			var mu sync.Mutex
			progress := func(i int) {
				mu.Lock()
				defer mu.Unlock()
				for joined < len(seqs) && i >= 2*joined {
					close(starts[joined])
					<-attached[joined]
					joined++
				}
			}
			got := make([][][]float32, len(seqs))
			errs := make([]error, len(seqs))
			var wg sync.WaitGroup
			for i, q := range seqs {
				p, first := progress, (<-chan struct{})(attached[1])
				if i != 0 {
					p, first = nil, nil
				}
				wg.Go(func() {
					got[i], errs[i] = engineLogits(context.Background(), e, m, q, starts[i], attached[i], first, p)
				})
			}
			// Sequence 0 decodes 12 tokens: by then all have joined.
			wg.Wait()
			for i := range seqs {
				if errs[i] != nil {
					t.Fatalf("sequence %d: %v", i, errs[i])
				}
				if len(got[i]) != len(want[i]) {
					t.Fatalf("sequence %d: %d evaluations, want %d", i, len(got[i]), len(want[i]))
				}
				for j := range want[i] {
					if k := firstBitDiff(got[i][j], want[i][j]); k >= 0 {
						t.Errorf("sequence %d, evaluation %d: logit %d is %g batched, %g alone", i, j, k, got[i][j][k], want[i][j][k])
					}
				}
			}
			st := e.Stats()
			// Batching happened: steps carried more than one sequence on
			// average, and there were fewer steps than evaluations.
			evals := 0
			for _, q := range seqs {
				evals += 1 + len(q.decode)
			}
			if st.Seqs <= st.Steps || st.Steps >= uint64(evals) {
				t.Errorf("%d steps advanced %d sequences for %d evaluations: no batching", st.Steps, st.Seqs, evals)
			}
			t.Logf("%d steps, %d sequences, %d token rows for %d evaluations", st.Steps, st.Seqs, st.Tokens, evals)
		})
	}
}

// TestEngineCancelLeavesSessionUnchanged cancels a long prompt's
// evaluation and checks that the session is where it was and evaluates on
// to the same logits as a session never cancelled.
func TestEngineCancelLeavesSessionUnchanged(t *testing.T) {
	c := tinyConfig()
	m := openTiny(t, buildTiny(t, c, buildOptions{typ: quant.Q8_0, seed: 42}))
	q := engineSeq{prompt: randIDs(51, 30, c.Vocab), decode: randIDs(52, 4, c.Vocab), kv: KVF16}
	want := aloneLogits(t, m, q)
	e, err := m.NewEngine(EngineOptions{Seqs: 2, StepTokens: 2, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	s, err := m.NewSession(SessionOptions{Threads: 2, KVType: q.kv})
	if err != nil {
		t.Fatal(err)
	}
	seq, err := e.Attach(s)
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Detach()
	if _, err := seq.Eval(context.Background(), q.prompt[:3]); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	// Cancelled inside the step that evaluates position 10: the engine
	// notices at the step's end, with 17 of the 27 tokens left.
	s.Trace = func(_, pos int, _ []int, _ []float32) {
		if pos == 10 {
			cancel()
		}
	}
	if _, err := seq.Eval(ctx, q.prompt[3:]); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled evaluation: %v, want context.Canceled", err)
	}
	if s.Pos() != 3 {
		t.Fatalf("position %d after a cancelled evaluation, want 3", s.Pos())
	}
	s.Trace = nil
	got, err := seq.Eval(context.Background(), q.prompt[3:])
	if err != nil {
		t.Fatal(err)
	}
	if k := firstBitDiff(got, want[0]); k >= 0 {
		t.Errorf("after the cancellation, logit %d differs from a session never cancelled", k)
	}
}

// TestEngineModelCloseFailsEverySequence closes the model while sequences
// decode through an engine: each must get an error wrapping ErrClosed (no
// crash, no hang), as must every later evaluation. Run under -race.
func TestEngineModelCloseFailsEverySequence(t *testing.T) {
	c := tinyConfig()
	c.ContextLen = 4096
	m := openTiny(t, buildTiny(t, c, buildOptions{typ: quant.Q8_0, seed: 43}))
	e, err := m.NewEngine(EngineOptions{Seqs: 3, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	const n = 4 // one more than a step holds
	errs := make(chan error, n)
	running := make(chan struct{}, n)
	for i := range n {
		go func() {
			s, err := m.NewSession(SessionOptions{Threads: 2, ContextLen: 4096})
			if err != nil {
				errs <- err
				return
			}
			seq, err := e.Attach(s)
			if err != nil {
				errs <- err
				return
			}
			defer seq.Detach()
			ids := randIDs(uint64(60+i), 4000, c.Vocab)
			if _, err := seq.Eval(context.Background(), ids[:5]); err != nil {
				errs <- err
				return
			}
			running <- struct{}{}
			for _, id := range ids[5:] {
				if _, err := seq.Eval(context.Background(), []int32{id}); err != nil {
					errs <- err
					return
				}
			}
			errs <- errors.New("decoded 4000 tokens without seeing the close")
		}()
	}
	for range n {
		<-running
	}
	late := newSession(t, m, 2)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := <-errs; !errors.Is(err, ErrClosed) {
			t.Errorf("sequence %d: %v, want ErrClosed", i, err)
		}
	}
	if seq, err := e.Attach(late); err != nil {
		t.Errorf("attach after the model's close: %v", err)
	} else if _, err := seq.Eval(context.Background(), []int32{1}); !errors.Is(err, ErrClosed) {
		t.Errorf("eval after the model's close: %v, want ErrClosed", err)
	}
}

// TestEngineCloseRefusesLaterUse checks the errors after Engine.Close.
func TestEngineCloseRefusesLaterUse(t *testing.T) {
	c := tinyConfig()
	m := openTiny(t, buildTiny(t, c, buildOptions{typ: quant.Q8_0, seed: 44}))
	e, err := m.NewEngine(EngineOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := newSession(t, m, 1)
	seq, err := e.Attach(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e.Close() // twice is fine
	if _, err := seq.Eval(context.Background(), []int32{1, 2}); !errors.Is(err, ErrEngineClosed) {
		t.Errorf("eval after Close: %v, want ErrEngineClosed", err)
	}
	if _, err := e.Attach(s); !errors.Is(err, ErrEngineClosed) {
		t.Errorf("attach after Close: %v, want ErrEngineClosed", err)
	}
	if s.Pos() != 0 {
		t.Errorf("position %d after refused evaluations", s.Pos())
	}
	// The session works alone.
	if _, err := s.Eval([]int32{1, 2}, false); err != nil {
		t.Error(err)
	}
}

// TestEngineRefusals checks the errors of bad options and bad evaluations.
func TestEngineRefusals(t *testing.T) {
	c := tinyConfig()
	m := openTiny(t, buildTiny(t, c, buildOptions{typ: quant.Q8_0, seed: 45}))
	other := openTiny(t, buildTiny(t, c, buildOptions{typ: quant.Q8_0, seed: 46}))
	for _, o := range []EngineOptions{{Seqs: -1}, {StepTokens: -1}, {Seqs: 8, StepTokens: 4}, {Threads: -1}, {Wait: -1}} {
		if _, err := m.NewEngine(o); err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
	e, err := m.NewEngine(EngineOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.Attach(newSession(t, other, 1)); err == nil {
		t.Error("a session of another model attached")
	}
	s := newSession(t, m, 1)
	seq, err := e.Attach(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ids  []int32
		want error
	}{
		{nil, nil},
		{[]int32{-1}, nil},
		{[]int32{int32(c.Vocab)}, nil},
		{make([]int32, c.ContextLen+1), ErrContextFull},
	} {
		_, err := seq.Eval(context.Background(), c.ids)
		if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("Eval(%d tokens): %v, want an error (%v)", len(c.ids), err, c.want)
		}
	}
	seq.Detach()
	seq.Detach()
	if _, err := seq.Eval(context.Background(), []int32{1}); err == nil {
		t.Error("Eval of a detached sequence accepted")
	}
	if s.Pos() != 0 {
		t.Errorf("position %d after refused evaluations", s.Pos())
	}
}

// TestEngineDecodeAllocatesNothing checks that once warm, a decoding step
// through the engine allocates nothing, on the caller's side or the loop's.
func TestEngineDecodeAllocatesNothing(t *testing.T) {
	c := tinyConfig()
	m := openTiny(t, buildTiny(t, c, buildOptions{typ: quant.Q8_0, seed: 47}))
	e, err := m.NewEngine(EngineOptions{Seqs: 2, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	seq, err := e.Attach(newSession(t, m, 2))
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Detach()
	ctx := context.Background()
	if _, err := seq.Eval(ctx, randIDs(48, 8, c.Vocab)); err != nil {
		t.Fatal(err)
	}
	one := []int32{3}
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := seq.Eval(ctx, one); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per decoded token", allocs)
	}
}

// TestEngineServesAWaitingPromptWhileOthersDecode fills a one-sequence
// engine with a decoding sequence and then asks for a prompt: the prompt is
// answered within a few steps, not after the decoder ends (a waiting
// request goes before the decoders once it has been left out).
func TestEngineServesAWaitingPromptWhileOthersDecode(t *testing.T) {
	c := tinyConfig()
	c.ContextLen = 1024
	m := openTiny(t, buildTiny(t, c, buildOptions{typ: quant.Q8_0, seed: 45}))
	e, err := m.NewEngine(EngineOptions{Seqs: 1, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	attach := func() *Sequence {
		s, err := m.NewSession(SessionOptions{Threads: 2, ContextLen: 1024})
		if err != nil {
			t.Fatal(err)
		}
		seq, err := e.Attach(s)
		if err != nil {
			t.Fatal(err)
		}
		return seq
	}
	const total = 600
	var decoded atomic.Int64
	started := make(chan struct{})
	done := make(chan error, 1)
	a := attach()
	go func() {
		defer a.Detach()
		ids := randIDs(71, total, c.Vocab)
		for i, id := range ids {
			if _, err := a.Eval(context.Background(), []int32{id}); err != nil {
				done <- err
				return
			}
			if decoded.Add(1); i == 4 {
				close(started)
			}
		}
		done <- nil
	}()
	<-started
	b := attach()
	defer b.Detach()
	if _, err := b.Eval(context.Background(), randIDs(72, 5, c.Vocab)); err != nil {
		t.Fatal(err)
	}
	at := decoded.Load()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if at >= total {
		t.Errorf("the prompt was answered after the decoder's %d tokens, want while it decodes", at)
	}
	t.Logf("prompt answered when the decoder had %d of %d tokens", at, total)
}
