// Command presets checks that `q3m convert --type PRESET` writes the same
// tensors as llama.cpp's llama-quantize, for every preset, and writes the
// goldens convert's tests check without llama.cpp.
//
// For each case it writes a synth checkpoint (BF16, deterministic from its
// seed), converts it to a q3m BF16 GGUF file, rewrites that file with
// general.alignment 32 (llama-quantize copies the key but lays its output
// out at 32 bytes), runs `llama-quantize IN OUT PRESET` and compares every
// tensor's name, type, dimensions and bytes, plus general.file_type and
// general.quantization_version, with q3m's conversion of the checkpoint.
//
//	go run ./scripts/presets -quantize /path/to/llama-quantize [-write]
//
// It prints a table of identical tensors per preset and exits non-zero on
// any difference. With -write it stores, per case, llama-quantize's tensor
// types and sha256 prefixes in convert/testdata/presets/CASE.txt. It never
// builds llama.cpp.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/q3m/q3m/convert"
	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/synth"
)

// hashHex is how many hex digits of each tensor's sha256 the goldens keep.
const hashHex = 16

// cases are the checkpoints compared, small so that the goldens' test
// stays quick. "gqa4" has Qwen3-30B-A3B's GQA of at least 4, untied
// embeddings and an expert count other than 8, over 16 layers so that
// every use_more_bits and n_layer/16 choice shows; its attn_output rows
// (128 values) and ffn_down rows (64) are not whole 256-value blocks, so
// the fallback table shows too. "experts8" has 8 experts (llama.cpp's
// n_expert == 8 rules), GQA 2, tied embeddings (token_embd then takes
// output.weight's rules) and whole-block rows everywhere.
func cases() map[string]synth.Spec {
	return map[string]synth.Spec{
		// deep48 (no golden: run with -case deep48) has Qwen3-30B-A3B's
		// 48 layers, so blk.10…blk.47 sort after blk.1 by name but not by
		// layer, and 16 experts.
		// real1 (no golden: run with -case real1 -presets q4_k_m) is one
		// layer of Qwen3-30B-A3B's real geometry, about 2.5 GB of BF16.
		"real1": mustPreset("qwen3-30b-a3b", 1),
		"deep48": {
			Vocab: 512, Hidden: 256, Layers: 48, Heads: 8, KVHeads: 1, HeadDim: 32,
			Experts: 16, ExpertsUsed: 4, ExpertFFN: 32, MaxPos: 4096,
			NormTopKProb: true, RopeTheta: 1e6, DType: "bf16", Seed: 63,
		},
		"gqa4": {
			Vocab: 512, Hidden: 256, Layers: 16, Heads: 4, KVHeads: 1, HeadDim: 32,
			Experts: 2, ExpertsUsed: 1, ExpertFFN: 64, MaxPos: 4096,
			NormTopKProb: true, RopeTheta: 1e6, DType: "bf16", Seed: 61,
		},
		"experts8": {
			Vocab: 512, Hidden: 256, Layers: 1, Heads: 4, KVHeads: 2, HeadDim: 64,
			Experts: 8, ExpertsUsed: 2, ExpertFFN: 256, MaxPos: 4096, Tied: true,
			NormTopKProb: true, RopeTheta: 1e6, DType: "bf16", Seed: 62,
		},
	}
}

func main() {
	quantize := flag.String("quantize", "", "path of llama.cpp's llama-quantize (required)")
	write := flag.Bool("write", false, "write the goldens")
	out := flag.String("out", "convert/testdata/presets", "golden directory")
	only := flag.String("case", "", "run only this case (default: the cases with goldens)")
	presetList := flag.String("presets", "", "comma-separated presets to compare (default all; -write needs all)")
	pure := flag.Bool("pure", false, "also compare --pure outputs (not recorded in the goldens)")
	version := flag.String("llama-version", "version unknown", "llama.cpp commit, recorded in the goldens")
	flag.Parse()
	if *quantize == "" {
		log.Fatal("presets: -quantize PATH is required")
	}
	failed := false
	all := cases()
	for _, name := range slices.Sorted(mapKeys(all)) {
		if *only != "" && name != *only || *only == "" && !golden[name] {
			continue
		}
		if *write && *presetList != "" {
			log.Fatal("presets: -write needs every preset")
		}
		ok, err := runCase(*quantize, *version, name, all[name], *write && golden[name], *pure, *out, *presetList)
		if err != nil {
			log.Fatalf("presets: case %s: %v", name, err)
		}
		failed = failed || !ok
	}
	if failed {
		os.Exit(1)
	}
}

