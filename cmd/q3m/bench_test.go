package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/q3m/q3m/convert"
	"github.com/q3m/q3m/ops/asm"
	"github.com/q3m/q3m/quant"
	"github.com/q3m/q3m/synth"
)

// benchTestModel converts synth's "tiny" preset to Q8_0.
func benchTestModel(t *testing.T) (string, synth.Spec) {
	t.Helper()
	spec, err := synth.Preset("tiny", 0)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	hf := filepath.Join(dir, "hf")
	if err := synth.Write(hf, spec); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "tiny.gguf")
	if err := convert.Convert(context.Background(), hf, out, convert.Options{Type: quant.Q8_0}); err != nil {
		t.Fatal(err)
	}
	return out, spec
}

func runQ3M(t *testing.T, args ...string) string {
	t.Helper()
	cmd := q3mCommand(args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		skipIfNotExecutable(t, err)
		t.Fatalf("q3m %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

func TestBenchPrintsALlamaBenchTable(t *testing.T) {
	path, _ := benchTestModel(t)
	out := runQ3M(t, "bench", "--model", path, "-p", "40", "-n", "5", "-r", "2", "--threads", "1")
	row := regexp.MustCompile(`^\| qwen3moe \S+ [KMB] Q8_0 \| [0-9.]+ [KMG]iB \| [0-9.]+ [KMB] \| cpu/(\S+) \| 1 \| (\w+) \| ([0-9.]+) ± ([0-9.]+) \|$`)
	var tests []string
	for line := range strings.Lines(out) {
		m := row.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		if m[1] != asm.Active().Name {
			t.Errorf("backend cpu/%s, active kernel %s", m[1], asm.Active().Name)
		}
		if ts, err := strconv.ParseFloat(m[3], 64); err != nil || ts <= 0 {
			t.Errorf("%s: t/s %q", m[2], m[3])
		}
		tests = append(tests, m[2])
	}
	if strings.Join(tests, ",") != "pp40,tg5" {
		t.Errorf("table rows for tests %v, want pp40 and tg5; output:\n%s", tests, out)
	}
	if !strings.Contains(out, "weights read per decoded token") {
		t.Errorf("no weights summary in output:\n%s", out)
	}
}

func TestBenchJSONCountsActiveWeights(t *testing.T) {
	path, s := benchTestModel(t)
	var rep benchReport
	if err := json.Unmarshal([]byte(runQ3M(t, "bench", "-m", path, "-p", "8", "-n", "3", "-r", "3", "-t", "2", "-o", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	// One token reads: one embedding row, lm_head, the final norm, and per
	// layer the norms, attention, router and k of the E experts.
	H, hd, I := s.Hidden, s.HeadDimOrDefault(), s.ExpertFFN
	perLayer := 2*H + H*s.Heads*hd*2 + H*s.KVHeads*hd*2 + 2*hd + H*s.Experts + s.ExpertsUsed*3*H*I
	wantActive := uint64(H + s.Vocab*H + H + s.Layers*perLayer)
	if s.Tied || s.AttentionBias || s.FFN > 0 && len(s.MLPOnlyLayers) > 0 {
		t.Fatalf("the formula above assumes an untied MoE model without bias")
	}
	if rep.ActiveParams != wantActive {
		t.Errorf("active params %d, want %d", rep.ActiveParams, wantActive)
	}
	if rep.Params != uint64(s.Params()) {
		t.Errorf("params %d, checkpoint has %d", rep.Params, s.Params())
	}
	if rep.TokenBytes == 0 || rep.TokenBytes >= rep.SizeBytes || rep.TokenBytes < rep.ActiveParams {
		t.Errorf("bytes per token %d for %d active params of a %d-byte file", rep.TokenBytes, rep.ActiveParams, rep.SizeBytes)
	}
	if rep.Kernel != asm.Active().Name || rep.Tests[0].Threads != 2 {
		t.Errorf("kernel %q threads %d", rep.Kernel, rep.Tests[0].Threads)
	}
	if len(rep.Tests) != 2 || rep.Tests[0].Name != "pp8" || rep.Tests[1].Name != "tg3" {
		t.Fatalf("tests %+v, want pp8 and tg3", rep.Tests)
	}
	for _, tc := range rep.Tests {
		if len(tc.Samples) != 3 || tc.Mean <= 0 || tc.Stddev < 0 {
			t.Errorf("%s: samples %v mean %v stddev %v", tc.Name, tc.Samples, tc.Mean, tc.Stddev)
		}
	}
	if g := rep.Tests[1].GBps; g <= 0 {
		t.Errorf("generation reports %v GB/s", g)
	}
}

func TestBenchBandwidthGivesEachRunsShare(t *testing.T) {
	path, _ := benchTestModel(t)
	var rep benchReport
	if err := json.Unmarshal([]byte(runQ3M(t, "bench", "-m", path, "-p", "4", "-n", "3", "-r", "2", "-t", "1", "--bandwidth", "-o", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Tests) != 2 || len(rep.Tests[0].Bandwidth)+len(rep.Tests[0].Share) != 0 {
		t.Fatalf("tests %+v: want pp4 without a bandwidth, then tg3", rep.Tests)
	}
	g := rep.Tests[1]
	if len(g.Bandwidth) != 2 || len(g.Share) != 2 {
		t.Fatalf("tg3: bandwidth %v, shares %v; want one of each per run", g.Bandwidth, g.Share)
	}
	for i, bw := range g.Bandwidth {
		// Far below 1 GB/s no machine runs this; above 10 TB/s none reads.
		if bw < 1e9 || bw > 1e13 {
			t.Errorf("run %d: read bandwidth %v B/s", i, bw)
		}
		if want := g.Samples[i] * float64(rep.TokenBytes) / bw; math.Abs(g.Share[i]-want) > 1e-12*want {
			t.Errorf("run %d: share %v, want %v t/s · %d B / %v B/s = %v", i, g.Share[i], g.Samples[i], rep.TokenBytes, bw, want)
		}
	}
	out := runQ3M(t, "bench", "-m", path, "-p", "0", "-n", "2", "-r", "1", "-t", "1", "--bandwidth")
	if !regexp.MustCompile(`tg2, 1 thread: [0-9.]+ ms/token, [0-9.]+ GB/s of weights; of the read bandwidth measured before each run: [0-9]+% of [0-9.]+ GB/s\n`).MatchString(out) {
		t.Errorf("no share in the summary:\n%s", out)
	}
	if out := runQ3M(t, "bench", "-m", path, "-p", "0", "-n", "2", "-r", "1", "-t", "1"); strings.Contains(out, "read bandwidth") {
		t.Errorf("a share without --bandwidth:\n%s", out)
	}
}

func TestBenchRejectsBadSizes(t *testing.T) {
	path, _ := benchTestModel(t)
	for _, o := range []benchOptions{
		{Prompts: []int{0}, Gens: []int{0}, Threads: []int{1}, Reps: 1},
		{Prompts: []int{-1}, Gens: []int{4}, Threads: []int{1}, Reps: 1},
		{Prompts: []int{4}, Gens: []int{4}, Threads: []int{1}, Reps: 0},
		{Prompts: []int{4}, Gens: []int{4}, Threads: nil, Reps: 1},
		{Prompts: []int{4}, Gens: []int{4}, Threads: []int{-1}, Reps: 1},
		{Prompts: []int{1 << 20}, Gens: []int{1}, Threads: []int{1}, Reps: 1}, // beyond the context
		{Prompts: []int{4}, Gens: []int{4}, Depths: []int{-1}, Threads: []int{1}, Reps: 1},
		{Prompts: []int{4}, Gens: []int{4}, Depths: []int{0, 1 << 20}, Threads: []int{1}, Reps: 1}, // beyond the context
	} {
		if _, err := runBench(context.Background(), path, o); err == nil {
			t.Errorf("%+v: accepted", o)
		}
	}
}

func TestSummarizeGivesMeanAndSampleStddev(t *testing.T) {
	got := benchTest{Samples: []float64{2, 4, 4, 4, 5, 5, 7, 9}}.summarize(1e9)
	// Mean 5; squared deviations sum to 32, over n-1 = 7.
	if got.Mean != 5 || math.Abs(got.Stddev-math.Sqrt(32.0/7)) > 1e-12 || got.GBps != 5 {
		t.Errorf("mean %v stddev %v GB/s %v", got.Mean, got.Stddev, got.GBps)
	}
}

func TestBenchPassesTheMemoryBudgetToThePager(t *testing.T) {
	path, spec := benchTestModel(t)
	out := runQ3M(t, "bench", "-m", path, "-p", "4", "-n", "2", "-r", "1", "-t", "1", "--mem-budget", "64KiB", "-o", "json")
	var rep benchReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// The experts one token chooses stay resident even when they alone
	// exceed the budget.
	perExpert := rep.Pager.ResidentBytes / int64(max(rep.Pager.Resident, 1))
	limit := max(64<<10, int64(spec.ExpertsUsed)*perExpert)
	if rep.Pager.Budget != 64<<10 || rep.Pager.Misses == 0 || rep.Pager.Evictions == 0 || rep.Pager.ResidentBytes > limit {
		t.Errorf("pager stats %+v: want budget 64 KiB honoured", rep.Pager)
	}
}

// -d runs every test after that many tokens, as llama-bench's -d: the tests
// are named after it, and each run evaluates its depth first (the routing
// trace holds one token per layer for every token evaluated).
func TestBenchDepthRunsEachTestAfterThatManyTokens(t *testing.T) {
	path, s := benchTestModel(t)
	trace := filepath.Join(t.TempDir(), "trace.jsonl")
	var rep benchReport
	out := runQ3M(t, "bench", "-m", path, "-p", "4", "-n", "3", "-d", "0,5", "-r", "2", "-t", "1", "-o", "json", "--trace-experts", trace)
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tc := range rep.Tests {
		names = append(names, tc.Name+"/"+strconv.Itoa(tc.NDepth))
		if len(tc.Samples) != 2 || tc.Mean <= 0 {
			t.Errorf("%s: samples %v", tc.Name, tc.Samples)
		}
	}
	if want := "pp4/0 tg3/0 pp4 @ d5/5 tg3 @ d5/5"; strings.Join(names, " ") != want {
		t.Fatalf("tests %q, want %q", strings.Join(names, " "), want)
	}
	data, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	// The warm-up token; per depth d, a prompt test's warm-up and two runs
	// of d+4 tokens and two generation runs of d+3.
	tokens := 1
	for _, d := range []int{0, 5} {
		tokens += 3*(d+4) + 2*(d+3)
	}
	if got, want := strings.Count(string(data), "\n"), tokens*s.Layers; got != want {
		t.Errorf("trace has %d routing lines, want %d (%d tokens of %d layers)", got, want, tokens, s.Layers)
	}
	csvOut := runQ3M(t, "bench", "-m", path, "-p", "0", "-n", "2", "-d", "3", "-r", "1", "-t", "1", "-o", "csv")
	if !strings.Contains(csvOut, ",n_depth,") || !strings.Contains(csvOut, ",tg2 @ d3,0,2,3,1,") {
		t.Errorf("csv without the depth:\n%s", csvOut)
	}
}
