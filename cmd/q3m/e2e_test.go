package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/q3m/q3m/synth"
)

// The end-to-end tests drive the q3m binary (a child process) from a
// Hugging Face checkpoint to generated ids, and check what it prints
// against the float64 PyTorch golden of the parity suite
// (runtime/testdata/parity/base), an independent reference.

// q3mRun runs q3m with args and returns stdout, stderr and the error.
func q3mRun(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := q3mCommand(args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	skipIfNotExecutable(t, err)
	return stdout.String(), stderr.String(), err
}

type baseGolden struct {
	Prompt []int `json:"prompt"`
	Greedy []int `json:"greedy"`
	Vocab  int   `json:"vocab"`
}

func readBaseGolden(t *testing.T) (baseGolden, []float32) {
	t.Helper()
	dir := filepath.Join("..", "..", "runtime", "testdata", "parity", "base")
	var g baseGolden
	b, err := os.ReadFile(filepath.Join(dir, "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "logits.bin"))
	if err != nil {
		t.Fatal(err)
	}
	logits := make([]float32, len(raw)/4)
	for i := range logits {
		logits[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return g, logits
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

func TestCLIConvertsAndRunsTheReferenceModel(t *testing.T) {
	g, want := readBaseGolden(t)
	dir := t.TempDir()
	hf := filepath.Join(dir, "hf")
	if err := synth.Write(hf, synth.Variants()["base"]); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "base-f32.gguf")
	if _, stderr, err := q3mRun(t, "convert", "--type", "f32", "-o", model, hf); err != nil {
		t.Fatalf("convert: %v\n%s", err, stderr)
	}

	out, _, err := q3mRun(t, "info", model)
	if err != nil {
		t.Fatalf("info: %v", err)
	}
	for _, s := range []string{"architecture:  qwen3moe", "experts:       8 routed, 2 per token", "blk.0.ffn_gate_exps.weight", "per-expert byte ranges of layer 0", "totals:"} {
		if !strings.Contains(out, s) {
			t.Errorf("info output lacks %q", s)
		}
	}

	// logits --out over the prompt and the golden's greedy ids: every row
	// within 1e-3 of the float64 reference.
	ids := append(append([]int(nil), g.Prompt...), g.Greedy[:len(g.Greedy)-1]...)
	lpath := filepath.Join(dir, "logits.f32")
	if _, stderr, err := q3mRun(t, "logits", "-m", model, "--kv-type", "f32", "--ids", joinInts(ids), "--out", lpath); err != nil {
		t.Fatalf("logits: %v\n%s", err, stderr)
	}
	raw, err := os.ReadFile(lpath)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != 4*len(ids)*g.Vocab || len(want) != len(ids)*g.Vocab {
		t.Fatalf("logits file has %d bytes, want %d (golden %d values)", len(raw), 4*len(ids)*g.Vocab, len(want))
	}
	var worst float64
	for i := range want {
		got := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		worst = math.Max(worst, math.Abs(float64(got-want[i])))
	}
	if worst > 1e-3 {
		t.Errorf("q3m logits: max |Δ| = %g against the float64 reference, want ≤ 1e-3", worst)
	}

	// generate --temp 0 decodes through the KV cache: the golden's greedy ids.
	out, stderr, err := q3mRun(t, "generate", "-m", model, "--ids", joinInts(g.Prompt), "-n", strconv.Itoa(len(g.Greedy)), "--temp", "0")
	if err != nil {
		t.Fatalf("generate: %v\n%s", err, stderr)
	}
	if got := strings.TrimSpace(out); got != joinInts(g.Greedy) {
		t.Errorf("generate printed %s, want the reference's greedy ids %s", got, joinInts(g.Greedy))
	}
}

func TestCLIReportsBadInputWithoutOutput(t *testing.T) {
	dir := t.TempDir()
	hf := filepath.Join(dir, "hf")
	if err := synth.Write(hf, synth.Variants()["base"]); err != nil {
		t.Fatal(err)
	}
	shard := filepath.Join(hf, "model.safetensors")
	st, err := os.Stat(shard)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(shard, st.Size()-100); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "out.gguf")
	_, stderr, err := q3mRun(t, "convert", "-o", model, hf)
	if err == nil || !strings.Contains(stderr, "model.safetensors") {
		t.Errorf("convert of a truncated shard: err %v, stderr %q; want an error naming the shard", err, stderr)
	}
	if _, err := os.Stat(model); !os.IsNotExist(err) {
		t.Errorf("a failed convert left %s behind", model)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("a failed convert left files in %s: %v", dir, ents)
	}

	for _, args := range [][]string{
		{"info", shard},                              // not GGUF
		{"generate", "-m", shard, "--ids", "1"},      // not GGUF
		{"convert", "--type", "q9_9", dir},           // unknown type
		{"generate", "-m", model, "--ids", "1,x"},    // bad ids
		{"logits", "-m", filepath.Join(dir, "nope")}, // missing flag and file
	} {
		_, stderr, err := q3mRun(t, args...)
		if err == nil || stderr == "" || strings.Contains(stderr, "panic") {
			t.Errorf("q3m %s: err %v, stderr %q; want a clear error", strings.Join(args, " "), err, stderr)
		}
	}
}

func TestCLIDemoSaysTheWeightsAreRandom(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo converts a 152k-vocabulary model")
	}
	dir := t.TempDir()
	out, stderr, err := q3mRun(t, "demo", "-n", "4", "--dir", dir)
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, stderr)
	}
	for _, s := range []string{"RANDOM", "1. synthesized", "2. converted", "3. loaded", "4. generated 4 tokens", "5. chat"} {
		if !strings.Contains(out, s) {
			t.Errorf("demo output lacks %q:\n%s", s, out)
		}
	}
	// With --dir the model stays, and the demo says how to run it.
	model := filepath.Join(dir, "qwen3-moe-demo-random-Q8_0.gguf")
	if !strings.Contains(out, "The model stays in "+dir+": `q3m run "+model+"`") {
		t.Errorf("demo --dir does not say how to run the model it keeps:\n%s", out)
	}
	if answer, stderr, err := q3mRun(t, "run", model, "-p", "hi", "-n", "2", "--json"); err != nil || !strings.Contains(answer, `"stop":"length"`) {
		t.Errorf("q3m run on the demo's model: %v, %q\n%s", err, answer, stderr)
	}
}
