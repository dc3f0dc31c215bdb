package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/quant"
	"github.com/q3m/q3m/routing"
	"github.com/q3m/q3m/runtime"
)

// benchJSON runs bench -o json with args after the model and reads its report.
func benchJSON(t *testing.T, path string, args ...string) (benchReport, string) {
	t.Helper()
	stdout, stderr, err := q3mWith(t, nil, "", append([]string{"bench", "-m", path, "-p", "4", "-n", "3", "-r", "1", "-t", "1", "-o", "json"}, args...)...)
	if err != nil {
		t.Fatalf("bench %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	var rep benchReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	return rep, stderr
}

// TestCLIGenerateRefusesLogitsThatAreNotNumbers: a NaN planted in the
// output matrix makes generate (and run) fail with a clear error, and the
// routing trace being written is removed.
func TestCLIGenerateRefusesLogitsThatAreNotNumbers(t *testing.T) {
	path, _ := chatTestModel(t, 256)
	f, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	out, ok := f.Tensor("output.weight")
	if !ok {
		out, _ = f.Tensor("token_embd.weight")
	}
	off := int64(f.DataOffset + out.Offset)
	f.Close()
	if out.Type != quant.Q8_0 {
		t.Fatalf("output matrix is %s, want Q8_0", out.Type)
	}
	w, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.WriteAt([]byte{0x00, 0x7e}, off) // the first block's float16 scale: NaN
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	trace := filepath.Join(t.TempDir(), "routes.jsonl")
	for _, args := range [][]string{
		{"generate", "-m", path, "--ids", "1,2,3", "-n", "4", "--trace-experts", trace},
		{"generate", "-m", path, "-p", "hello", "-n", "4", "--temp", "0"},
		{"run", "-m", path, "-p", "hello", "-n", "4", "--trace-experts", trace},
	} {
		stdout, stderr, err := q3mWith(t, nil, "", args...)
		if err == nil || !strings.Contains(stderr, "logits are not finite numbers") || !strings.Contains(stderr, "NaN") ||
			strings.Contains(stderr, "panic") || strings.TrimSpace(stdout) != "" {
			t.Errorf("q3m %s: err %v, stdout %q, stderr %q; want the NaN logits refused", strings.Join(args, " "), err, stdout, stderr)
		}
		if ents, _ := os.ReadDir(filepath.Dir(trace)); len(ents) != 0 {
			t.Errorf("q3m %s left %v behind", strings.Join(args, " "), ents)
		}
	}
}

// TestCLIGenerateRecordsTheRouting: generate --trace-experts writes
// exactly what the library's Session.RecordRouting writes for the prompt
// and the tokens fed back, and routing.ReadFile reads it.
func TestCLIGenerateRecordsTheRouting(t *testing.T) {
	path, _ := benchTestModel(t)
	trace := filepath.Join(t.TempDir(), "routes.jsonl")
	prompt := []int32{5, 9, 2, 7}
	stdout, stderr, err := q3mWith(t, nil, "", "generate", "-m", path, "--ids", joinIDs(prompt), "-n", "5", "--temp", "0", "-t", "1", "--trace-experts", trace)
	if err != nil {
		t.Fatalf("generate: %v\n%s", err, stderr)
	}
	gen, err := parseIDs(strings.TrimSpace(stdout))
	if err != nil || len(gen) != 5 {
		t.Fatalf("generate printed %q: %v", stdout, err)
	}
	got, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}

	m, err := runtime.LoadWith(path, runtime.LoadOptions{NoPager: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, err := m.NewSession(runtime.SessionOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	s.RecordRouting(&want)
	if _, err := s.Eval(prompt, false); err != nil {
		t.Fatal(err)
	}
	for _, id := range gen[:len(gen)-1] { // the last token is printed, not evaluated
		if _, err := s.Eval([]int32{id}, false); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("--trace-experts wrote %d bytes, the library records %d:\n%.300s\nwant\n%.300s", len(got), want.Len(), got, want.Bytes())
	}
	tr, err := routing.ReadFile(trace, m.RouteGeometry())
	if err != nil {
		t.Fatal(err)
	}
	if tr.Tokens() != len(prompt)+len(gen)-1 {
		t.Errorf("trace of %d tokens, want %d", tr.Tokens(), len(prompt)+len(gen)-1)
	}

	// run records the chat's routing: the prompt's tokens at least.
	runTrace := filepath.Join(t.TempDir(), "run.jsonl")
	stdout, stderr, err = q3mWith(t, nil, "", "run", "-m", path, "-p", "hello", "--json", "-n", "3", "-t", "1", "--trace-experts", runTrace)
	if err != nil {
		t.Fatalf("run --trace-experts: %v\n%s", err, stderr)
	}
	a := parseAnswers(t, stdout)
	if tr, err := routing.ReadFile(runTrace, m.RouteGeometry()); err != nil || len(a) != 1 ||
		tr.Tokens() < a[0].Usage.PromptTokens || tr.Tokens() > a[0].Usage.PromptTokens+a[0].Usage.CompletionTokens {
		t.Errorf("run --trace-experts: trace %v, answers %+v; want the prompt's and the answer's tokens", err, a)
	}

	// A trace path that cannot be written is refused before any work.
	dir := t.TempDir()
	for _, bad := range []string{dir, path} {
		_, stderr, err = q3mWith(t, nil, "", "generate", "-m", path, "--ids", "1", "-n", "1", "--trace-experts", bad)
		if err == nil || !strings.Contains(stderr, "--trace-experts") {
			t.Errorf("--trace-experts %s: err %v, stderr %q; want it refused", bad, err, stderr)
		}
	}
}

// TestCLIBenchReplaysARoutingTrace: replaying the routing bench recorded
// gives the pager the same hits, misses and evictions; a trace that routes
// every token to experts 0 to k-1 makes exactly those resident.
func TestCLIBenchReplaysARoutingTrace(t *testing.T) {
	path, spec := benchTestModel(t)
	dir := t.TempDir()
	trace := filepath.Join(dir, "own.jsonl")
	rec, _ := benchJSON(t, path, "--mem-budget", "64KiB", "--no-prefetch", "--trace-experts", trace)
	rep, stderr := benchJSON(t, path, "--mem-budget", "64KiB", "--no-prefetch", "--route-trace", trace)
	if !strings.Contains(stderr, "not the model's") || rep.RouteTrace != trace || rec.RouteTrace != "" {
		t.Errorf("replay: stderr %q, route_trace %q; want the note that the outputs are not the model's", stderr, rep.RouteTrace)
	}
	a, b := rec.Pager, rep.Pager
	if a.Hits != b.Hits || a.Misses != b.Misses || a.Evictions != b.Evictions || a.Evictions == 0 {
		t.Errorf("pager recording %+v\nreplaying %+v\nwant the same hits, misses and evictions (and some evictions)", a, b)
	}

	m, err := runtime.LoadWith(path, runtime.LoadOptions{NoPager: true})
	if err != nil {
		t.Fatal(err)
	}
	cfg := m.Config()
	m.Close()
	var lines strings.Builder
	moe := 0
	for l := range cfg.Layers {
		if cfg.MoE(l) {
			moe++
			experts := make([]int, spec.ExpertsUsed) // 0…k-1, in reverse
			for i := range experts {
				experts[i] = spec.ExpertsUsed - 1 - i
			}
			js, _ := json.Marshal(experts)
			fmt.Fprintf(&lines, `{"token":0,"layer":%d,"experts":%s}`+"\n", l, js)
		}
	}
	if moe == 0 || spec.ExpertsUsed >= cfg.Experts {
		t.Fatalf("test model routes %d of %d experts a token over %d MoE layers", spec.ExpertsUsed, cfg.Experts, moe)
	}
	k := spec.ExpertsUsed
	forced := filepath.Join(dir, "forced.jsonl")
	if err := os.WriteFile(forced, []byte(lines.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, _ = benchJSON(t, path, "--mem-budget", "none", "--no-prefetch", "--route-trace", forced)
	if p := rep.Pager; p.Misses != uint64(k*moe) || p.Resident != k*moe || p.Hits == 0 || p.Budget != 0 {
		t.Errorf("pager %+v; want exactly experts 0 to %d of each of %d MoE layers touched, no budget", p, k-1, moe)
	}

	// The table names the trace and the experts really in memory.
	md := runQ3M(t, "bench", "-m", path, "-p", "4", "-n", "3", "-r", "1", "-t", "1", "--mem-budget", "none", "--route-trace", forced)
	inMemory := regexp.MustCompile(fmt.Sprintf(`expert pager: mmap; budget none; %d experts resident \([^)]+\), in memory (\d+ \([^)]+\)|unknown here);`, k*moe))
	if !inMemory.MatchString(md) || !strings.Contains(md, "routing forced from "+forced+": the outputs are not the model's") {
		t.Errorf("bench table output lacks the pager's experts in memory or the forced routing:\n%s", md)
	}

	// A trace of another geometry is refused by name.
	wrong := filepath.Join(dir, "wrong.jsonl")
	os.WriteFile(wrong, []byte(`{"token":0,"layer":0,"experts":[1,0,2]}`+"\n"), 0o644)
	_, stderr, err = q3mWith(t, nil, "", "bench", "-m", path, "-p", "4", "-n", "0", "-r", "1", "--route-trace", wrong)
	if err == nil || !strings.Contains(stderr, "--route-trace") || !strings.Contains(stderr, "wrong.jsonl") {
		t.Errorf("bench --route-trace of 3 experts a token: err %v, stderr %q", err, stderr)
	}
}

// TestCLIMemoryFlagsSetThePager: an unset --mem-budget takes the plan's
// budget for --mem-limit; 0 and none mean no cap; run prints the plan and
// its warning; --expert-policy is checked.
func TestCLIMemoryFlagsSetThePager(t *testing.T) {
	path, _ := benchTestModel(t)
	f, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := runtime.PlanMemory(f, 4, 1<<20) // bench -p 4 -n 3 plans 4 positions
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if plan.Budget() <= 0 || plan.Warning() == "" {
		t.Fatalf("1 MiB plan %+v: want a budget and a warning", plan)
	}
	for _, tc := range []struct {
		args   []string
		budget int64
	}{
		{[]string{"--mem-limit", "1MiB"}, plan.Budget()},
		{[]string{"--mem-limit", "1MiB", "--mem-budget", "none"}, 0},
		{[]string{"--mem-limit", "1MiB", "--mem-budget", "0"}, 0},
		{[]string{"--mem-budget", "96KiB", "--expert-policy", "lfu"}, 96 << 10},
	} {
		if rep, _ := benchJSON(t, path, tc.args...); rep.Pager.Budget != tc.budget {
			t.Errorf("bench %s: pager budget %d, want %d", strings.Join(tc.args, " "), rep.Pager.Budget, tc.budget)
		}
	}

	stdout, stderr, err := q3mWith(t, nil, "", "run", "-m", path, "-p", "hi", "-n", "2", "-t", "1", "--ctx", "64", "--mem-limit", "1MiB")
	if err != nil || stdout == "" || !strings.Contains(stderr, "memory plan") || !strings.Contains(stderr, "warning:") ||
		!strings.Contains(stderr, "below one token's expert working set") {
		t.Errorf("run --mem-limit 1MiB: err %v, stdout %q, stderr %q; want the plan and its warning on stderr", err, stdout, stderr)
	}
	if strings.Count(stderr, "memory plan") != 1 {
		t.Errorf("the plan printed more than once:\n%s", stderr)
	}
	_, stderr, err = q3mWith(t, nil, "", "run", "-m", path, "-p", "hi", "-n", "2", "-t", "1", "--mem-budget", "1KiB")
	if err != nil || !strings.Contains(stderr, "expert budget 1.0 KiB") || !strings.Contains(stderr, "below one token's expert working set") {
		t.Errorf("run --mem-budget 1KiB: err %v, stderr %q; want the budget and a warning", err, stderr)
	}
	_, stderr, err = q3mWith(t, nil, "", "run", "-m", path, "-p", "hi", "-n", "2", "-t", "1")
	if err != nil || strings.Contains(stderr, "memory plan") || strings.Contains(stderr, "warning") {
		t.Errorf("run with the memory detected: err %v, stderr %q; want no plan printed when all experts fit", err, stderr)
	}

	for _, args := range [][]string{
		{"generate", "-m", path, "--ids", "1", "--expert-policy", "lruu"},
		{"bench", "-m", path, "--expert-policy", "lruu"},
		{"run", "-m", filepath.Join(t.TempDir(), "missing.gguf"), "-p", "hi", "--expert-policy", "lruu"},
	} {
		_, stderr, err := q3mWith(t, nil, "", args...)
		var ee interface{ ExitCode() int }
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(stderr, `--expert-policy "lruu"`) || !strings.Contains(stderr, `did you mean "lru"?`) {
			t.Errorf("q3m %s: err %v, stderr %q; want the policy refused with a suggestion", strings.Join(args, " "), err, stderr)
		}
	}
}

// TestCLIInfoPrintsTheMemoryPlan: info and info --json carry
// runtime.PlanMemory's plan for --ctx and --mem-limit.
func TestCLIInfoPrintsTheMemoryPlan(t *testing.T) {
	path, _ := chatTestModel(t, 256)
	f, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := runtime.PlanMemory(f, 64, 1<<20)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	out := runQ3M(t, "info", "--ctx", "64", "--mem-limit", "1MiB", path)
	if want := indent("memory plan:\n", plan.String()); !strings.Contains(out, want) {
		t.Errorf("info lacks\n%s", want)
	}
	var js infoJSON
	if err := json.Unmarshal([]byte(runQ3M(t, "info", "--json", "--ctx", "64", "--mem-limit", "1MiB", path)), &js); err != nil {
		t.Fatal(err)
	}
	if p := js.MemoryPlan; p == nil || p.Available != 1<<20 || p.Source != "given" || p.ContextLen != 64 || p.Budget != plan.Budget() ||
		p.ExpertBytes != plan.ExpertBytes || p.WorkingSet != plan.WorkingSet || p.Warning != plan.Warning() || p.Warning == "" {
		t.Errorf("info --json memory_plan %+v, want %+v", p, plan)
	}
	if _, stderr, err := q3mRun(t, "info", "--ctx", "300", path); err == nil || !strings.Contains(stderr, "--ctx 300") {
		t.Errorf("info --ctx 300 of a 256-token model: err %v, stderr %q", err, stderr)
	}
}

// TestCLITraceGenStatsSim: trace gen writes what routing.Generate makes
// (to a file or stdout); stats and sim print routing's measures and table.
func TestCLITraceGenStatsSim(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "u.jsonl")
	gen := []string{"trace", "gen", "--layers", "3", "--experts", "16", "-k", "2", "--tokens", "300", "--pattern", "uniform", "--seed", "7"}
	runQ3M(t, append(gen, "-o", file)...)
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := routing.Generate(routing.GenSpec{Layers: 3, Experts: 16, K: 2, Tokens: 300, Pattern: routing.Uniform, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	tr.WriteTo(&want)
	if !bytes.Equal(got, want.Bytes()) || runQ3M(t, gen...) != want.String() {
		t.Errorf("trace gen wrote %d bytes, routing.Generate makes %d", len(got), want.Len())
	}

	read, err := routing.ReadFile(file, routing.Geometry{})
	if err != nil {
		t.Fatal(err)
	}
	st := routing.Measure(read)
	statsLine := fmt.Sprintf("%s: 300 tokens × 3 layers × k 2; previous token %.1f%%, last 8 tokens %.1f%%", file, 100*st.PrevShare, 100*st.WindowShare)
	if out := runQ3M(t, "trace", "stats", file); !strings.HasPrefix(out, statsLine) {
		t.Errorf("trace stats printed %q, want it to start %q", out, statsLine)
	}
	shares := []float64{0.25, 0.5}
	table, err := routing.Table(read, 16, shares)
	if err != nil {
		t.Fatal(err)
	}
	var tab bytes.Buffer
	routing.WriteTable(&tab, table, shares)
	out := runQ3M(t, "trace", "sim", "--shares", "0.25,0.5", file)
	if !strings.Contains(out, tab.String()) || !strings.Contains(out, "best online: "+routing.Best(table)) || !strings.HasPrefix(out, statsLine) {
		t.Errorf("trace sim printed\n%s\nwant the table\n%s", out, tab.String())
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"trace", "gen", "--pattern", "unifrom"}, `did you mean "uniform"?`},
		{[]string{"trace", "gen", "-k", "20", "--experts", "16"}, "-k 20"},
		{[]string{"trace", "gen", "--tokens", "0"}, "--tokens 0: out of range"},
		{[]string{"trace", "sim", "--shares", "0,1", file}, "--shares"},
		{[]string{"trace", "sim", filepath.Join(dir, "missing.jsonl")}, "missing.jsonl"},
		{[]string{"trace", "stats"}, "give one or more trace files"},
		{[]string{"trace", "simm"}, `did you mean "sim"?`},
	} {
		stdout, stderr, err := q3mRun(t, tc.args...)
		if err == nil || !strings.Contains(stderr, tc.want) || stdout != "" {
			t.Errorf("q3m %s: err %v, stdout %q, stderr %q; want %q", strings.Join(tc.args, " "), err, stdout, stderr, tc.want)
		}
	}
}

// TestCLIBenchReadsExpertsAsExpertIOSays: bench --expert-io pread and
// direct report the mechanism and its slots, a time to first token and
// major faults per token; an unknown mechanism is refused.
func TestCLIBenchReadsExpertsAsExpertIOSays(t *testing.T) {
	path, _ := chatTestModel(t, 256)
	var hits []uint64
	for _, mech := range []string{"mmap", "pread", "direct"} {
		rep, _ := benchJSON(t, path, "--mem-budget", "64KiB", "--no-prefetch", "--expert-io", mech)
		p := rep.Pager
		if p.ExpertIO != mech || (p.Slots > 0) != (mech != "mmap") || p.Hits+p.Misses == 0 || p.Errors != 0 {
			t.Errorf("--expert-io %s: pager %+v", mech, p)
		}
		hits = append(hits, p.Hits)
		for _, tt := range rep.Tests {
			if (tt.NPrompt > 0) != (tt.TTFTSeconds > 0) || tt.MajorFaults < 0 {
				t.Errorf("--expert-io %s: test %s: TTFT %v s, %v major faults per token", mech, tt.Name, tt.TTFTSeconds, tt.MajorFaults)
			}
		}
	}
	t.Logf("hits per mechanism (mmap, pread, direct): %v", hits)
	// By default (auto): direct under a budget (pread where O_DIRECT is
	// refused), the mapping without one.
	for _, c := range []struct {
		budget string
		want   []string
	}{{"64KiB", []string{"direct", "pread"}}, {"none", []string{"mmap"}}} {
		rep, _ := benchJSON(t, path, "--mem-budget", c.budget)
		if got := rep.Pager.ExpertIO; !slices.Contains(c.want, got) {
			t.Errorf("--mem-budget %s, default --expert-io: read with %q, want one of %v", c.budget, got, c.want)
		}
	}
	_, stderr, err := q3mWith(t, nil, "", "bench", "-m", path, "-n", "2", "--expert-io", "aio")
	if err == nil || !strings.Contains(stderr, `--expert-io "aio": want one of auto, mmap, pread, direct`) {
		t.Errorf("--expert-io aio: err %v, stderr %q", err, stderr)
	}
}
