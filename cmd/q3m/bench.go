package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	goruntime "runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/ops"
	"github.com/q3m/q3m/ops/asm"
	"github.com/q3m/q3m/quant"
	"github.com/q3m/q3m/routing"
	"github.com/q3m/q3m/runtime"
	"github.com/q3m/q3m/sysmem"
)

func benchCommand() *cli.Command {
	return &cli.Command{
		Name:      "bench",
		Usage:     "measure prompt processing and generation speed, like llama-bench",
		ArgsUsage: "MODEL",
		Description: "-p, -n, -d and -t take comma-separated lists, as llama-bench's do, and every combination runs:\n" +
			"-p 64,512 -n 0 -t 1,2 runs pp64 and pp512 with 1 and with 2 threads; -d 0,4096 runs each test on an\n" +
			"empty context and after 4096 tokens (tg128 @ d4096: attention over a long context). Progress goes to stderr,\n" +
			"results to stdout: a Markdown table (md), csv, one JSON object (json) or one per test (jsonl).",
		Flags: append([]cli.Flag{
			modelFlag(),
			&cli.StringFlag{Name: "n-prompt", Aliases: []string{"p"}, Value: "512", Usage: "prompt tokens of the prefill test, a list (0: no prefill test)"},
			&cli.StringFlag{Name: "n-gen", Aliases: []string{"n"}, Value: "128", Usage: "tokens of the generation test, a list (0: no generation test)"},
			&cli.StringFlag{Name: "n-depth", Aliases: []string{"d"}, Value: "0", Usage: "tokens already in the context when each test starts (evaluated before it, not timed), a list"},
			&cli.StringFlag{Name: "threads", Aliases: []string{"t"}, Value: strconv.Itoa(goruntime.GOMAXPROCS(0)), EnvVars: []string{"Q3M_THREADS"},
				DefaultText: fmt.Sprintf("%d, GOMAXPROCS", goruntime.GOMAXPROCS(0)), Usage: "worker threads, a list"},
			&cli.IntFlag{Name: "repetitions", Aliases: []string{"r"}, Value: 3, Usage: "runs of each test"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "md", Usage: "output format: md, csv, json or jsonl"},
			&cli.BoolFlag{Name: "bandwidth", DisableDefaultText: true, Usage: "before each generation run, measure the machine's read bandwidth on the same threads (a read-only sum over 256 MiB, which counts in the peak RSS) and give the weights' reads as a share of it"},
			&cli.StringFlag{Name: "route-trace", Usage: "force the routing of every token from the trace in `FILE` (q3m trace gen, --trace-experts): measures the expert cache on that routing; the outputs are not the model's"},
			traceExpertsFlag(),
		}, memFlags()...),
		Action: func(c *cli.Context) error {
			model, args, err := modelArgs(c)
			if err != nil {
				return err
			}
			if len(args) > 0 {
				return cli.Exit(fmt.Sprintf("q3m bench: unexpected argument %q", args[0]), 2)
			}
			format := c.String("output")
			if !slices.Contains(benchFormats(), format) {
				msg := fmt.Sprintf("q3m bench: -o %q: want one of %s", format, strings.Join(benchFormats(), ", "))
				if s := suggest(format, benchFormats()); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				}
				return cli.Exit(msg, 2)
			}
			load, err := loadOptions(c)
			if err != nil {
				return err
			}
			kv, err := kvType(c)
			if err != nil {
				return err
			}
			o := benchOptions{Reps: c.Int("repetitions"), Load: load, KVType: kv, RouteTrace: c.String("route-trace"),
				Bandwidth: c.Bool("bandwidth"), Progress: newBenchProgress(os.Stderr)}
			for _, l := range []struct {
				flag string
				dst  *[]int
			}{{"n-prompt", &o.Prompts}, {"n-gen", &o.Gens}, {"n-depth", &o.Depths}, {"threads", &o.Threads}} {
				if *l.dst, err = parseIntList(c.String(l.flag)); err != nil {
					return fmt.Errorf("%s: %w", flagName(l.flag), err)
				}
			}
			rec, err := startRouteTrace(c, model)
			if err != nil {
				return err
			}
			defer rec.discard()
			if rec != nil {
				o.Record = rec
			}
			rep, err := runBench(c.Context, model, o)
			if err != nil {
				return err
			}
			if err := rec.finish(nil); err != nil {
				return err
			}
			return writeBench(os.Stdout, rep, format)
		},
	}
}

