//go:build unix

package runtime

import (
	"context"
	"fmt"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/q3m/q3m/quant"
)

// BenchmarkEngineDecode compares the aggregate decode rate of N sequences
// decoding through an Engine (one forward pass per step for all) with N
// Sessions decoding on their own goroutines, and reports tokens/s. It runs
// on a small random model, or on the GGUF file named by
// Q3M_ENGINE_BENCH_MODEL (Q3M_ENGINE_BENCH_THREADS threads, default 2):
//
//	Q3M_ENGINE_BENCH_MODEL=/work/bq/q4km.gguf go test ./runtime -run - -bench EngineDecode -benchtime 32x
func BenchmarkEngineDecode(b *testing.B) {
	path := os.Getenv("Q3M_ENGINE_BENCH_MODEL")
	if path == "" {
		c := tinyConfig()
		c.Vocab, c.Hidden, c.ContextLen = 2048, 256, 512
		c.FFN, c.ExpertFFN = 512, 128
		path = buildTiny(b, c, buildOptions{typ: quant.Q8_0, seed: 70}).path
	}
	threads := 2
	if s := os.Getenv("Q3M_ENGINE_BENCH_THREADS"); s != "" {
		fmt.Sscan(s, &threads)
	}
	m, err := Load(path)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	for _, n := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("engine/seqs=%d", n), func(b *testing.B) { benchDecode(b, m, n, threads, true) })
		b.Run(fmt.Sprintf("sessions/seqs=%d", n), func(b *testing.B) { benchDecode(b, m, n, threads, false) })
	}
}

// benchDecode decodes b.N tokens on each of n sequences after a short
// prompt each.
func benchDecode(b *testing.B, m *Model, n, threads int, batched bool) {
	V := m.Config().Vocab
	var e *Engine
	if batched {
		var err error
		if e, err = m.NewEngine(EngineOptions{Seqs: n, Threads: threads}); err != nil {
			b.Fatal(err)
		}
		defer e.Close()
	}
	type seq struct {
		s *Session
		q *Sequence
	}
	seqs := make([]seq, n)
	for i := range seqs {
		s, err := m.NewSession(SessionOptions{Threads: threads, ContextLen: min(m.Config().ContextLen, 4096)})
		if err != nil {
			b.Fatal(err)
		}
		seqs[i].s = s
		if e != nil {
			if seqs[i].q, err = e.Attach(s); err != nil {
				b.Fatal(err)
			}
			defer seqs[i].q.Detach()
		}
		if _, err := s.Eval(randIDs(uint64(80+i), 8, V), false); err != nil {
			b.Fatal(err)
		}
	}
	if b.N+8 > seqs[0].s.ContextLen() {
		b.Skipf("%d tokens exceed the context", b.N)
	}
	cpu0 := cpuTime()
	b.ResetTimer()
	var wg sync.WaitGroup
	for i := range seqs {
		ids := randIDs(uint64(90+i), b.N, V)
		wg.Go(func() {
			for _, id := range ids {
				var err error
				if e != nil {
					_, err = seqs[i].q.Eval(context.Background(), []int32{id})
				} else {
					_, err = seqs[i].s.Eval([]int32{id}, false)
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "tokens/s")
	// On a loaded machine the wall time says little; the process's CPU
	// time per token says how much work batching saves.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(n*b.N), "cpu-µs/token")
}

// cpuTime returns the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