func mustPreset(name string, layers int) synth.Spec {
	s, err := synth.Preset(name, layers)
	if err != nil {
		panic(err)
	}
	return s
}

// golden marks the cases whose goldens are committed.
var golden = map[string]bool{"gqa4": true, "experts8": true}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func runCase(quantize, version, name string, spec synth.Spec, write, pure bool, out, only string) (bool, error) {
	work, err := os.MkdirTemp("", "q3m-presets-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(work)
	hf := filepath.Join(work, "hf")
	if err := synth.Write(hf, spec); err != nil {
		return false, err
	}
	bf16 := filepath.Join(work, "bf16.gguf")
	if err := convert.Convert(context.Background(), hf, bf16, convert.Options{Preset: "bf16"}); err != nil {
		return false, err
	}
	in := filepath.Join(work, "bf16-align32.gguf")
	if err := realign(bf16, in, 32); err != nil {
		return false, err
	}
	specJSON, err := json.Marshal(spec)
	if err != nil {
		return false, err
	}
	var golden bytes.Buffer
	fmt.Fprintf(&golden, "# llama-quantize's tensors for a synth checkpoint, per preset: TYPE:sha256 prefix.\n")
	fmt.Fprintf(&golden, "# Made by go run ./scripts/presets -quantize PATH -write (llama.cpp %s).\n", version)
	fmt.Fprintf(&golden, "spec %s\n", specJSON)
	var names []string
	var fileTypes, versions []string
	rows := map[string][]string{}
	var order []string
	ok := true
	fmt.Printf("case %s (%d layers, %d experts)\n%-8s %s\n", name, spec.Layers, spec.Experts, "preset", "identical tensors / total")
	for _, p := range convert.Presets() {
		if only != "" && !slices.Contains(strings.Split(only, ","), p.Name) {
			continue
		}
		lq := filepath.Join(work, "llama-"+p.Name+".gguf")
		cmd := exec.Command(quantize, in, lq, p.Name, "2")
		if b, err := cmd.CombinedOutput(); err != nil {
			return false, fmt.Errorf("llama-quantize %s: %v\n%s", p.Name, err, b)
		}
		qm := filepath.Join(work, "q3m-"+p.Name+".gguf")
		if err := convert.Convert(context.Background(), hf, qm, convert.Options{Preset: p.Name, Threads: 2}); err != nil {
			return false, err
		}
		same, total, diffs, err := compare(lq, qm)
		if err != nil {
			return false, err
		}
		fmt.Printf("%-8s %d/%d\n", p.Name, same, total)
		for _, d := range diffs {
			fmt.Printf("    %s\n", d)
		}
		ok = ok && len(diffs) == 0
		f, err := format.Open(lq)
		if err != nil {
			return false, err
		}
		ft, _, _ := f.Uint("general.file_type")
		qv, _, _ := f.Uint("general.quantization_version")
		fileTypes = append(fileTypes, fmt.Sprint(ft))
		versions = append(versions, fmt.Sprint(qv))
		for _, t := range f.Tensors {
			if _, seen := rows[t.Name]; !seen {
				order = append(order, t.Name)
			}
			sum := sha256.Sum256(f.Data(t))
			rows[t.Name] = append(rows[t.Name], t.Type.String()+":"+hex.EncodeToString(sum[:])[:hashHex])
		}
		f.Close()
		names = append(names, p.Name)
		os.Remove(lq)
		os.Remove(qm)
		if pure && p.Base.BlockSize() > 1 {
			ok2, err := comparePure(quantize, in, hf, work, p.Name)
			if err != nil {
				return false, err
			}
			ok = ok && ok2
		}
	}
	if !write {
		return ok, nil
	}
	fmt.Fprintf(&golden, "presets %s\n", strings.Join(names, " "))
	fmt.Fprintf(&golden, "file_type %s\n", strings.Join(fileTypes, " "))
	fmt.Fprintf(&golden, "quantization_version %s\n", strings.Join(versions, " "))
	for _, n := range order {
		if len(rows[n]) != len(names) {
			return false, fmt.Errorf("tensor %s is in %d of %d outputs", n, len(rows[n]), len(names))
		}
		fmt.Fprintf(&golden, "tensor %s %s\n", n, strings.Join(rows[n], " "))
	}
	return ok, os.WriteFile(filepath.Join(out, name+".txt"), golden.Bytes(), 0o644)
}

// comparePure compares llama-quantize --pure with q3m convert --pure.
func comparePure(quantize, in, hf, work, preset string) (bool, error) {
	lq := filepath.Join(work, "llama-pure.gguf")
	qm := filepath.Join(work, "q3m-pure.gguf")
	defer os.Remove(lq)
	defer os.Remove(qm)
	if b, err := exec.Command(quantize, "--pure", in, lq, preset, "2").CombinedOutput(); err != nil {
		return false, fmt.Errorf("llama-quantize --pure %s: %v\n%s", preset, err, b)
	}
	if err := convert.Convert(context.Background(), hf, qm, convert.Options{Preset: preset, Pure: true, Threads: 2}); err != nil {
		return false, err
	}
	same, total, diffs, err := compare(lq, qm)
	if err != nil {
		return false, err
	}
	fmt.Printf("%-8s %d/%d (--pure)\n", preset, same, total)
	for _, d := range diffs {
		fmt.Printf("    %s\n", d)
	}
	return len(diffs) == 0, nil
}

// compare returns how many of llama-quantize's tensors q3m's file has with
// the same type, dimensions and bytes, and a line per difference,
// metadata included.
func compare(llamaPath, q3mPath string) (same, total int, diffs []string, err error) {
	lf, err := format.Open(llamaPath)
	if err != nil {
		return 0, 0, nil, err
	}
	defer lf.Close()
	qf, err := format.Open(q3mPath)
	if err != nil {
		return 0, 0, nil, err
	}
	defer qf.Close()
	for _, key := range []string{"general.file_type", "general.quantization_version"} {
		a, aok, _ := lf.Uint(key)
		b, bok, _ := qf.Uint(key)
		if a != b || aok != bok {
			diffs = append(diffs, fmt.Sprintf("%s: llama-quantize %d (%v), q3m %d (%v)", key, a, aok, b, bok))
		}
	}
	for _, lt := range lf.Tensors {
		total++
		qt, ok := qf.Tensor(lt.Name)
		switch {
		case !ok:
			diffs = append(diffs, lt.Name+": missing from q3m's file")
		case qt.Type != lt.Type || !slices.Equal(qt.Dims, lt.Dims):
			diffs = append(diffs, fmt.Sprintf("%s: llama-quantize %s %v, q3m %s %v", lt.Name, lt.Type, lt.Dims, qt.Type, qt.Dims))
		case !bytes.Equal(qf.Data(qt), lf.Data(lt)):
			diffs = append(diffs, fmt.Sprintf("%s (%s): bytes differ from %s", lt.Name, lt.Type, firstDiff(qf.Data(qt), lf.Data(lt), lt)))
		default:
			same++
		}
	}
	if len(qf.Tensors) != len(lf.Tensors) {
		diffs = append(diffs, fmt.Sprintf("q3m has %d tensors, llama-quantize %d", len(qf.Tensors), len(lf.Tensors)))
	}
	return same, total, diffs, nil
}

// firstDiff says where two tensors first differ: row and block.
func firstDiff(a, b []byte, t format.TensorInfo) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	row := t.RowBytes()
	bb := uint64(t.Type.BlockBytes())
	return fmt.Sprintf("byte %d (row %d, block %d)", i, uint64(i)/row, uint64(i)%row/bb)
}

// realign rewrites a GGUF file with another alignment, same pairs and
// tensors.
func realign(src, dst string, alignment uint64) (err error) {
	f, err := format.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := format.Create(dst, alignment)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			w.Abort()
		}
	}()
	for _, kv := range f.KV {
		if kv.Key == format.KeyAlignment {
			continue
		}
		if err := w.AddKV(kv.Key, kv.Value); err != nil {
			return err
		}
	}
	for _, t := range f.Tensors {
		if err := w.AddTensor(t.Name, t.Type, t.Dims...); err != nil {
			return err
		}
	}
	for _, t := range f.Tensors {
		if _, err := w.Write(f.Data(t)); err != nil {
			return err
		}
	}
	return w.Close()
}
