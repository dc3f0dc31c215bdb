package synth

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/q3m/q3m/convert"
	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/quant"
	"github.com/q3m/q3m/runtime"
)

// kvsExcept returns f's metadata without the keys that name the writer.
func kvsExcept(f *format.File) map[string]any {
	m := map[string]any{}
	for _, kv := range f.KV {
		switch kv.Key {
		case "general.name", "q3m.version":
			continue
		}
		m[kv.Key] = kv.Value
	}
	return m
}

// The streaming writer produces the file `q3m convert` makes from the
// checkpoint Write makes of the same spec: same metadata, same tensor
// names, types, dims and bytes, for every variant convert and WriteGGUF
// share (YaRN excluded) and both quantized types convert writes.
func TestWriteGGUFEqualsConvertOfCheckpoint(t *testing.T) {
	names := []string{"base", "tied", "bias", "dense-mix", "sharded-bf16", "f16", "fused", "no-head-dim", "sliding", "top1-raw", "mha"}
	types := []quant.Type{quant.Q4_0, quant.Q8_0}
	if testing.Short() {
		names = []string{"base", "dense-mix", "sharded-bf16"}
	}
	for _, name := range names {
		for _, typ := range types {
			t.Run(name+"/"+typ.String(), func(t *testing.T) {
				spec := Variants()[name]
				dir := t.TempDir()
				hf := filepath.Join(dir, "hf")
				if err := Write(hf, spec); err != nil {
					t.Fatal(err)
				}
				want := filepath.Join(dir, "convert.gguf")
				if err := convert.Convert(context.Background(), hf, want, convert.Options{Type: typ, Threads: 1}); err != nil {
					t.Fatal(err)
				}
				got := filepath.Join(dir, "synth.gguf")
				if err := WriteGGUF(got, spec, GGUFOptions{Type: typ, Workers: 3}); err != nil {
					t.Fatal(err)
				}
				compareGGUF(t, want, got)
			})
		}
	}
}

func compareGGUF(t *testing.T, wantPath, gotPath string) {
	t.Helper()
	want, err := format.Open(wantPath)
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close()
	got, err := format.Open(gotPath)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if w, g := kvsExcept(want), kvsExcept(got); !reflect.DeepEqual(w, g) {
		for k := range w {
			if !reflect.DeepEqual(w[k], g[k]) {
				t.Errorf("metadata %s: got %.200v, want %.200v", k, g[k], w[k])
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				t.Errorf("metadata %s: unexpected", k)
			}
		}
	}
	if len(got.Tensors) != len(want.Tensors) {
		t.Fatalf("%d tensors, want %d", len(got.Tensors), len(want.Tensors))
	}
	for i, wt := range want.Tensors {
		gt := got.Tensors[i]
		if gt.Name != wt.Name || gt.Type != wt.Type || !slices.Equal(gt.Dims, wt.Dims) {
			t.Fatalf("tensor %d: got %s %s %v, want %s %s %v", i, gt.Name, gt.Type, gt.Dims, wt.Name, wt.Type, wt.Dims)
		}
		if !bytes.Equal(got.Data(gt), want.Data(wt)) {
			t.Errorf("tensor %s: data differs from convert's", wt.Name)
		}
	}
}

// For a type convert cannot write (Q4_K), each tensor streamed in chunks and
// experts equals the whole tensor generated at once and quantized in one
// call; the rows of 128 values (expert down projections) fall back to F16,
// as convert does.
func TestWriteGGUFStreamingEqualsInMemory(t *testing.T) {
	spec, err := Preset("tiny", 2)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tiny-q4_k.gguf")
	if err := WriteGGUF(path, spec, GGUFOptions{Type: quant.Q4_K, Workers: 5}); err != nil {
		t.Fatal(err)
	}
	f, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	q, _, err := f.String("q3m.quantization")
	if err != nil || q != "q4_k pure; f16: blk.0.ffn_down_exps.weight,blk.1.ffn_down_exps.weight" {
		t.Errorf("q3m.quantization %q (%v)", q, err)
	}
	ts, _ := spec.ggufTensors(quant.Q4_K)
	if len(ts) != len(f.Tensors) {
		t.Fatalf("%d tensors, want %d", len(f.Tensors), len(ts))
	}
	var kquant int
	for i, tt := range ts {
		var vals []float32
		for _, seg := range tt.segs {
			v := make([]float32, seg.n)
			newStream(spec.Seed, seg).fill(v)
			vals = append(vals, v...)
		}
		for j, v := range vals {
			vals[j] = quant.FromBF16(quant.ToBF16(v)) // the preset's dtype
		}
		ti := f.Tensors[i]
		want := make([]byte, ti.Bytes())
		if err := quant.Quantize(ti.Type, want, vals); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(f.Data(ti), want) {
			t.Errorf("tensor %s (%s): streamed bytes differ from in-memory quantization", ti.Name, ti.Type)
		}
		if ti.Type == quant.Q4_K {
			kquant++
		}
	}
	if kquant == 0 {
		t.Error("no tensor was written as Q4_K")
	}
}

// A streamed file of each type the runtime has kernels for loads and its
// logits are finite and not all equal. (K-quant files are written for other
// engines; the runtime refuses them until it has their kernels.)
func TestWriteGGUFLoadsAndRuns(t *testing.T) {
	for _, typ := range []quant.Type{quant.Q4_0, quant.Q8_0, quant.BF16} {
		t.Run(typ.String(), func(t *testing.T) {
			spec, err := Preset("tiny", 2)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "m.gguf")
			if err := WriteGGUF(path, spec, GGUFOptions{Type: typ}); err != nil {
				t.Fatal(err)
			}
			m, err := runtime.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			s, err := m.NewSession(runtime.SessionOptions{})
			if err != nil {
				t.Fatal(err)
			}
			logits, err := s.Eval([]int32{1, 2, 3, 4}, true)
			if err != nil {
				t.Fatal(err)
			}
			var spread float64
			for _, v := range logits {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("logit %v", v)
				}
				spread = max(spread, math.Abs(float64(v-logits[0])))
			}
			if spread == 0 {
				t.Error("all logits equal")
			}
		})
	}
}

func TestWriteGGUFRefuses(t *testing.T) {
	yarn := Variants()["yarn"]
	bad := Variants()["base"]
	bad.Hidden = 0
	for _, c := range []struct {
		name string
		spec Spec
		typ  quant.Type
		want string
	}{
		{"activation-only type", Variants()["base"], quant.Q8_K, "cannot be written"},
		{"unknown type", Variants()["base"], quant.Type(99), "cannot be written"},
		{"yarn", yarn, quant.Q8_0, "YaRN"},
		{"invalid spec", bad, quant.Q8_0, "must be positive"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "m.gguf")
			err := WriteGGUF(path, c.spec, GGUFOptions{Type: c.typ})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Errorf("left %d files behind", len(ents))
			}
		})
	}
}
