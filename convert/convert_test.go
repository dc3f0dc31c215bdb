package convert

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/quant"
	"github.com/x448/float16"
)

// wantTensor is what the test expects of one output tensor.
type wantTensor struct {
	Dims   []uint64
	Data   []float32
	Matrix bool // takes the asked type; else stays F32
}

// expected states, independently of plan.go, the GGUF tensors of m.
func expected(m hfModel) map[string]wantTensor {
	src := map[string]hfTensor{}
	for _, t := range m.Tensors {
		src[t.Name] = t
	}
	c := m.Config
	H, L := cfgInt(c, "hidden_size"), cfgInt(c, "num_hidden_layers")
	E, I := uint64(cfgInt(c, "num_experts")), uint64(cfgInt(c, "moe_intermediate_size"))
	out := map[string]wantTensor{}
	put := func(name, hf string, matrix bool) {
		t := src[hf]
		dims := make([]uint64, len(t.Shape))
		for i, d := range t.Shape {
			dims[len(t.Shape)-1-i] = uint64(d)
		}
		out[name] = wantTensor{dims, t.Data, matrix}
	}
	put("token_embd.weight", "model.embed_tokens.weight", true)
	put("output_norm.weight", "model.norm.weight", false)
	if c["tie_word_embeddings"] != true {
		put("output.weight", "lm_head.weight", true)
	}
	for l := range L {
		p, b := fmt.Sprintf("model.layers.%d.", l), fmt.Sprintf("blk.%d.", l)
		put(b+"attn_norm.weight", p+"input_layernorm.weight", false)
		put(b+"ffn_norm.weight", p+"post_attention_layernorm.weight", false)
		for _, x := range []string{"q", "k", "v"} {
			put(b+"attn_"+x+".weight", p+"self_attn."+x+"_proj.weight", true)
			put(b+"attn_"+x+"_norm.weight", p+"self_attn."+x+"_norm.weight", false)
			if c["attention_bias"] == true {
				put(b+"attn_"+x+".bias", p+"self_attn."+x+"_proj.bias", false)
			}
		}
		delete(out, b+"attn_v_norm.weight")
		put(b+"attn_output.weight", p+"self_attn.o_proj.weight", true)
		if c["attention_bias"] == true {
			put(b+"attn_output.bias", p+"self_attn.o_proj.bias", false)
		}
		if !testSparse(c, l) {
			for _, x := range []string{"gate", "up", "down"} {
				put(b+"ffn_"+x+".weight", p+"mlp."+x+"_proj.weight", true)
			}
			continue
		}
		put(b+"ffn_gate_inp.weight", p+"mlp.gate.weight", false)
		var gate, up, down []float32
		if gu, ok := src[p+"mlp.experts.gate_up_proj"]; ok {
			dn := src[p+"mlp.experts.down_proj"]
			n := int(I) * int(H)
			for e := range int(E) {
				gate = append(gate, gu.Data[2*e*n:2*e*n+n]...)
				up = append(up, gu.Data[2*e*n+n:2*e*n+2*n]...)
			}
			down = dn.Data
		} else {
			for e := range E {
				x := fmt.Sprintf("%smlp.experts.%d.", p, e)
				gate = append(gate, src[x+"gate_proj.weight"].Data...)
				up = append(up, src[x+"up_proj.weight"].Data...)
				down = append(down, src[x+"down_proj.weight"].Data...)
			}
		}
		hh := uint64(H)
		out[b+"ffn_gate_exps.weight"] = wantTensor{[]uint64{hh, I, E}, gate, true}
		out[b+"ffn_up_exps.weight"] = wantTensor{[]uint64{hh, I, E}, up, true}
		out[b+"ffn_down_exps.weight"] = wantTensor{[]uint64{I, hh, E}, down, true}
	}
	return out
}

// refQ8_0 is gguf.md's Q8_0 reference quantizer, written out for the test.
func refQ8_0(x []float32) []byte {
	var out []byte
	for b := 0; b < len(x); b += 32 {
		blk := x[b : b+32]
		var amax float32
		for _, v := range blk {
			amax = max(amax, float32(math.Abs(float64(v))))
		}
		d := amax / 127
		id := float32(0)
		if d != 0 {
			id = 1 / d
		}
		out = binary.LittleEndian.AppendUint16(out, float16.Fromfloat32(d).Bits())
		for _, v := range blk {
			out = append(out, byte(int8(math.Round(float64(v*id)))))
		}
	}
	return out
}