// testName is llama-bench's name of a test: pp512, tg128, tg128 @ d4096.
func testName(kind string, n, depth int) string {
	name := kind + strconv.Itoa(n)
	if depth > 0 {
		name += " @ d" + strconv.Itoa(depth)
	}
	return name
}

// benchFormats are the values of bench -o.
func benchFormats() []string { return []string{"md", "csv", "json", "jsonl"} }

// parseIntList reads a comma-separated list of integers: 64,512.
func parseIntList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		v, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number or a comma-separated list of numbers", s)
		}
		out = append(out, v)
	}
	return out, nil
}

// benchOptions are the sizes of a benchmark run and how to load the model.
// Every thread count runs every prefill and generation size at every
// depth (none: depth 0).
type benchOptions struct {
	Prompts, Gens, Depths, Threads []int
	Reps                           int
	Load                           runtime.LoadOptions
	KVType                         runtime.KVType
	// RouteTrace, when set, is a routing trace forced on every session
	// (Session.ReplayRouting).
	RouteTrace string
	// Bandwidth measures the read bandwidth before each generation run
	// (benchTest.Bandwidth).
	Bandwidth bool
	// Record, when set, receives the routing of the first thread count's
	// session (Session.RecordRouting): warm-ups and tests in order.
	Record io.Writer
	// Progress, when set, is called before each run of a test.
	Progress func(test string, threads, run, runs int)
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
	PeakRSSBytes int64              `json:"peak_rss_bytes,omitempty"`
	MappedRSS    int64              `json:"mapped_rss_bytes,omitempty"` // weights resident at the end
	Pager        runtime.PagerStats `json:"pager"`
	RouteTrace   string             `json:"route_trace,omitempty"` // routing forced from this trace: outputs not the model's
	Tests        []benchTest        `json:"tests"`
}

// benchTest is one test repeated: its speed per repetition and summary.
type benchTest struct {
	Name    string `json:"name"` // pp512, tg128, tg128 @ d4096
	Threads int    `json:"threads"`
	NPrompt int    `json:"n_prompt"`
	NGen    int    `json:"n_gen"`
	// NDepth is the tokens each run evaluates first, untimed (-d): the
	// context its timed tokens see. Per-token counts below include them.
	NDepth  int       `json:"n_depth"`
	Samples []float64 `json:"samples_ts"`
	Mean    float64   `json:"avg_ts"`
	Stddev  float64   `json:"stddev_ts"`
	GBps    float64   `json:"gb_per_s,omitempty"` // weight bytes streamed, generation only
	// TTFTSeconds is the mean time to evaluate the prompt: to the first
	// token's logits (prompt tests only).
	TTFTSeconds float64 `json:"ttft_s,omitempty"`
	// MajorFaults is the process's major page faults during the test's
	// runs per token evaluated (-1: not known on this system).
	MajorFaults float64 `json:"major_faults_per_token"`
	// ExpertHitRate is the share of the test's chosen experts the pager
	// found resident; ExpertBytesIn the expert bytes it read (on demand
	// and ahead) per token evaluated. Both 0 without a pager.
	ExpertHitRate float64 `json:"expert_hit_rate,omitempty"`
	ExpertBytesIn float64 `json:"expert_bytes_in_per_token,omitempty"`
	// ReadWaitMs is the time per token the forward pass waited for
	// experts' reads (--expert-io pread or direct).
	ReadWaitMs float64 `json:"read_wait_ms_per_token,omitempty"`
	// With --bandwidth, generation tests only: the machine's read
	// bandwidth on the test's threads, measured before each run (bytes
	// per second), and each run's weight reads as a share of it.
	Bandwidth []float64 `json:"read_bandwidth,omitempty"`
	Share     []float64 `json:"bandwidth_share,omitempty"`
}

// bandwidthBytes is the buffer of bench --bandwidth's read-bandwidth
// measurement: far beyond a last-level cache (8× the 32 MiB of the
// machine BENCHMARKS.md was measured on; a Pi 5 has 2 MiB).
const bandwidthBytes = 256 << 20

// expertCounts sets the test's expert hit rate and bytes read per token
// from the pager's counters before (p0) and after (p1) its runs.
func (t *benchTest) expertCounts(p0, p1 runtime.PagerStats, tokens int) {
	hits, misses := p1.Hits-p0.Hits, p1.Misses-p0.Misses
	if hits+misses == 0 || tokens <= 0 {
		return
	}
	t.ExpertHitRate = float64(hits) / float64(hits+misses)
	t.ExpertBytesIn = float64(p1.BytesIn-p0.BytesIn) / float64(tokens)
	t.ReadWaitMs = float64((p1.ReadWait - p0.ReadWait).Microseconds()) / 1000 / float64(tokens)
}

