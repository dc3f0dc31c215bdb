package runtime_test

// Head parity: Run against goldens of the float64 reference
// (scripts/reference/reference.py --task) for every Qwen3-MoE class. Each
// directory of testdata/heads is one case (case.json: synth variant, file
// type, whose weights); each of its subdirectories one prompt (plain, with
// pad tokens, and longer than a prefill batch), holding golden.json,
// head.bin (the class's own output), hidden.bin [L+1, T, H] and router.bin
// [MoE layers, T, E]. Regenerate with go run ./scripts/reference/gen.

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/q3m/q3m/convert"
	"github.com/q3m/q3m/quant"
	"github.com/q3m/q3m/runtime"
	"github.com/q3m/q3m/synth"
)

const headsDir = "testdata/heads"

type headCase struct {
	Variant string `json:"variant"`
	Type    string `json:"type"`
	Weights string `json:"weights"`
	ActQ8   bool   `json:"act_q8,omitempty"`
}

type headGolden struct {
	Class        string  `json:"class"`
	Prompt       []int32 `json:"prompt"`
	Tokens       int     `json:"tokens"`
	Hidden       int     `json:"hidden_size"`
	Pooled       *int    `json:"pooled"`
	HeadShape    []int   `json:"head_shape"`
	HeadStd      float64 `json:"head_std"`
	RouterLayers []int   `json:"router_layers"`
	AuxLoss      float64 `json:"aux_loss"`
	head, hidden []float32
	router       []float32
}

func readF32(t *testing.T, path string) []float32 {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw)%4 != 0 {
		t.Fatalf("%s: %d bytes, not float32s", path, len(raw))
	}
	v := make([]float32, len(raw)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return v
}

func readHeadGolden(t *testing.T, dir string) *headGolden {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g headGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	g.head = readF32(t, filepath.Join(dir, "head.bin"))
	g.hidden = readF32(t, filepath.Join(dir, "hidden.bin"))
	g.router = readF32(t, filepath.Join(dir, "router.bin"))
	return &g
}

// headModels builds and caches the converted files of the cases.
type headModels struct{ dir string }

func (p headModels) file(t *testing.T, c headCase) string {
	t.Helper()
	spec, ok := synth.HeadVariants()[c.Variant]
	if !ok {
		if spec, ok = synth.Variants()[c.Variant]; !ok {
			t.Fatalf("no synth variant %q", c.Variant)
		}
	}
	out := filepath.Join(p.dir, c.Variant+"-"+c.Type+".gguf")
	if _, err := os.Stat(out); err == nil {
		return out
	}
	hf := filepath.Join(p.dir, c.Variant)
	if _, err := os.Stat(filepath.Join(hf, "config.json")); err != nil {
		if err := synth.Write(hf, spec); err != nil {
			t.Fatal(err)
		}
	}
	typ, err := quant.ParseType(c.Type)
	if err != nil {
		t.Fatal(err)
	}
	if err := convert.Convert(context.Background(), hf, out, convert.Options{Type: typ, Threads: 1}); err != nil {
		t.Fatal(err)
	}
	return out
}

// maxAbs returns max |a-b| and fails on a length mismatch.
func maxAbs(t *testing.T, what string, a, b []float32) float64 {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d values, golden %d", what, len(a), len(b))
	}
	m := 0.0
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		m = math.Max(m, d)
	}
	return m
}

// posErrors raises worst[t] to max |a-b| over the values of position t,
// where a and b hold blocks of T positions of width w each.
func posErrors(worst []float64, a, b []float32, w int) {
	T := len(worst)
	for i := range a {
		t := i / w % T
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		worst[t] = math.Max(worst[t], d)
	}
}

// headBounds are the tolerances of a head case.
//
// F32 files (float32 against float64), measured on the committed goldens
// (amd64, AVX2 and purego): head outputs ≤ 2.7e-6, hidden states ≤ 1.7e-6,
// router logits ≤ 4.3e-6, aux loss ≤ 2.3e-8 relative. The bounds are a few
// times those and far inside issue 10's (2e-4 on logits, 1e-4 on other
// values, 1e-5 relative on the aux loss).
//
// Quantized files are compared with a reference that rounds every
// quantized matrix's input to Q8_0 as q3m does (--act-q8): the same
// function, so values agree to float32 rounding (observed ≤ 2.4e-6),
// except where a kernel's summation order moves an activation across a
// rounding boundary, which the random model amplifies (seqcls-q8_0-act/long:
// one such event, 0.015 on the positions after it, aux loss 1.6e-5
// relative; positions 4 on, from layer 1's attention). As in TestParity's
// checkExactRows, one prompt per case may differ by more, within flipBound.
type headBounds struct{ head, hidden, router, aux float64 }

