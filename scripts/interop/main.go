// Command interop writes the goldens of runtime's interop tests: what
// llama.cpp and a float64 reference compute on the files `q3m convert
// --type PRESET` writes, for every preset.
//
// It builds one small random Qwen3-MoE checkpoint with package synth
// (deterministic from its seed; rows of 256 values so that every K-quant
// applies), converts it to each preset with package convert and records per
// preset:
//
//   - the file's sha256 (the test rebuilds the file and checks it is the
//     one llama.cpp read);
//   - llama.cpp's 16 greedy ids after the prompt, once with weight
//     repacking (llama.cpp's default) and once without (the plain per-type
//     vec_dot kernels), from -greedy TOOL;
//   - the logits of every prompt position computed in float64 on the
//     file's dequantized weights by scripts/reference/reference.py, which
//     reads the GGUF through llama.cpp's gguf-py (-gguf-py DIR), in
//     PRESET.ref.f32 (float32, [prompt × vocab]).
//
// It then prints, per preset, max |Δlogit|, mean KL(reference ‖ x) and top-1
// agreement of q3m (this tree's runtime) and, with -logits TOOL, of llama.cpp.
//
// The two tools are small C programs against a llama.cpp build's libllama
// (none is in this repository; llama-server cannot serve here: it parses the
// random model's text as a chat reply and fails mid-stream):
//
//	greedy MODEL N ID,ID,...       prints N greedy ids (argmax, ties to the
//	                               lowest id), the prompt in one batch then
//	                               one decode per token; 2 threads, n_ctx 512
//	logits MODEL OUT.f32 ID,ID,... writes the logits of every position
//
// both honouring PEERS_NOREPACK=1 (model parameter use_extra_bufts false).
//
//	go run ./scripts/interop -greedy TOOL -gguf-py /path/to/llama.cpp/gguf-py \
//	    [-logits TOOL] [-write]
//
// It never builds llama.cpp. Without -write it only prints.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/q3m/q3m/convert"
	"github.com/q3m/q3m/runtime"
	"github.com/q3m/q3m/synth"
)

// Golden is golden.json; runtime's interop test reads the same shape.
type Golden struct {
	LlamaVersion string     `json:"llama_version"`
	Spec         synth.Spec `json:"spec"`
	Prompt       []int32    `json:"prompt"`
	Steps        int        `json:"steps"`
	Presets      []Preset   `json:"presets"`
}

// Preset is one converted file's record.
type Preset struct {
	Name           string  `json:"name"`
	SHA256         string  `json:"sha256"`
	Greedy         []int32 `json:"greedy"`          // llama.cpp, default (repacked weights)
	GreedyNoRepack []int32 `json:"greedy_norepack"` // llama.cpp --no-repack
}

// spec is the checkpoint: 4 layers, every matrix row 256 values (whole
// K-quant super-blocks), 8 experts of which 2 are used, GQA 2, untied.
func spec() synth.Spec {
	return synth.Spec{
		Vocab: 512, Hidden: 256, Layers: 4, Heads: 4, KVHeads: 2, HeadDim: 64,
		Experts: 8, ExpertsUsed: 2, ExpertFFN: 256, MaxPos: 4096,
		NormTopKProb: true, RopeTheta: 1e6, DType: "bf16", Seed: 66,
	}
}

var prompt = []int32{1, 17, 250, 3, 99, 400, 7, 64, 300, 5}

// presets are convert's presets with llama.cpp's names, in BENCHMARKS order.
var presets = []string{
	"q2_k", "q3_k_m", "q4_k_s", "q4_k_m", "q5_k_s", "q5_k_m", "q6_k",
	"q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "iq4_xs", "iq4_nl",
}

