package convert

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/q3m/q3m/quant"
)

// TestConvertErrorsLeaveNoFile breaks a valid checkpoint in one way each and
// checks that Convert fails naming the file (and tensor) and writes nothing.
func TestConvertErrorsLeaveNoFile(t *testing.T) {
	tests := []struct {
		name  string
		lay   layout
		edit  func(m *hfModel)
		after func(t *testing.T, dir string) // edits the written files
		want  []string                       // substrings of the error
	}{
		{name: "missing tensor", edit: func(m *hfModel) { m.Tensors = deleteTensor(m.Tensors, "model.layers.1.self_attn.k_norm.weight") },
			want: []string{"model.layers.1.self_attn.k_norm.weight", "missing", "model.safetensors"}},
		{name: "missing expert", lay: indexed, edit: func(m *hfModel) { m.Tensors = deleteTensor(m.Tensors, "model.layers.2.mlp.experts.3.up_proj.weight") },
			want: []string{"model.layers.2.mlp.experts.3.up_proj.weight", "missing", "model-00003-of-00003.safetensors"}},
		{name: "fused experts without down_proj", edit: func(m *hfModel) {
			*m = buildModel(tinyConfig(), true, ".weight", "BF16", 1)
			m.Tensors = deleteTensor(m.Tensors, "model.layers.1.mlp.experts.down_proj.weight")
		}, want: []string{"model.layers.1.mlp.experts.down_proj", "missing"}},
		{name: "unexpected tensor", lay: indexed, edit: func(m *hfModel) {
			m.Tensors = append(m.Tensors, hfTensor{Name: "model.layers.0.mlp.shared_expert.weight", DType: "F32", Shape: []int64{2}, Data: []float32{1, 2}})
		}, want: []string{"model.layers.0.mlp.shared_expert.weight", "unexpected", "model-00003-of-00003.safetensors"}},
		{name: "both expert forms", edit: func(m *hfModel) {
			f := buildModel(tinyConfig(), true, "", "BF16", 1)
			for _, t := range f.Tensors {
				if strings.Contains(t.Name, "gate_up_proj") {
					m.Tensors = append(m.Tensors, t)
				}
			}
		}, want: []string{"gate_up_proj", "unexpected"}},
		{name: "shape mismatch", edit: func(m *hfModel) { setShape(m, "model.layers.0.self_attn.q_proj.weight", 32, 64) },
			want: []string{"model.layers.0.self_attn.q_proj.weight", "shape [32 64]", "model.safetensors"}},
		{name: "unsupported dtype", edit: func(m *hfModel) {
			i := slices.IndexFunc(m.Tensors, func(t hfTensor) bool { return t.Name == "model.norm.weight" })
			m.Tensors[i] = hfTensor{Name: "model.norm.weight", DType: "I64", Shape: []int64{32}, Raw: make([]byte, 8*32)}
		}, want: []string{"model.norm.weight", `"I64"`, "model.safetensors"}},
		{name: "truncated shard", lay: indexed, after: func(t *testing.T, dir string) {
			p := filepath.Join(dir, "model-00002-of-00003.safetensors")
			st, _ := os.Stat(p)
			if err := os.Truncate(p, st.Size()-10); err != nil {
				t.Fatal(err)
			}
		}, want: []string{"model-00002-of-00003.safetensors", "truncated"}},
		{name: "bad shard header JSON", after: func(t *testing.T, dir string) {
			p := filepath.Join(dir, "model.safetensors")
			b := readFile(t, p)
			b[8] = '['
			writeFile(t, p, b)
		}, want: []string{"model.safetensors", "JSON"}},
		{name: "bad config JSON", after: func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "config.json"), []byte("{")) },
			want: []string{"config.json"}},
		{name: "wrong model type", edit: func(m *hfModel) { m.Config["model_type"] = "mixtral" }, want: []string{"config.json", "mixtral"}},
		{name: "bad index JSON", lay: indexed, after: func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "model.safetensors.index.json"), []byte(`{"weight_map": 3}`))
		}, want: []string{"model.safetensors.index.json"}},
		{name: "index names a missing shard", lay: indexed, after: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "model-00001-of-00003.safetensors"))
		}, want: []string{"model-00001-of-00003.safetensors"}},
		{name: "index shard outside dir", lay: indexed, after: func(t *testing.T, dir string) {
			writeJSON(t, filepath.Join(dir, "model.safetensors.index.json"), map[string]any{"weight_map": map[string]string{"x": "../x.safetensors"}})
		}, want: []string{"model.safetensors.index.json", "../x.safetensors"}},
		{name: "no shards", after: func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "model.safetensors")) },
			want: []string{"no model.safetensors"}},
		{name: "missing tokenizer", after: func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "tokenizer.json")) },
			want: []string{"tokenizer.json is required"}},
		{name: "bad tokenizer JSON", after: func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "tokenizer.json"), []byte("{]")) },
			want: []string{"tokenizer.json"}},
		{name: "token id beyond vocab_size", edit: func(m *hfModel) {
			c := tinyConfig()
			c["vocab_size"] = 42
			*m = buildModel(c, false, "", "BF16", 1)
		},
			want: []string{"tokenizer.json", "outside the vocabulary"}},
		{name: "unknown eos token", after: func(t *testing.T, dir string) {
			writeJSON(t, filepath.Join(dir, "tokenizer_config.json"), map[string]any{"eos_token": "</s>"})
		}, want: []string{"tokenizer_config.json", "</s>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := buildModel(tinyConfig(), false, "", "BF16", 1)
			if tt.edit != nil {
				tt.edit(&m)
			}
			dir := writeModel(t, m, tt.lay)
			if tt.after != nil {
				tt.after(t, dir)
			}
			outDir := t.TempDir()
			err := Convert(context.Background(), dir, filepath.Join(outDir, "out.gguf"), Options{Type: quant.Q8_0})
			if err == nil {
				t.Fatal("Convert succeeded")
			}
			t.Log(err)
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if left := dirEntries(t, outDir); len(left) > 0 {
				t.Errorf("output dir holds %v after the error", left)
			}
		})
	}
}

