package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/ops/asm"
	"github.com/q3m/q3m/quant"
	"github.com/q3m/q3m/runtime"
)

func benchCommand() *cli.Command {
	return &cli.Command{
		Name:  "bench",
		Usage: "measure prompt processing and generation speed, like llama-bench",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "model", Aliases: []string{"m"}, Required: true, Usage: "GGUF model file"},
			&cli.IntFlag{Name: "p", Value: 512, Usage: "prompt tokens of the prefill test (0: skip it)"},
			&cli.IntFlag{Name: "n", Value: 128, Usage: "tokens of the generation test (0: skip it)"},
			&cli.IntFlag{Name: "threads", Aliases: []string{"t"}, Usage: "threads (default: the number of CPUs)"},
			&cli.IntFlag{Name: "repetitions", Aliases: []string{"r"}, Value: 3, Usage: "runs of each test"},
			&cli.BoolFlag{Name: "json", Usage: "print the results as JSON"},
		}, memFlags()...),
		Action: func(c *cli.Context) error {
			budget, err := parseSize(c.String("mem-budget"))
			if err != nil {
				return fmt.Errorf("--mem-budget: %w", err)
			}
			o := benchOptions{Prompt: c.Int("p"), Gen: c.Int("n"), Threads: c.Int("threads"), Reps: c.Int("repetitions"),
				Load: runtime.LoadOptions{ExpertBudget: budget, NoPrefetch: c.Bool("no-prefetch")}}
			rep, err := runBench(c.Context, c.String("model"), o)
			if err != nil {
				return err
			}
			if c.Bool("json") {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			printBench(os.Stdout, rep)
			return nil
		},
	}
}

// benchOptions are the sizes of a benchmark run and how to load the model.
type benchOptions struct {
	Prompt, Gen, Threads, Reps int
	Load                       runtime.LoadOptions
}

// benchReport is the result of a benchmark run; it is also the JSON output.
type benchReport struct {
	Model        string             `json:"model"`
	File         string             `json:"file"`
	SizeBytes    uint64             `json:"size_bytes"`
	Params       uint64             `json:"params"`
	ActiveParams uint64             `json:"active_params"`
	TokenBytes   uint64             `json:"bytes_per_token"` // weight bytes one decoded token reads
	Kernel       string             `json:"kernel"`
	Threads      int                `json:"threads"`
	PeakRSSBytes int64              `json:"peak_rss_bytes,omitempty"`
	MappedRSS    int64              `json:"mapped_rss_bytes,omitempty"` // weights resident at the end
	Pager        runtime.PagerStats `json:"pager"`
	Tests        []benchTest        `json:"tests"`
}

// benchTest is one test repeated: its speed per repetition and summary.
type benchTest struct {
	Name    string    `json:"name"` // pp512, tg128
	Tokens  int       `json:"tokens"`
	Samples []float64 `json:"samples_ts"`
	Mean    float64   `json:"avg_ts"`
	Stddev  float64   `json:"stddev_ts"`
	GBps    float64   `json:"gb_per_s,omitempty"` // weight bytes streamed, generation only
}

func runBench(ctx context.Context, path string, o benchOptions) (rep benchReport, err error) {
	if o.Prompt < 0 || o.Gen < 0 || o.Reps < 1 || o.Prompt+o.Gen == 0 {
		return benchReport{}, fmt.Errorf("bench: need -p ≥ 0, -n ≥ 0 (not both 0) and --repetitions ≥ 1, have %d, %d, %d", o.Prompt, o.Gen, o.Reps)
	}
	if o.Threads <= 0 {
		o.Threads = goruntime.NumCPU()
	}
	m, err := runtime.LoadWith(path, o.Load)
	if err != nil {
		return benchReport{}, err
	}
	defer m.Close()
	defer func() {
		rep.Pager = m.PagerStats()
		if n, err := m.File().MappedRSS(); err == nil {
			rep.MappedRSS = int64(n)
		}
	}()
	cfg := m.Config()
	ctxLen := max(o.Prompt, o.Gen+1)
	if ctxLen > cfg.ContextLen {
		return benchReport{}, fmt.Errorf("bench: %s: %d positions exceed the model's context of %d", path, ctxLen, cfg.ContextLen)
	}
	s, err := m.NewSession(runtime.SessionOptions{ContextLen: ctxLen, Threads: o.Threads})
	if err != nil {
		return benchReport{}, err
	}
	w := weightsOf(m.File(), cfg)
	rep = benchReport{
		Model: modelLabel(m.File(), w), File: path, SizeBytes: w.bytes, Params: w.params,
		ActiveParams: w.activeParams, TokenBytes: w.activeBytes,
		Kernel: asm.Active().Name, Threads: o.Threads,
	}
	r := rand.New(rand.NewPCG(1, 2))
	randomIDs := func(n int) []int32 {
		ids := make([]int32, n)
		for i := range ids {
			ids[i] = int32(r.IntN(cfg.Vocab))
		}
		return ids
	}
	// Warm-up: page in the weights one token touches and size the scratch.
	if _, err := s.Eval(randomIDs(1), false); err != nil {
		return benchReport{}, err
	}
	if o.Prompt > 0 {
		t := benchTest{Name: "pp" + strconv.Itoa(o.Prompt), Tokens: o.Prompt}
		for range o.Reps {
			if err := ctx.Err(); err != nil {
				return benchReport{}, err
			}
			ids := randomIDs(o.Prompt)
			s.Reset()
			start := time.Now()
			if _, err := s.Eval(ids, false); err != nil {
				return benchReport{}, err
			}
			t.Samples = append(t.Samples, float64(o.Prompt)/time.Since(start).Seconds())
		}
		rep.Tests = append(rep.Tests, t.summarize(0))
	}
	if o.Gen > 0 {
		t := benchTest{Name: "tg" + strconv.Itoa(o.Gen), Tokens: o.Gen}
		for range o.Reps {
			s.Reset()
			id := randomIDs(1)
			start := time.Now()
			for range o.Gen {
				if err := ctx.Err(); err != nil {
					return benchReport{}, err
				}
				logits, err := s.Eval(id, false)
				if err != nil {
					return benchReport{}, err
				}
				id[0] = int32(argmax(logits))
			}
			t.Samples = append(t.Samples, float64(o.Gen)/time.Since(start).Seconds())
		}
		rep.Tests = append(rep.Tests, t.summarize(w.activeBytes))
	}
	if rss, ok := peakRSS(); ok {
		rep.PeakRSSBytes = rss
	}
	return rep, nil
}