// convertModel writes m in the given layout and converts it; it returns
// the output path.
func convertModel(t *testing.T, m hfModel, lay layout, typ quant.Type) string {
	t.Helper()
	dir := writeModel(t, m, lay)
	out := filepath.Join(t.TempDir(), "out.gguf")
	if err := Convert(context.Background(), dir, out, Options{Type: typ, Threads: 3}); err != nil {
		t.Fatalf("Convert: %v", err)
	}
	return out
}

func openOut(t *testing.T, path string) *format.File {
	t.Helper()
	f, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// checkTensors compares every tensor of the file with want: F32 tensors
// exactly, matrices of typ by the reference encoding of the source values.
func checkTensors(t *testing.T, f *format.File, want map[string]wantTensor, typ quant.Type) {
	t.Helper()
	if len(f.Tensors) != len(want) {
		var got []string
		for _, ti := range f.Tensors {
			got = append(got, ti.Name)
		}
		t.Errorf("file has %d tensors, want %d: %v", len(f.Tensors), len(want), got)
	}
	for name, w := range want {
		ti, ok := f.Tensor(name)
		if !ok {
			t.Errorf("tensor %s missing", name)
			continue
		}
		if !slices.Equal(ti.Dims, w.Dims) {
			t.Errorf("%s: dims %v, want %v", name, ti.Dims, w.Dims)
			continue
		}
		wantType := quant.F32
		if w.Matrix {
			wantType = typ
		}
		if ti.Type != wantType {
			t.Errorf("%s: type %s, want %s", name, ti.Type, wantType)
			continue
		}
		data := f.Data(ti)
		switch wantType {
		case quant.Q8_0:
			if !bytes.Equal(data, refQ8_0(w.Data)) {
				t.Errorf("%s: Q8_0 bytes differ from the reference quantizer", name)
			}
		default:
			got := make([]float32, len(w.Data))
			if err := quant.Dequantize(ti.Type, got, data); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !slices.Equal(got, w.Data) {
				t.Errorf("%s: values differ from the source", name)
			}
		}
	}
}

func TestConvertF32KeepsSourceValues(t *testing.T) {
	for _, dt := range []string{"F32", "BF16", "F16"} {
		t.Run(dt, func(t *testing.T) {
			m := buildModel(tinyConfig(), false, "", dt, 1)
			f := openOut(t, convertModel(t, m, single, quant.F32))
			checkTensors(t, f, expected(m), quant.F32)
		})
	}
}

func TestConvertBF16AndF16OutputsAreExact(t *testing.T) {
	// The source values are exact in both types, so the round trip is too.
	for _, typ := range []quant.Type{quant.BF16, quant.F16} {
		t.Run(typ.String(), func(t *testing.T) {
			m := buildModel(tinyConfig(), false, "", "BF16", 2)
			f := openOut(t, convertModel(t, m, single, typ))
			checkTensors(t, f, expected(m), typ)
		})
	}
}

func TestConvertQ8_0MatchesReferenceQuantizer(t *testing.T) {
	m := buildModel(tinyConfig(), false, "", "BF16", 3)
	f := openOut(t, convertModel(t, m, single, quant.Q8_0))
	checkTensors(t, f, expected(m), quant.Q8_0)
	if ft, _, _ := f.Uint("general.file_type"); ft != 7 {
		t.Errorf("general.file_type = %d, want 7", ft)
	}
}

func TestConvertFusedExpertsGiveSameFileAsPerExpert(t *testing.T) {
	per := buildModel(tinyConfig(), false, "", "BF16", 4)
	want := readFile(t, convertModel(t, per, single, quant.Q4_0))
	for _, suffix := range []string{"", ".weight"} {
		fused := buildModel(tinyConfig(), true, suffix, "BF16", 4)
		if got := readFile(t, convertModel(t, fused, single, quant.Q4_0)); !bytes.Equal(got, want) {
			t.Errorf("fused experts (suffix %q) give a different file", suffix)
		}
	}
}

func TestConvertShardedGivesSameFileAsSingle(t *testing.T) {
	m := buildModel(tinyConfig(), false, "", "F16", 5)
	want := readFile(t, convertModel(t, m, single, quant.Q8_0))
	for _, lay := range []layout{indexed, noIndex} {
		if got := readFile(t, convertModel(t, m, lay, quant.Q8_0)); !bytes.Equal(got, want) {
			t.Errorf("layout %d gives a different file", lay)
		}
	}
}

func TestConvertTiedEmbeddingsWriteNoOutput(t *testing.T) {
	cfg := tinyConfig()
	cfg["tie_word_embeddings"] = true
	m := buildModel(cfg, false, "", "F32", 6)
	f := openOut(t, convertModel(t, m, single, quant.F32))
	checkTensors(t, f, expected(m), quant.F32)
	if _, ok := f.Tensor("output.weight"); ok {
		t.Error("tied model has output.weight")
	}
	// A tied checkpoint may still carry lm_head; it is ignored.
	m.Tensors = append(m.Tensors, hfTensor{Name: "lm_head.weight", DType: "F32", Shape: []int64{64, 32}, Data: make([]float32, 64*32)})
	f = openOut(t, convertModel(t, m, single, quant.F32))
	if _, ok := f.Tensor("output.weight"); ok {
		t.Error("tied model with lm_head has output.weight")
	}
}

func TestConvertAttentionBiasTensors(t *testing.T) {
	cfg := tinyConfig()
	cfg["attention_bias"] = true
	m := buildModel(cfg, false, "", "BF16", 7)
	f := openOut(t, convertModel(t, m, single, quant.Q8_0))
	checkTensors(t, f, expected(m), quant.Q8_0)
	if b, ok, _ := f.Bool("q3m.attention_bias"); !ok || !b {
		t.Error("q3m.attention_bias not true")
	}
}

func TestConvertDenseLayers(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(map[string]any)
		dense []int64
	}{
		{"mlp_only_layers", func(c map[string]any) { c["mlp_only_layers"] = []int{1} }, []int64{1}},
		{"decoder_sparse_step", func(c map[string]any) { c["decoder_sparse_step"] = 2 }, []int64{0, 2}},
		{"no experts", func(c map[string]any) { c["num_experts"] = 0 }, []int64{0, 1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tinyConfig()
			tt.edit(cfg)
			m := buildModel(cfg, false, "", "BF16", 8)
			f := openOut(t, convertModel(t, m, single, quant.F16))
			checkTensors(t, f, expected(m), quant.F16)
			got, ok, err := f.Ints("q3m.dense_layers")
			if err != nil || !ok || !slices.Equal(got, tt.dense) {
				t.Errorf("q3m.dense_layers = %v (%v, %v), want %v", got, ok, err, tt.dense)
			}
			if _, ok := f.Tensor(fmt.Sprintf("blk.%d.ffn_gate.weight", tt.dense[0])); !ok {
				t.Error("dense layer lacks ffn_gate")
			}
		})
	}
	m := buildModel(tinyConfig(), false, "", "BF16", 8)
	if _, ok := openOut(t, convertModel(t, m, single, quant.F16)).Lookup("q3m.dense_layers"); ok {
		t.Error("all-MoE model has q3m.dense_layers")
	}
}