func headBoundsFor(c headCase) headBounds {
	if c.Type == "f32" {
		return headBounds{head: 1e-5, hidden: 7e-6, router: 1.6e-5, aux: 1e-7}
	}
	return headBounds{aux: 1e-4} // values: exactTol and flipBound
}

const (
	exactTol  = 1e-5 // a quantized case's prompt is exact within this (observed 2.4e-6)
	flipBound = 0.1  // and any prompt within this (observed 0.015)
)

// TestHeadParity runs every class on every prompt with hidden states and
// router logits on, and compares the head output, the pooled position, the
// hidden states, the router logits and the aux loss with the reference.
func TestHeadParity(t *testing.T) {
	entries, err := os.ReadDir(headsDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatalf("no cases in %s", headsDir)
	}
	models := headModels{t.TempDir()}
	for _, e := range entries {
		name := e.Name()
		t.Run(name, func(t *testing.T) {
			var c headCase
			raw, err := os.ReadFile(filepath.Join(headsDir, name, "case.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &c); err != nil {
				t.Fatal(err)
			}
			if c.Weights == "gguf" && !c.ActQ8 {
				t.Fatalf("case %s: quantized cases compare with --act-q8 goldens only", name)
			}
			m := openParity(t, models.file(t, c))
			cfg := m.Config()
			b := headBoundsFor(c)
			prompts, err := os.ReadDir(filepath.Join(headsDir, name))
			if err != nil {
				t.Fatal(err)
			}
			n, flips := 0, 0
			for _, p := range prompts {
				if !p.IsDir() {
					continue
				}
				n++
				g := readHeadGolden(t, filepath.Join(headsDir, name, p.Name()))
				if cfg.Head.Class.String() != g.Class {
					t.Fatalf("model class %s, golden %s", cfg.Head.Class, g.Class)
				}
				s := newParitySession(t, m)
				r, err := s.Run(g.Prompt, runtime.RunOptions{HiddenStates: true, RouterLogits: true})
				if err != nil {
					t.Fatal(err)
				}
				if g.Pooled != nil && r.Pooled != *g.Pooled {
					t.Errorf("%s: pooled position %d, reference %d", p.Name(), r.Pooled, *g.Pooled)
				}
				dh := maxAbs(t, "head", r.HeadOutput(), g.head)
				var hid []float32
				for _, h := range r.HiddenStates {
					hid = append(hid, h...)
				}
				dhid := maxAbs(t, "hidden states", hid, g.hidden)
				var rl []float32
				for _, l := range r.RouterLogits {
					rl = append(rl, l...)
				}
				drl := maxAbs(t, "router logits", rl, g.router)
				daux := math.Abs(r.AuxLoss-g.AuxLoss) / g.AuxLoss
				t.Logf("%s/%s: max |Δ| head %.2g (std %.3g), hidden %.2g, router %.2g; aux %.6f rel Δ %.2g",
					name, p.Name(), dh, g.HeadStd, dhid, drl, r.AuxLoss, daux)
				if len(r.HiddenStates) != cfg.Layers+1 || len(r.RouterLayers) != len(g.RouterLayers) {
					t.Errorf("%d hidden states, %d router layers; want %d, %d", len(r.HiddenStates), len(r.RouterLayers), cfg.Layers+1, len(g.RouterLayers))
				}
				if c.Type == "f32" {
					if !(dh <= b.head && dhid <= b.hidden && drl <= b.router && daux <= b.aux) {
						t.Errorf("%s: errors head %.3g, hidden %.3g, router %.3g, aux %.3g rel exceed %+v", p.Name(), dh, dhid, drl, daux, b)
					}
					continue
				}
				worst := math.Max(dh, math.Max(dhid, drl))
				if worst > exactTol {
					flips++
					t.Logf("%s/%s: differs by %.3g: an activation rounded across a Q8_0 boundary", name, p.Name(), worst)
				}
				if !(worst <= flipBound) || !(daux <= b.aux) {
					t.Errorf("%s: max errors head %.3g, hidden %.3g, router %.3g (bound %g), aux %.3g rel (bound %g)",
						p.Name(), dh, dhid, drl, flipBound, daux, b.aux)
				}
			}
			if flips > 1 {
				t.Errorf("%d prompts differ beyond %g from the reference that quantizes activations as q3m does; 1 allowed", flips, exactTol)
			}
			if n == 0 {
				t.Fatal("no prompts")
			}
		})
	}
}