func main() {
	greedy := flag.String("greedy", "", "program `TOOL MODEL N IDS` printing llama.cpp's greedy ids (required)")
	ggufPy := flag.String("gguf-py", "", "llama.cpp's gguf-py directory (required)")
	python := flag.String("python", "/usr/bin/python3", "python with torch and numpy")
	logitsTool := flag.String("logits", "", "optional: program `TOOL MODEL OUT.f32 IDS` printing llama.cpp's logits")
	version := flag.String("llama-version", "version unknown", "llama.cpp commit, recorded in the golden")
	out := flag.String("out", "runtime/testdata/interop", "golden directory")
	write := flag.Bool("write", false, "write the goldens")
	only := flag.String("presets", "", "comma-separated presets (default all; -write needs all)")
	keep := flag.String("work", "", "keep the checkpoint and files in this directory (default: a temporary one, removed)")
	flag.Parse()
	if *greedy == "" || *ggufPy == "" {
		log.Fatal("interop: -greedy TOOL and -gguf-py DIR are required")
	}
	list := presets
	if *only != "" {
		if *write {
			log.Fatal("interop: -write needs every preset")
		}
		list = strings.Split(*only, ",")
	}
	work := *keep
	if work == "" {
		tmp, err := os.MkdirTemp("", "q3m-interop-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(tmp)
		work = tmp
	}
	g := Golden{LlamaVersion: *version, Spec: spec(), Prompt: prompt, Steps: 16}
	hf := filepath.Join(work, "hf")
	if err := synth.Write(hf, g.Spec); err != nil {
		log.Fatal(err)
	}
	var table []string
	for _, name := range list {
		file := filepath.Join(work, name+".gguf")
		if err := convert.Convert(context.Background(), hf, file, convert.Options{Preset: name, Threads: 2}); err != nil {
			log.Fatalf("interop: %s: %v", name, err)
		}
		sum, err := fileSHA256(file)
		if err != nil {
			log.Fatal(err)
		}
		p := Preset{Name: name, SHA256: sum}
		if p.Greedy, err = toolGreedy(*greedy, file, g.Steps, false); err != nil {
			log.Fatalf("interop: %s: %v", name, err)
		}
		if p.GreedyNoRepack, err = toolGreedy(*greedy, file, g.Steps, true); err != nil {
			log.Fatalf("interop: %s: %v", name, err)
		}
		ref, err := reference(*python, *ggufPy, hf, file, filepath.Join(work, name+"-ref"))
		if err != nil {
			log.Fatalf("interop: %s: %v", name, err)
		}
		q3m, q3mGreedy, err := runQ3M(file, g.Steps)
		if err != nil {
			log.Fatalf("interop: %s: %v", name, err)
		}
		V := g.Spec.Vocab
		row := fmt.Sprintf("| %s | %s | ", name, compare(ref, q3m, V))
		if *logitsTool != "" {
			ll, err := toolLogits(*logitsTool, file, filepath.Join(work, name+"-llama.f32"))
			if err != nil {
				log.Fatalf("interop: %s: %v", name, err)
			}
			row += compare(ref, ll, V) + " | "
		}
		row += fmt.Sprintf("%v |", equalIDs(q3mGreedy, p.Greedy) && equalIDs(q3mGreedy, p.GreedyNoRepack))
		table = append(table, row)
		log.Printf("%s: llama.cpp %v, --no-repack %v, q3m %v", name, p.Greedy, p.GreedyNoRepack, q3mGreedy)
		g.Presets = append(g.Presets, p)
		if *write {
			if err := os.MkdirAll(*out, 0o755); err != nil {
				log.Fatal(err)
			}
			if err := writeF32(filepath.Join(*out, name+".ref.f32"), ref); err != nil {
				log.Fatal(err)
			}
		}
	}
	fmt.Println("| preset | q3m max abs Δ, KL, top-1 | llama.cpp max abs Δ, KL, top-1 | greedy ids equal |")
	fmt.Println("|---|---|---|---|")
	for _, r := range table {
		fmt.Println(r)
	}
	if *write {
		raw, err := json.MarshalIndent(g, "", "\t")
		if err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(*out, "golden.json"), append(raw, '\n'), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// reference runs reference.py on the file's dequantized weights and returns
// the logits of the prompt's positions.
func reference(python, ggufPy, hf, file, dir string) ([]float32, error) {
	cmd := exec.Command(python, "scripts/reference/reference.py", "--hf", hf, "--gguf", file,
		"--gguf-py", ggufPy, "--prompt", joinIDs(prompt), "--steps", "1", "--out", dir)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("reference.py: %w", err)
	}
	return readF32(filepath.Join(dir, "logits.bin"))
}

// runQ3M returns q3m's logits of the prompt's positions and its greedy ids,
// with the KV cache in f16 as llama.cpp's.
func runQ3M(file string, steps int) ([]float32, []int32, error) {
	m, err := runtime.Load(file)
	if err != nil {
		return nil, nil, err
	}
	defer m.Close()
	s, err := m.NewSession(runtime.SessionOptions{ContextLen: 64, Threads: 2})
	if err != nil {
		return nil, nil, err
	}
	out, err := s.Eval(prompt, true)
	if err != nil {
		return nil, nil, err
	}
	logits := append([]float32(nil), out...)
	V := len(out) / len(prompt)
	last := out[len(out)-V:]
	var ids []int32
	for range steps {
		id := int32(argmax(last))
		ids = append(ids, id)
		if last, err = s.Eval([]int32{id}, false); err != nil {
			return nil, nil, err
		}
	}
	return logits, ids, nil
}

func toolGreedy(tool, file string, steps int, noRepack bool) ([]int32, error) {
	cmd := exec.Command(tool, file, strconv.Itoa(steps), joinIDs(prompt))
	if noRepack {
		cmd.Env = append(os.Environ(), "PEERS_NOREPACK=1")
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tool, err)
	}
	var ids []int32
	for _, f := range strings.Split(strings.TrimSpace(string(out)), ",") {
		id, err := strconv.ParseInt(f, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%s: output %q: %w", tool, out, err)
		}
		ids = append(ids, int32(id))
	}
	if len(ids) != steps {
		return nil, fmt.Errorf("%s: %d ids, want %d", tool, len(ids), steps)
	}
	return ids, nil
}

func toolLogits(tool, file, out string) ([]float32, error) {
	cmd := exec.Command(tool, file, out, joinIDs(prompt))
	cmd.Env = append(os.Environ(), "PEERS_NOREPACK=1")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %w", tool, err)
	}
	return readF32(out)
}