func TestConvertFallsBackToF16ForPartialBlocks(t *testing.T) {
	cfg := tinyConfig()
	cfg["moe_intermediate_size"] = 48 // ffn_down_exps rows are 48 values
	m := buildModel(cfg, false, "", "BF16", 9)
	f := openOut(t, convertModel(t, m, single, quant.Q8_0))
	ti, _ := f.Tensor("blk.0.ffn_down_exps.weight")
	if ti.Type != quant.F16 {
		t.Errorf("ffn_down_exps type %s, want F16 fallback", ti.Type)
	}
	if ti, _ := f.Tensor("blk.0.ffn_up_exps.weight"); ti.Type != quant.Q8_0 {
		t.Errorf("ffn_up_exps type %s, want Q8_0", ti.Type)
	}
	q, _, _ := f.String("q3m.quantization")
	if !strings.HasPrefix(q, "q8_0") || !strings.Contains(q, "blk.2.ffn_down_exps.weight") {
		t.Errorf("q3m.quantization = %q, want q8_0 plus the F16 tensors", q)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// BenchmarkConvert measures conversion throughput in source bytes per second.
func BenchmarkConvert(b *testing.B) {
	cfg := tinyConfig()
	for k, v := range map[string]any{"vocab_size": 2048, "hidden_size": 256, "num_attention_heads": 8,
		"head_dim": 32, "moe_intermediate_size": 128, "num_experts": 16, "intermediate_size": 512} {
		cfg[k] = v
	}
	m := buildModel(cfg, false, "", "BF16", 1)
	var size int64
	for _, t := range m.Tensors {
		size += int64(len(t.Data)) * 2
	}
	dir := writeModel(b, m, single)
	for _, typ := range []quant.Type{quant.BF16, quant.Q8_0, quant.Q4_0} {
		b.Run(typ.String(), func(b *testing.B) {
			out := filepath.Join(b.TempDir(), "out.gguf")
			b.SetBytes(size)
			for b.Loop() {
				if err := Convert(context.Background(), dir, out, Options{Type: typ}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