func runBench(ctx context.Context, path string, o benchOptions) (rep benchReport, err error) {
	maxP, maxG := 0, 0
	for _, p := range o.Prompts {
		if p < 0 {
			return benchReport{}, fmt.Errorf("bench: -p %d: want a count ≥ 0", p)
		}
		maxP = max(maxP, p)
	}
	for _, g := range o.Gens {
		if g < 0 {
			return benchReport{}, fmt.Errorf("bench: -n %d: want a count ≥ 0", g)
		}
		maxG = max(maxG, g)
	}
	depths, maxD := o.Depths, 0
	if len(depths) == 0 {
		depths = []int{0}
	}
	for _, d := range depths {
		if d < 0 {
			return benchReport{}, fmt.Errorf("bench: -d %d: want a count ≥ 0", d)
		}
		maxD = max(maxD, d)
	}
	if maxP+maxG == 0 || o.Reps < 1 || len(o.Threads) == 0 {
		return benchReport{}, fmt.Errorf("bench: need a -p or -n above 0, --repetitions ≥ 1 and a thread count; have -p %v, -n %v, -r %d, -t %v",
			o.Prompts, o.Gens, o.Reps, o.Threads)
	}
	threads := slices.Clone(o.Threads)
	for i, t := range threads {
		if t < 0 || t > maxThreads {
			return benchReport{}, fmt.Errorf("bench: -t %d: want 0 to %d", t, maxThreads)
		}
		if t == 0 {
			threads[i] = goruntime.GOMAXPROCS(0)
		}
	}
	progress := o.Progress
	if progress == nil {
		progress = func(string, int, int, int) {}
	}
	ctxLen := maxD + max(maxP, maxG+1)
	if o.Load.ContextLen == 0 {
		o.Load.ContextLen = ctxLen // the memory plan reserves this KV cache
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
	if ctxLen > cfg.ContextLen {
		return benchReport{}, fmt.Errorf("bench: %s: %d positions exceed the model's context of %d", path, ctxLen, cfg.ContextLen)
	}
	w, err := weightsOf(m.File(), cfg)
	if err != nil {
		return benchReport{}, fmt.Errorf("bench: %w", err)
	}
	rep = benchReport{
		Model: modelLabel(m.File(), w), File: path, SizeBytes: w.bytes, Params: w.params,
		ActiveParams: w.activeParams, TokenBytes: w.activeBytes,
		Kernel: asm.Active().Name, RouteTrace: o.RouteTrace,
	}
	var trace *routing.Trace
	if o.RouteTrace != "" {
		if trace, err = routing.ReadFile(o.RouteTrace, m.RouteGeometry()); err != nil {
			return benchReport{}, fmt.Errorf("--route-trace: %w", err)
		}
		fmt.Fprintf(os.Stderr, "bench: routing forced from %s (%d tokens): speeds measure the expert cache on that routing; the outputs are not the model's\n",
			o.RouteTrace, trace.Tokens())
	}
	r := rand.New(rand.NewPCG(1, 2))
	randomIDs := func(n int) []int32 {
		ids := make([]int32, n)
		for i := range ids {
			ids[i] = int32(r.IntN(cfg.Vocab))
		}
		return ids
	}
	var recorded *runtime.Session
	for i, nt := range threads {
		s, err := m.NewSession(runtime.SessionOptions{ContextLen: ctxLen, Threads: nt, KVType: o.KVType})
		if err != nil {
			return benchReport{}, err
		}
		if trace != nil {
			if err := s.ReplayRouting(trace); err != nil {
				return benchReport{}, fmt.Errorf("--route-trace: %w", err)
			}
		}
		if i == 0 && o.Record != nil {
			s.RecordRouting(o.Record)
			recorded = s
		}
		// Warm-up: page in the weights one token touches and size the scratch.
		if _, err := s.Eval(randomIDs(1), false); err != nil {
			return benchReport{}, err
		}
		// atDepth empties the session and evaluates d random tokens: the
		// context a test at depth d starts from.
		atDepth := func(d int) error {
			s.Reset()
			if d == 0 {
				return nil
			}
			_, err := s.Eval(randomIDs(d), false)
			return err
		}
		for _, d := range depths {
			for _, np := range o.Prompts {
				if np == 0 {
					continue
				}
				t := benchTest{Name: testName("pp", np, d), Threads: nt, NPrompt: np, NDepth: d}
				// One unmeasured run first, as llama-bench's warm-up: it sizes
				// the scratch for the batch and pages in the experts a prompt
				// touches.
				if err := atDepth(d); err != nil {
					return benchReport{}, err
				}
				if _, err := s.Eval(randomIDs(np), false); err != nil {
					return benchReport{}, err
				}
				faults, p0 := startFaults(), m.PagerStats()
				for rep := range o.Reps {
					if err := ctx.Err(); err != nil {
						return benchReport{}, err
					}
					progress(t.Name, nt, rep+1, o.Reps)
					if err := atDepth(d); err != nil {
						return benchReport{}, err
					}
					ids := randomIDs(np)
					start := time.Now()
					if _, err := s.Eval(ids, false); err != nil {
						return benchReport{}, err
					}
					took := time.Since(start).Seconds()
					t.Samples = append(t.Samples, float64(np)/took)
					t.TTFTSeconds += took / float64(o.Reps)
				}
				t.MajorFaults = faults.perToken((d + np) * o.Reps)
				t.expertCounts(p0, m.PagerStats(), (d+np)*o.Reps)
				rep.Tests = append(rep.Tests, t.summarize(0))
			}
			for _, ng := range o.Gens {
				if ng == 0 {
					continue
				}
				t := benchTest{Name: testName("tg", ng, d), Threads: nt, NGen: ng, NDepth: d}
				faults, p0 := startFaults(), m.PagerStats()
				for rep := range o.Reps {
					progress(t.Name, nt, rep+1, o.Reps)
					if err := atDepth(d); err != nil {
						return benchReport{}, err
					}
					var bw float64
					if o.Bandwidth {
						if bw, err = ops.MeasureReadBandwidth(nt, bandwidthBytes); err != nil {
							return benchReport{}, fmt.Errorf("bench: --bandwidth: %w", err)
						}
						debug.FreeOSMemory() // the buffer goes back before the run
					}
					id := randomIDs(1)
					start := time.Now()
					for range ng {
						if err := ctx.Err(); err != nil {
							return benchReport{}, err
						}
						logits, err := s.Eval(id, false)
						if err != nil {
							return benchReport{}, err
						}
						id[0] = int32(argmax(logits))
					}
					ts := float64(ng) / time.Since(start).Seconds()
					t.Samples = append(t.Samples, ts)
					if o.Bandwidth {
						t.Bandwidth = append(t.Bandwidth, bw)
						t.Share = append(t.Share, ts*float64(w.activeBytes)/bw)
					}
				}
				t.MajorFaults = faults.perToken((d + ng) * o.Reps)
				t.expertCounts(p0, m.PagerStats(), (d+ng)*o.Reps)
				rep.Tests = append(rep.Tests, t.summarize(w.activeBytes))
			}
		}
	}
	progress("", 0, 0, 0)
	if recorded != nil {
		if err := recorded.RecordingError(); err != nil {
			return benchReport{}, fmt.Errorf("--trace-experts: %w", err)
		}
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

// faultCount is the process's major page faults when a test began.
type faultCount struct {
	n  uint64
	ok bool
}

func startFaults() faultCount {
	n, err := sysmem.MajorFaults()
	return faultCount{n, err == nil}
}

// perToken returns the major faults since f per token of tokens, or -1
// when they are not known.
func (f faultCount) perToken(tokens int) float64 {
	n, err := sysmem.MajorFaults()
	if !f.ok || err != nil || tokens <= 0 {
		return -1
	}
	return float64(n-min(n, f.n)) / float64(tokens)
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
// token reads (tokenBytes: k of E experts, one embedding row unless tied,
// the rest of the runtime's tensor table).
type weights struct {
	bytes, params             uint64
	activeBytes, activeParams uint64
	mainType                  quant.Type // the type holding the most bytes
}

func weightsOf(f *format.File, c runtime.Config) (weights, error) {
	var w weights
	var err error
	if w.activeBytes, w.activeParams, err = tokenBytes(f, c); err != nil {
		return w, err
	}
	byType := map[quant.Type]uint64{}
	for _, t := range f.Tensors {
		w.bytes += t.Bytes()
		w.params += t.Elements()
		byType[t.Type] += t.Bytes()
	}
	for typ, b := range byType {
		if b > byType[w.mainType] || (b == byType[w.mainType] && typ < w.mainType) {
			w.mainType = typ
		}
	}
	return w, nil
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