// summarize sets the mean and sample standard deviation of the speeds, and
// the weight bandwidth they imply when each token reads tokenBytes.
func (t benchTest) summarize(tokenBytes uint64) benchTest {
	var sum float64
	for _, v := range t.Samples {
		sum += v
	}
	t.Mean = sum / float64(len(t.Samples))
	if n := len(t.Samples); n > 1 {
		var ss float64
		for _, v := range t.Samples {
			ss += (v - t.Mean) * (v - t.Mean)
		}
		t.Stddev = math.Sqrt(ss / float64(n-1))
	}
	t.GBps = t.Mean * float64(tokenBytes) / 1e9
	return t
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// weights sums a file's tensors: all of them, and the part one decoded
// token reads (k of E experts, one embedding row unless tied, the rest).
type weights struct {
	bytes, params             uint64
	activeBytes, activeParams uint64
	mainType                  quant.Type // the type holding the most bytes
}

func weightsOf(f *format.File, c runtime.Config) weights {
	var w weights
	byType := map[quant.Type]uint64{}
	for _, t := range f.Tensors {
		b, n := t.Bytes(), t.Elements()
		w.bytes += b
		w.params += n
		byType[t.Type] += b
		switch {
		case strings.HasSuffix(t.Name, "_exps.weight") && c.Experts > 0:
			w.activeBytes += b / uint64(c.Experts) * uint64(c.ExpertsUsed)
			w.activeParams += n / uint64(c.Experts) * uint64(c.ExpertsUsed)
		case t.Name == "token_embd.weight" && !c.Tied:
			w.activeBytes += t.RowBytes()
			w.activeParams += uint64(c.Hidden)
		default:
			w.activeBytes += b
			w.activeParams += n
		}
	}
	for typ, b := range byType {
		if b > byType[w.mainType] || (b == byType[w.mainType] && typ < w.mainType) {
			w.mainType = typ
		}
	}
	return w
}

// modelLabel names a model as llama-bench does: architecture, size, type.
func modelLabel(f *format.File, w weights) string {
	arch, _, _ := f.String("general.architecture")
	if arch == "" {
		arch = "?"
	}
	return fmt.Sprintf("%s %s %s", arch, humanCount(w.params), strings.ToUpper(w.mainType.String()))
}

// humanCount prints a parameter count as 30.53 B, 12.1 M.
func humanCount(n uint64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f B", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2f M", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.2f K", float64(n)/1e3)
	}
	return strconv.FormatUint(n, 10)
}

// peakRSS returns the process's peak resident set size from
// /proc/self/status (VmHWM), where that exists.
func peakRSS() (int64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) != 2 || f[1] != "kB" {
				return 0, false
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb * 1024, err == nil
		}
	}
	return 0, false
}

// printBench writes llama-bench's table and a summary of the weights read.
func printBench(w io.Writer, r benchReport) {
	fmt.Fprintln(w, "| model | size | params | backend | threads | test | t/s |")
	fmt.Fprintln(w, "| ----- | ---: | -----: | ------- | ------: | ---: | --: |")
	for _, t := range r.Tests {
		fmt.Fprintf(w, "| %s | %s | %s | cpu/%s | %d | %s | %.2f ± %.2f |\n",
			r.Model, humanBytes(int64(r.SizeBytes)), humanCount(r.Params), r.Kernel, r.Threads, t.Name, t.Mean, t.Stddev)
	}
	fmt.Fprintf(w, "\nactive params per token: %s; weights read per decoded token: %s\n",
		humanCount(r.ActiveParams), humanBytes(int64(r.TokenBytes)))
	for _, t := range r.Tests {
		if t.GBps > 0 {
			fmt.Fprintf(w, "%s: %.1f ms/token, %.2f GB/s of weights\n", t.Name, 1000/t.Mean, t.GBps)
		}
	}
	if r.PeakRSSBytes > 0 {
		fmt.Fprintf(w, "peak RSS: %s (mapped weights count once touched)\n", humanBytes(r.PeakRSSBytes))
	}
	if r.MappedRSS > 0 {
		fmt.Fprintf(w, "weights resident at the end: %s of %s\n", humanBytes(r.MappedRSS), humanBytes(int64(r.SizeBytes)))
	}
	if p := r.Pager; p.Hits+p.Misses > 0 {
		budget := "none"
		if p.Budget > 0 {
			budget = humanBytes(p.Budget)
		}
		fmt.Fprintf(w, "expert pager: budget %s; %d experts resident (%s); hits %d, misses %d, evictions %d; prefetch hits %d of %d predicted\n",
			budget, p.Resident, humanBytes(p.ResidentBytes), p.Hits, p.Misses, p.Evictions, p.PrefetchHits, p.Predicted)
	}
}
