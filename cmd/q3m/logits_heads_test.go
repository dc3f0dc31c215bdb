package main

import (
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

func readFloats(t *testing.T, path string) []float32 {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, len(raw)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return v
}

func maxDiff(t *testing.T, what string, got, want []float32) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, reference %d", what, len(got), len(want))
	}
	m := 0.0
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		m = math.Max(m, d)
	}
	return m
}

// TestCLILogitsWritesEachClassHead converts each class with the CLI, checks
// that info shows the head, and compares logits --out, --hidden-out and
// --router-out and the printed aux_loss with the float64 reference's
// goldens (runtime/testdata/heads/<case>/padded; F32 bounds as in runtime's
// TestHeadParity, observed ≤ 4.3e-6).
func TestCLILogitsWritesEachClassHead(t *testing.T) {
	for _, tc := range []struct{ golden, variant, info string }{
		{"causal", "base", ""},
		{"backbone", "backbone", "head:          Qwen3MoeModel, no head"},
		{"seqcls", "seqcls", "head:          Qwen3MoeForSequenceClassification, 3 labels: negative, neutral, positive; pools the last token that is not 500"},
		{"tokcls", "tokcls", "head:          Qwen3MoeForTokenClassification, 5 labels"},
		{"qa", "qa", "head:          Qwen3MoeForQuestionAnswering"},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			dir := t.TempDir()
			spec, ok := synth.HeadVariants()[tc.variant]
			if !ok {
				spec = synth.Variants()[tc.variant]
			}
			hf := filepath.Join(dir, "hf")
			if err := synth.Write(hf, spec); err != nil {
				t.Fatal(err)
			}
			model := filepath.Join(dir, "m.gguf")
			if _, stderr, err := q3mRun(t, "convert", "--type", "f32", "-o", model, hf); err != nil {
				t.Fatalf("convert: %v\n%s", err, stderr)
			}
			info, _, err := q3mRun(t, "info", model)
			if err != nil || !strings.Contains(info, tc.info) {
				t.Errorf("info (err %v) lacks %q", err, tc.info)
			}
			gdir := filepath.Join("..", "..", "runtime", "testdata", "heads", tc.golden, "padded")
			var g struct {
				Prompt  []int   `json:"prompt"`
				AuxLoss float64 `json:"aux_loss"`
			}
			raw, err := os.ReadFile(filepath.Join(gdir, "golden.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &g); err != nil {
				t.Fatal(err)
			}
			out, hid, rl := filepath.Join(dir, "out.f32"), filepath.Join(dir, "hidden.f32"), filepath.Join(dir, "router.f32")
			stdout, stderr, err := q3mRun(t, "logits", "-m", model, "--kv-type", "f32", "--ids", joinInts(g.Prompt), "--out", out, "--hidden-out", hid, "--router-out", rl)
			if err != nil {
				t.Fatalf("logits: %v\n%s", err, stderr)
			}
			for _, f := range []struct {
				got, want string
				bound     float64
			}{{out, "head.bin", 1e-5}, {hid, "hidden.bin", 7e-6}, {rl, "router.bin", 1.6e-5}} {
				if d := maxDiff(t, f.want, readFloats(t, f.got), readFloats(t, filepath.Join(gdir, f.want))); !(d <= f.bound) {
					t.Errorf("%s: max |Δ| %.3g > %g", f.want, d, f.bound)
				}
			}
			line := strings.TrimSpace(stdout)
			v, err := strconv.ParseFloat(strings.TrimPrefix(line, "aux_loss "), 64)
			if !strings.HasPrefix(line, "aux_loss ") || err != nil || !(math.Abs(v-g.AuxLoss)/g.AuxLoss <= 1e-7) {
				t.Errorf("stdout %q, want aux_loss %v", stdout, g.AuxLoss)
			}
		})
	}
}

// TestCLIClassifyPrintsLabelsWithProbabilities runs classify on text and on
// ids, and checks that a question-answering model is refused.
func TestCLIClassifyPrintsLabelsWithProbabilities(t *testing.T) {
	dir := t.TempDir()
	models := map[string]string{}
	for _, v := range []string{"seqcls", "qa"} {
		hf := filepath.Join(dir, v)
		if err := synth.Write(hf, synth.HeadVariants()[v]); err != nil {
			t.Fatal(err)
		}
		models[v] = filepath.Join(dir, v+".gguf")
		if _, stderr, err := q3mRun(t, "convert", "--type", "q8_0", "-o", models[v], hf); err != nil {
			t.Fatalf("convert: %v\n%s", err, stderr)
		}
	}
	for _, args := range [][]string{{"hello world"}, {"--ids", "1,302,27,500,500"}} {
		stdout, stderr, err := q3mRun(t, append([]string{"classify", "-m", models["seqcls"]}, args...)...)
		if err != nil {
			t.Fatalf("classify %v: %v\n%s", args, err, stderr)
		}
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		if len(lines) != 4 || !strings.HasPrefix(lines[0], "pooled pos ") {
			t.Fatalf("classify %v printed %q", args, stdout)
		}
		sum, prev := 0.0, 2.0
		for _, l := range lines[1:] {
			f := strings.Split(l, "\t")
			p, err := strconv.ParseFloat(f[1], 64)
			if len(f) != 3 || err != nil || p > prev {
				t.Fatalf("line %q: want label, probability (descending), logit", l)
			}
			sum, prev = sum+p, p
		}
		if math.Abs(sum-1) > 2e-4 {
			t.Errorf("probabilities sum to %v", sum)
		}
		if args[0] == "--ids" && !strings.HasPrefix(lines[0], "pooled pos 2 ") {
			t.Errorf("pooled %q, want position 2 (the last before the pads)", lines[0])
		}
	}
	_, stderr, err := q3mRun(t, "classify", "-m", models["qa"], "some text")
	if err == nil || !strings.Contains(stderr, "Qwen3MoeForQuestionAnswering, not a classifier") {
		t.Errorf("classify of a QA model: err %v, stderr %q", err, stderr)
	}
	// logits without --out prints a QA model's start and end logits per position.
	stdout, stderr, err := q3mRun(t, "logits", "-m", models["qa"], "--ids", "1,302,27")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if err != nil || len(lines) != 3 || !strings.HasPrefix(lines[2], "pos 2 (id 27): start ") || !strings.Contains(lines[2], " end ") {
		t.Errorf("logits of a QA model: err %v, stdout %q, stderr %q", err, stdout, stderr)
	}
	// --router-out cannot share stdout with --out -.
	_, stderr, err = q3mRun(t, "logits", "-m", models["qa"], "--ids", "1", "--out", "-", "--router-out", filepath.Join(dir, "r.f32"))
	if err == nil || !strings.Contains(stderr, "--router-out prints aux_loss on stdout") {
		t.Errorf("--out - with --router-out: err %v, stderr %q", err, stderr)
	}
}
