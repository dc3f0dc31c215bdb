package runtime

import (
	"slices"
	"strings"
	"testing"

	"github.com/q3m/q3m/format"
)

// TestTensorTableIsTheFilesTensors checks the table against the tensors the
// test model writer lists on its own (tiny_test.go): the same names, dims,
// layers and per-expert stacking, for a mixed MoE/dense model with biases
// and for a tied all-MoE one.
func TestTensorTableIsTheFilesTensors(t *testing.T) {
	plain := tinyConfig()
	plain.AttentionBias, plain.DenseLayers, plain.Tied = false, nil, true
	for _, c := range []Config{tinyConfig(), plain} {
		tm := buildTiny(t, c, buildOptions{seed: 5})
		specs := c.Tensors()
		if len(specs) != len(tm.tensors) {
			t.Errorf("table has %d tensors, the file %d", len(specs), len(tm.tensors))
		}
		moe := 0
		for _, s := range specs {
			tn, ok := tm.tensors[s.Name]
			if !ok {
				t.Errorf("table tensor %q not in the file", s.Name)
				continue
			}
			if !slices.Equal(tn.dims, s.Dims) {
				t.Errorf("%s: table dims %v, file %v", s.Name, s.Dims, tn.dims)
			}
			if want := strings.TrimPrefix(s.Name, "blk."); s.Layer >= 0 && !strings.HasSuffix(want, "."+s.Kind) {
				t.Errorf("%s: kind %q, layer %d", s.Name, s.Kind, s.Layer)
			}
			if (s.Experts > 0) != strings.Contains(s.Name, "_exps.") || (s.Experts > 0 && s.Experts != c.Experts) {
				t.Errorf("%s: Experts %d", s.Name, s.Experts)
			}
			if s.Matrix != (len(s.Dims) > 1) {
				t.Errorf("%s: Matrix %v with dims %v", s.Name, s.Matrix, s.Dims)
			}
			if s.Kind == "ffn_gate_exps.weight" {
				moe++
			}
		}
		if want := c.Layers - len(c.DenseLayers); moe != want {
			t.Errorf("%d layers with experts in the table, want %d", moe, want)
		}
		model := openTiny(t, tm)
		if got := model.Tensors(); !slices.EqualFunc(got, specs, func(a, b TensorSpec) bool { return a.Name == b.Name }) {
			t.Errorf("Model.Tensors differs from Config.Tensors")
		}
	}
}

// TestLoadRefusesAFileWithoutATableTensor drops one tensor of each kind in
// turn: the validator names it. (A file without output.weight is a tied
// model, which config_test covers.)
func TestLoadRefusesAFileWithoutATableTensor(t *testing.T) {
	c := tinyConfig()
	kinds := map[string]bool{}
	for _, s := range c.Tensors() {
		if kinds[s.Kind] || s.Kind == "output.weight" {
			continue
		}
		kinds[s.Kind] = true
		tm := buildTiny(t, c, buildOptions{seed: 5, skip: s.Name})
		if _, err := Load(tm.path); err == nil || !strings.Contains(err.Error(), `"`+s.Name+`" missing`) {
			t.Errorf("file without %s: error %v", s.Name, err)
		}
	}
	if len(kinds) < 20 {
		t.Errorf("only %d kinds of tensors", len(kinds))
	}
}

// TestLoaderRefusesAKindItCannotPlace checks that a tensor added to the
// table without a place in the model is an error, not silently unread.
func TestLoaderRefusesAKindItCannotPlace(t *testing.T) {
	c := tinyConfig()
	tm := buildTiny(t, c, buildOptions{seed: 5})
	f, err := format.Open(tm.path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, s := range []TensorSpec{
		{Name: "blk.0.attn_norm.weight", Kind: "attn_sink.weight", Layer: 0, Dims: []int{c.Hidden}},
		{Name: "blk.0.attn_q.weight", Kind: "attn_qkv.weight", Layer: 0, Dims: []int{c.Hidden, c.Heads * c.HeadDim}, Matrix: true},
		{Name: "output_norm.weight", Kind: "rope_freqs.weight", Layer: -1, Dims: []int{c.Hidden}},
		{Name: "blk.9.attn_norm.weight", Kind: "attn_norm.weight", Layer: 9, Dims: []int{c.Hidden}},
	} {
		m := &Model{layers: make([]layer, c.Layers)}
		ld := &loader{f: f}
		ld.load(m, []TensorSpec{s})
		if ld.err == nil {
			t.Errorf("kind %q of layer %d loaded without error", s.Kind, s.Layer)
		}
	}
}
