package main

import (
	"context"
	"encoding/json"
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

// HeadCase is one directory of the head goldens: a class's checkpoint, the
// type of the file the runtime loads, and whose weights the reference used.
// Each prompt of HeadPrompts has its own subdirectory.
type HeadCase struct {
	Variant string `json:"variant"` // synth.HeadVariants or synth.Variants key
	Type    string `json:"type"`
	Weights string `json:"weights"` // "hf" or "gguf"
	ActQ8   bool   `json:"act_q8,omitempty"`
}

// HeadPad is the pad_token_id of the synthetic classifiers.
const HeadPad = 500

// HeadPrompts are the prompts of every head case: the parity prompt; one
// with pad tokens leading, inside and trailing; and one of 40 tokens (over
// a prefill batch of 32) ending in two pads.
func HeadPrompts() map[string][]int {
	long := make([]int, 0, 40)
	for i := range 38 {
		long = append(long, (i*37+11)%HeadPad)
	}
	return map[string][]int{
		"plain":  Prompt,
		"padded": {HeadPad, 1, 302, 27, HeadPad, 511, 42, 333, 128, 7, HeadPad, HeadPad},
		"long":   append(long, HeadPad, HeadPad),
	}
}

func headCases() map[string]HeadCase {
	c := map[string]HeadCase{"causal": {Variant: "base", Type: "f32", Weights: "hf"}}
	for name := range synth.HeadVariants() {
		c[name] = HeadCase{Variant: name, Type: "f32", Weights: "hf"}
	}
	for name, t := range map[string]string{"backbone": "q8_0", "seqcls": "q8_0", "tokcls": "q4_0", "qa": "q8_0"} {
		c[name+"-"+t+"-act"] = HeadCase{Variant: name, Type: t, Weights: "gguf", ActQ8: true}
	}
	return c
}

func variant(name string) synth.Spec {
	if s, ok := synth.Variants()[name]; ok {
		return s
	}
	return synth.HeadVariants()[name]
}

func generateHeads(only, work, out, python, script string) error {
	all := headCases()
	names := make([]string, 0, len(all))
	for k := range all {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, name := range names {
		if only != "" && !slices.Contains(strings.Split(only, ","), name) {
			continue
		}
		if err := generateHead(name, all[name], work, out, python, script); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		log.Printf("%s: done", name)
	}
	return nil
}

func generateHead(name string, c HeadCase, work, out, python, script string) error {
	hf := filepath.Join(work, c.Variant)
	if _, err := os.Stat(filepath.Join(hf, "config.json")); err != nil {
		if err := synth.Write(hf, variant(c.Variant)); err != nil {
			return err
		}
	}
	var extra []string
	if c.Weights == "gguf" {
		t, err := quant.ParseType(c.Type)
		if err != nil {
			return err
		}
		gguf := filepath.Join(work, name+".gguf")
		if err := convert.Convert(context.Background(), hf, gguf, convert.Options{Type: t}); err != nil {
			return err
		}
		extra = append(extra, "--gguf", gguf)
		if c.ActQ8 {
			extra = append(extra, "--act-q8")
		}
	}
	for pname, prompt := range HeadPrompts() {
		ids := make([]string, len(prompt))
		for i, id := range prompt {
			ids[i] = strconv.Itoa(id)
		}
		args := append([]string{script, "--task", "--hf", hf, "--prompt", strings.Join(ids, ","),
			"--out", filepath.Join(out, name, pname)}, extra...)
		cmd := exec.Command(python, args...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("reference: %w", err)
		}
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, name, "case.json"), append(b, '\n'), 0o644)
}
