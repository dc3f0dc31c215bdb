package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/q3m/q3m/convert"
	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/quant"
	"github.com/q3m/q3m/synth"
)

func TestConvertHelpListsEveryPreset(t *testing.T) {
	out, stderr, err := q3mRun(t, "convert", "--help")
	if err != nil {
		t.Fatalf("convert --help: %v\n%s", err, stderr)
	}
	for _, p := range convert.Presets() {
		if !strings.Contains(out, p.Name) {
			t.Errorf("convert --help does not list %s:\n%s", p.Name, out)
		}
	}
	if !strings.Contains(out, "--pure") {
		t.Errorf("convert --help does not list --pure:\n%s", out)
	}
}

func TestConvertUnknownTypeNamesTheChoices(t *testing.T) {
	dir := t.TempDir()
	hf := filepath.Join(dir, "hf")
	if err := synth.Write(hf, synth.Variants()["base"]); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "o.gguf")
	_, stderr, err := q3mRun(t, "convert", "--type", "q4_k", "-o", out, hf)
	if err == nil {
		t.Fatal("convert --type q4_k succeeded")
	}
	for _, want := range []string{`"q4_k"`, "q4_k_m", "q4_k_s", "iq4_xs", "q5_1", "bf16"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("error %q does not name %s", stderr, want)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output exists after a refused type (%v)", err)
	}
}

// TestConvertPresetWritesLlamaFileType converts to a K-quant preset with
// and without --pure: the file type is llama.cpp's, the default name
// carries the preset, and only the pure file has every matrix in Q4_K.
func TestConvertPresetWritesLlamaFileType(t *testing.T) {
	dir := t.TempDir()
	hf := filepath.Join(dir, "Tiny")
	spec := synth.Variants()["base"]
	spec.Hidden, spec.ExpertFFN, spec.HeadDim, spec.FFN = 256, 256, 64, 256
	if err := synth.Write(hf, spec); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := q3mRun(t, "convert", "--type", "Q4_K_M", hf); err != nil {
		t.Fatalf("convert: %v\n%s", err, stderr)
	}
	pure := filepath.Join(dir, "pure.gguf")
	if _, stderr, err := q3mRun(t, "convert", "--type", "q4_k_m", "--pure", "-o", pure, hf); err != nil {
		t.Fatalf("convert --pure: %v\n%s", err, stderr)
	}
	for path, wantMixed := range map[string]bool{filepath.Join(hf, "Tiny-Q4_K_M.gguf"): true, pure: false} {
		f, err := format.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if ft, _, _ := f.Uint("general.file_type"); ft != 15 {
			t.Errorf("%s: general.file_type %d, want 15 (LLAMA_FTYPE_MOSTLY_Q4_K_M)", path, ft)
		}
		out, _ := f.Tensor("output.weight")
		if mixed := out.Type == quant.Q6_K; mixed != wantMixed {
			t.Errorf("%s: output.weight is %s", path, out.Type)
		}
		if !wantMixed {
			for _, ti := range f.Tensors {
				if len(ti.Dims) > 1 && !strings.Contains(ti.Name, "ffn_gate_inp") && ti.Type != quant.Q4_K {
					t.Errorf("%s: pure file has %s in %s", path, ti.Name, ti.Type)
				}
			}
		}
		f.Close()
	}
}
