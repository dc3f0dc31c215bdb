// Command gen writes the model-parity goldens in runtime/testdata/parity.
//
// For every case it writes a synthetic checkpoint with package synth,
// converts it with package convert when the case checks a converted file's
// own weights, and runs the independent PyTorch reference (reference.py)
// on it. runtime's parity tests rebuild the same checkpoints (synth output
// is deterministic) and compare the runtime against these goldens.
//
//	go run ./scripts/reference/gen [-out runtime/testdata/parity] [-python /usr/bin/python3]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/q3m/q3m/convert"
	"github.com/q3m/q3m/quant"
	"github.com/q3m/q3m/synth"
)

// Case is one golden directory's case.json: which checkpoint, which file
// type the runtime loads, and whose weights the reference used.
type Case struct {
	Variant string `json:"variant"`          // synth.Variants key
	Type    string `json:"type"`             // convert type of the file the runtime loads
	Weights string `json:"weights"`          // "hf": the checkpoint's own weights; "gguf": the converted file's
	Source  string `json:"source,omitempty"` // golden of the unconverted weights, for KL and top-1 agreement
	ActQ8   bool   `json:"act_q8,omitempty"` // the reference rounds quantized matrices' inputs to Q8_0 as q3m does
}

// Prompt is the prompt of every case: ordinary ids, <|im_start|>, and
// padding ids past the tokenizer's tokens.
var Prompt = []int{1, 302, 27, 511, 42, 333, 128, 7}

// Steps is the number of greedy steps.
const Steps = 16

func cases() map[string]Case {
	c := map[string]Case{}
	for name := range synth.Variants() {
		c[name] = Case{Variant: name, Type: "f32", Weights: "hf"}
	}
	for _, t := range []string{"bf16", "f16", "q8_0", "q4_0"} {
		c["base-"+t] = Case{Variant: "base", Type: t, Weights: "gguf", Source: "base"}
	}
	for _, t := range []string{"q8_0", "q4_0"} {
		c["base-"+t+"-act"] = Case{Variant: "base", Type: t, Weights: "gguf", ActQ8: true}
	}
	return c
}

func main() {
	out := flag.String("out", "runtime/testdata/parity", "golden directory")
	python := flag.String("python", "/usr/bin/python3", "python with torch and numpy")
	script := flag.String("script", "scripts/reference/reference.py", "reference script")
	only := flag.String("only", "", "comma-separated case names (default all)")
	headsOut := flag.String("heads-out", "runtime/testdata/heads", "golden directory of the head cases (heads.go)")
	flag.Parse()
	work, err := os.MkdirTemp("", "q3m-parity-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(work)
	all := cases()
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range all {
			if !yield(k) {
				return
			}
		}
	})
	for _, name := range names {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), name) {
			continue
		}
		if err := generate(name, all[name], work, *out, *python, *script); err != nil {
			log.Fatalf("%s: %v", name, err)
		}
		log.Printf("%s: done", name)
	}
	if err := generateHeads(*only, work, *headsOut, *python, *script); err != nil {
		log.Fatal(err)
	}
}

func generate(name string, c Case, work, out, python, script string) error {
	hf := filepath.Join(work, c.Variant)
	if _, err := os.Stat(filepath.Join(hf, "config.json")); err != nil {
		if err := synth.Write(hf, variant(c.Variant)); err != nil {
			return err
		}
	}
	dir := filepath.Join(out, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ids := make([]string, len(Prompt))
	for i, id := range Prompt {
		ids[i] = strconv.Itoa(id)
	}
	args := []string{script, "--hf", hf, "--prompt", strings.Join(ids, ","), "--steps", strconv.Itoa(Steps), "--out", dir}
	if c.Weights == "gguf" {
		t, err := quant.ParseType(c.Type)
		if err != nil {
			return err
		}
		gguf := filepath.Join(work, name+".gguf")
		if err := convert.Convert(context.Background(), hf, gguf, convert.Options{Type: t}); err != nil {
			return err
		}
		args = append(args, "--gguf", gguf)
		if c.ActQ8 {
			args = append(args, "--act-q8")
		}
	}
	cmd := exec.Command(python, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("reference: %w", err)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "case.json"), append(b, '\n'), 0o644)
}
