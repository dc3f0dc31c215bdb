package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/quant"
	"github.com/q3m/q3m/runtime"
)

// withExtraTensor copies the GGUF at path with one more F32 tensor, of
// zeros, that no table lists.
func withExtraTensor(t *testing.T, path, name string, dims ...uint64) string {
	t.Helper()
	f, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := filepath.Join(t.TempDir(), "extra.gguf")
	w, err := format.Create(out, uint64(f.Alignment))
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range f.KV {
		if kv.Key == format.KeyAlignment {
			continue
		}
		if err := w.AddKV(kv.Key, kv.Value); err != nil {
			t.Fatal(err)
		}
	}
	for _, ti := range f.Tensors {
		if err := w.AddTensor(ti.Name, ti.Type, ti.Dims...); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.AddTensor(name, quant.F32, dims...); err != nil {
		t.Fatal(err)
	}
	for _, ti := range f.Tensors {
		if _, err := w.Write(f.Data(ti)); err != nil {
			t.Fatal(err)
		}
	}
	n := uint64(4)
	for _, d := range dims {
		n *= d
	}
	if _, err := w.Write(make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestInfoAndBenchReadTheTensorTable: info's expert byte ranges and
// bench's bytes per token come from the runtime's tensor table
// (Config.Tensors), not from names: a tensor the model does not read,
// named like an expert tensor, is neither listed as experts nor counted
// as read per token, while it still counts in the file's size.
func TestInfoAndBenchReadTheTensorTable(t *testing.T) {
	base, spec := benchTestModel(t)
	const extra = "blk.0.ffn_extra_exps.weight"
	E, H := uint64(spec.Experts), uint64(spec.Hidden)
	path := withExtraTensor(t, base, extra, H, 32, E)

	m, err := runtime.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := m.Config()
	m.Close()
	var wantExperts []string
	var wantActive uint64
	for _, s := range cfg.Tensors() {
		if s.Layer == 0 && s.Experts > 0 {
			wantExperts = append(wantExperts, s.Name)
		}
		n := uint64(1)
		for _, d := range s.Dims {
			n *= uint64(d)
		}
		switch {
		case s.Experts > 0:
			wantActive += n / uint64(s.Experts) * uint64(cfg.ExpertsUsed)
		case s.Kind == "token_embd.weight":
			wantActive += uint64(cfg.Hidden)
		default:
			wantActive += n
		}
	}

	stdout, stderr, err := q3mRun(t, "info", "-m", path, "--json", "--layer", "0")
	if err != nil {
		t.Fatalf("info: %v\n%s", err, stderr)
	}
	var info infoJSON
	if err := json.Unmarshal([]byte(stdout), &info); err != nil {
		t.Fatal(err)
	}
	var gotExperts []string
	for _, r := range info.ExpertRanges {
		if !slices.Contains(gotExperts, r.Tensor) {
			gotExperts = append(gotExperts, r.Tensor)
		}
	}
	if !slices.Equal(gotExperts, wantExperts) {
		t.Errorf("info --json lists the experts of %v, the table %v", gotExperts, wantExperts)
	}
	text, stderr, err := q3mRun(t, "info", "-m", path, "--layer", "0")
	_, ranges, _ := strings.Cut(text, "per-expert byte ranges")
	if err != nil || strings.Contains(ranges, extra) || !strings.Contains(ranges, wantExperts[0]) {
		t.Errorf("info: %v %s; the expert ranges:%s", err, stderr, ranges)
	}

	var rep benchReport
	if err := json.Unmarshal([]byte(runQ3M(t, "bench", "-m", path, "-p", "4", "-n", "2", "-r", "1", "-t", "1", "-o", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.ActiveParams != wantActive {
		t.Errorf("bench: %d active params, the table's tensors make %d", rep.ActiveParams, wantActive)
	}
	var baseRep benchReport
	if err := json.Unmarshal([]byte(runQ3M(t, "bench", "-m", base, "-p", "4", "-n", "2", "-r", "1", "-t", "1", "-o", "json")), &baseRep); err != nil {
		t.Fatal(err)
	}
	if rep.TokenBytes != baseRep.TokenBytes || rep.Params != baseRep.Params+H*32*E {
		t.Errorf("bench: %d bytes per token and %d params with the extra tensor, %d and %d without",
			rep.TokenBytes, rep.Params, baseRep.TokenBytes, baseRep.Params)
	}
}