// compare formats max |Δ|, mean KL(ref ‖ got) and top-1 agreement.
func compare(ref, got []float32, V int) string {
	if len(ref) != len(got) {
		return fmt.Sprintf("length %d vs %d", len(got), len(ref))
	}
	var maxAbs, kl float64
	agree, rows := 0, len(ref)/V
	for r := range rows {
		a, b := ref[r*V:(r+1)*V], got[r*V:(r+1)*V]
		for i := range a {
			maxAbs = math.Max(maxAbs, math.Abs(float64(a[i])-float64(b[i])))
		}
		kl += klDiv(a, b)
		if argmax(a) == argmax(b) {
			agree++
		}
	}
	return fmt.Sprintf("%.2g, %.2g, %d/%d", maxAbs, kl/float64(rows), agree, rows)
}

func klDiv(p, q []float32) float64 {
	lp, lq := logSoftmax(p), logSoftmax(q)
	var kl float64
	for i := range lp {
		kl += math.Exp(lp[i]) * (lp[i] - lq[i])
	}
	return kl
}

func logSoftmax(v []float32) []float64 {
	mx := math.Inf(-1)
	for _, x := range v {
		mx = math.Max(mx, float64(x))
	}
	var sum float64
	for _, x := range v {
		sum += math.Exp(float64(x) - mx)
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x) - mx - math.Log(sum)
	}
	return out
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

func equalIDs(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func joinIDs(ids []int32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(int(id))
	}
	return strings.Join(s, ",")
}

func readF32(path string) ([]float32, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(raw)%4 != 0 {
		return nil, fmt.Errorf("%s: %d bytes, not float32s", path, len(raw))
	}
	v := make([]float32, len(raw)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return v, nil
}

func writeF32(path string, v []float32) error {
	var b bytes.Buffer
	for _, x := range v {
		binary.Write(&b, binary.LittleEndian, x)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
