package runtime

import (
	"math"
	goruntime "runtime"
	"slices"
	"testing"

	"github.com/q3m/q3m/ops"
	"github.com/q3m/q3m/quant"
)

func TestNewSessionRefusesThreadCountsOutsideItsRange(t *testing.T) {
	model := openTiny(t, buildTiny(t, tinyConfig(), buildOptions{seed: 30}))
	before := goruntime.NumGoroutine()
	for _, n := range []int{-1, ops.MaxThreads + 1, 1_000_000} {
		if s, err := model.NewSession(SessionOptions{Threads: n}); err == nil {
			t.Errorf("Threads %d: session with %d threads, want an error", n, s.exec.Threads())
		}
		if _, err := model.NewChat(ChatOptions{Threads: n}); err == nil {
			t.Errorf("Threads %d: NewChat accepted it", n)
		}
	}
	if g := goruntime.NumGoroutine(); g > before+2 {
		t.Errorf("%d goroutines after refused sessions, %d before", g, before)
	}
}

// TestLongContextCostsOnlyWhatIsUsed opens a session of 100,000,000
// positions: the KV cache and RoPE tables hold only what is evaluated (the
// whole RoPE table alone would take 12.8 GB here).
func TestLongContextCostsOnlyWhatIsUsed(t *testing.T) {
	c := tinyConfig()
	c.ContextLen = 100_000_000
	tm := buildTiny(t, c, buildOptions{seed: 31})
	model := openTiny(t, tm)
	var before, after goruntime.MemStats
	goruntime.ReadMemStats(&before)
	s, err := model.NewSession(SessionOptions{ContextLen: c.ContextLen, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	ids := randIDs(31, 20, c.Vocab)
	got, err := s.Eval(ids, false)
	if err != nil {
		t.Fatal(err)
	}
	goruntime.ReadMemStats(&after)
	// Observed: 0.6 MB (the first 256 positions of KV and RoPE, scratch).
	if n := after.TotalAlloc - before.TotalAlloc; n > 4<<20 {
		t.Errorf("a session of 1e8 positions allocated %d bytes for 20 tokens", n)
	}
	if s.ContextLen() != c.ContextLen {
		t.Errorf("context %d, want %d", s.ContextLen(), c.ContextLen)
	}
	want := (&ref64{m: tm, kv: quant.F16}).logits(ids)[len(ids)-1] // the default f16 KV cache
	if d := maxDiff(got, want); d > 1e-4 {
		t.Errorf("logits differ from the reference by %g", d)
	}
}

// TestRopeTablesGrowToWhatTheyWouldBeBuiltAtOnce checks the shared tables
// grown in steps (as sessions reach further) against tables built in one
// go, bit for bit, and against the float64 reference.
func TestRopeTablesGrowToWhatTheyWouldBeBuiltAtOnce(t *testing.T) {
	yarn := tinyConfig()
	yarn.ContextLen = 2000
	yarn.RopeScaling, yarn.RopeFactor, yarn.RopeOrigCtx = "yarn", 4, 500
	yarn.YarnBetaFast, yarn.YarnBetaSlow, yarn.YarnAttnFactor, yarn.YarnTruncate = 32, 1, yarnMscale(4), true
	plain := tinyConfig()
	plain.ContextLen = 2000
	for _, c := range []Config{plain, yarn} {
		steps := newRopeCache(c)
		for _, n := range []int{1, 5, 256, 257, 1000, 1999, 2000} {
			cos, sin := steps.tables(n)
			if len(cos) < n*c.HeadDim/2 || len(sin) != len(cos) {
				t.Fatalf("%s: tables(%d) holds %d values", c.RopeScaling, n, len(cos))
			}
		}
		cos, sin := steps.tables(2000)
		once, onceSin := newRopeCache(c).tables(2000)
		if !slices.Equal(cos, once) || !slices.Equal(sin, onceSin) {
			t.Errorf("%s: tables grown in steps differ from tables built at once", c.RopeScaling)
		}
		inv, f := refInvFreq(c)
		half := len(inv)
		for _, p := range []int{0, 1, 255, 256, 1234, 1999} {
			for j := range half {
				wc, ws := math.Cos(float64(p)*inv[j])*f, math.Sin(float64(p)*inv[j])*f
				if float64(cos[p*half+j]) != float64(float32(wc)) || float64(sin[p*half+j]) != float64(float32(ws)) {
					t.Fatalf("%s: position %d pair %d: %v %v, want %v %v", c.RopeScaling, p, j, cos[p*half+j], sin[p*half+j], wc, ws)
				}
			}
		}
	}
}

// TestRopeTablesAreTheModelsOwn checks that sessions read one copy of the
// RoPE tables, the Model's, rather than building their own.
func TestRopeTablesAreTheModelsOwn(t *testing.T) {
	c := tinyConfig()
	model := openTiny(t, buildTiny(t, c, buildOptions{seed: 33}))
	var sessions [3]*Session
	for i := range sessions {
		s, err := model.NewSession(SessionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Eval(randIDs(uint64(33+i), 8+8*i, c.Vocab), false); err != nil {
			t.Fatal(err)
		}
		sessions[i] = s
	}
	cos, sin := model.rope.tables(1)
	for i, s := range sessions {
		if len(s.cos) == 0 || &s.cos[0] != &cos[0] || &s.sin[0] != &sin[0] {
			t.Errorf("session %d reads RoPE tables of its own", i)
		}
	}
}