func deleteTensor(ts []hfTensor, name string) []hfTensor {
	return slices.DeleteFunc(ts, func(t hfTensor) bool { return t.Name == name })
}

func setShape(m *hfModel, name string, shape ...int64) {
	for i := range m.Tensors {
		if m.Tensors[i].Name == name {
			m.Tensors[i].Shape = shape
		}
	}
}

func TestConvertCancelledLeavesNoFile(t *testing.T) {
	dir := writeModel(t, buildModel(tinyConfig(), false, "", "BF16", 1), single)
	outDir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := Convert(ctx, dir, filepath.Join(outDir, "out.gguf"), Options{Type: quant.Q4_0, Progress: func(p Progress) {
		if calls++; calls == 1 {
			cancel()
		}
	}})
	if err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Errorf("error %v, want cancellation", err)
	}
	if left := dirEntries(t, outDir); len(left) > 0 {
		t.Errorf("output dir holds %v after cancellation", left)
	}
}

func TestConvertRefusesToOverwriteAnInput(t *testing.T) {
	dir := writeModel(t, buildModel(tinyConfig(), false, "", "BF16", 1), single)
	before := dirEntries(t, dir)
	for _, name := range []string{"model.safetensors", "config.json", "tokenizer.json"} {
		err := Convert(context.Background(), dir, filepath.Join(dir, name), Options{Type: quant.F16})
		if err == nil || !strings.Contains(err.Error(), "is the input file") {
			t.Errorf("output over %s: error %v", name, err)
		}
	}
	if after := dirEntries(t, dir); !slices.Equal(before, after) {
		t.Errorf("directory changed: %v → %v", before, after)
	}
}

func TestConvertRejectsUnsupportedTypeNamingChoices(t *testing.T) {
	dir := writeModel(t, buildModel(tinyConfig(), false, "", "BF16", 1), single)
	for _, tt := range []struct {
		opt  Options
		want []string
	}{
		{Options{Type: quant.Q8_K}, []string{"Q8_K", "q4_k", "iq4_xs", "bf16"}},
		{Options{Type: quant.Q8_1}, []string{"Q8_1", "q6_k"}},
		{Options{Preset: "q4_k_l"}, []string{`"q4_k_l"`, "q4_k_m", "q3_k_m", "iq4_nl", "q5_1", "f32"}},
	} {
		out := filepath.Join(t.TempDir(), "o.gguf")
		err := Convert(context.Background(), dir, out, tt.opt)
		if err == nil {
			t.Errorf("%+v: no error", tt.opt)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: error %q does not name %s", tt.opt, err, w)
			}
		}
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%+v: output exists (%v)", tt.opt, err)
		}
	}
}

func TestParseSafetensorsRejects(t *testing.T) {
	good := safetensorsFile([]hfTensor{
		{Name: "a", DType: "F32", Shape: []int64{2, 2}, Data: []float32{1, 2, 3, 4}},
		{Name: "b", DType: "BF16", Shape: []int64{3}, Data: []float32{1, 2, 3}},
	})
	hdr := func(js string) []byte {
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(js)))
		return append(append(b, js...), make([]byte, 16)...)
	}
	tests := []struct {
		name, want string
		file       []byte
	}{
		{"short file", "too short", []byte{1, 2}},
		{"header past end", "out of bounds", append(binary.LittleEndian.AppendUint64(nil, 1<<20), '{', '}')},
		{"header length 0", "out of bounds", binary.LittleEndian.AppendUint64(nil, 0)},
		{"bad JSON", "JSON", hdr(`{"a":`)},
		{"not an object", "JSON", hdr(`[]`)},
		{"unknown dtype", `dtype "I64"`, hdr(`{"a":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}`)},
		{"offsets past data", "outside", hdr(`{"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}`)},
		{"reversed offsets", "outside", hdr(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}}`)},
		{"size mismatch", "does not take", hdr(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}`)},
		{"negative dim", "does not take", hdr(`{"a":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}}`)},
		{"overflowing shape", "does not take", hdr(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}}`)},
		{"one offset", "data_offsets", hdr(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0]}}`)},
		{"overlap", "overlap", hdr(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[4],"data_offsets":[4,12]}}`)},
		{"truncated data", "outside", good[:len(good)-1]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseSafetensors(bytesReader(tt.file), int64(len(tt.file)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
	ts, err := parseSafetensors(bytesReader(good), int64(len(good)))
	if err != nil || len(ts) != 2 || ts["b"].Type != quant.BF16 || ts["b"].Bytes != 6 || ts["a"].Off != ts["b"].Off-16 {
		t.Errorf("good file: %v, %+v", err, ts)
	}
}
