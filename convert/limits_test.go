package convert

import (
	"context"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/q3m/q3m/quant"
)

// TestParseConfigRejectsValuesGGUFCannotHold covers the hyperparameters
// that would be written wrong (as float32 Inf or 0) and the sizes above the
// sane limits, which would drive allocations before the tensors are seen.
func TestParseConfigRejectsValuesGGUFCannotHold(t *testing.T) {
	yarn := func(k string, v any) map[string]any {
		r := map[string]any{"rope_type": "yarn", "factor": 4, "original_max_position_embeddings": 1024}
		r[k] = v
		return map[string]any{"rope_scaling": r}
	}
	tests := []struct {
		name  string
		edits map[string]any
		want  string
	}{
		{"eps Inf in float32", map[string]any{"rms_norm_eps": 1e39}, "rms_norm_eps 1e+39 is not a positive finite float32"},
		{"eps 0 in float32", map[string]any{"rms_norm_eps": 1e-50}, "rms_norm_eps 1e-50 is not a positive finite float32"},
		{"eps negative", map[string]any{"rms_norm_eps": -1e-6}, "rms_norm_eps"},
		{"theta Inf in float32", map[string]any{"rope_theta": 1e39}, "rope_theta 1e+39 is not a positive finite float32"},
		{"theta in rope_parameters Inf", map[string]any{"rope_parameters": map[string]any{"rope_type": "default", "rope_theta": 3.5e38}}, "rope_theta"},
		{"yarn factor Inf in float32", yarn("factor", 1e39), "rope_scaling.factor 1e+39"},
		{"yarn beta_fast Inf in float32", yarn("beta_fast", 1e39), "rope_scaling.beta_fast"},
		{"yarn beta_slow negative", yarn("beta_slow", -1), "rope_scaling.beta_slow"},
		{"yarn attention_factor Inf in float32", yarn("attention_factor", 1e39), "rope_scaling.attention_factor"},
		{"yarn attention_factor 0", yarn("attention_factor", 0), "rope_scaling.attention_factor"},
		{"yarn huge mscale", map[string]any{"rope_scaling": map[string]any{"rope_type": "yarn", "factor": 4,
			"original_max_position_embeddings": 1024, "mscale": 1e308, "mscale_all_dim": 1}}, "rope_scaling.attention_factor"},
		{"vocab 2e9", map[string]any{"vocab_size": 2000000000}, "vocab_size 2000000000 above the limit"},
		{"hidden 2^30", map[string]any{"hidden_size": 1 << 30}, "hidden_size"},
		{"intermediate 2^30", map[string]any{"intermediate_size": 1 << 30}, "intermediate_size"},
		{"moe intermediate 2^30", map[string]any{"moe_intermediate_size": 1 << 30}, "moe_intermediate_size"},
		{"heads 2^20", map[string]any{"num_attention_heads": 1 << 20, "num_key_value_heads": 1 << 20}, "num_attention_heads"},
		{"layers × experts", map[string]any{"num_hidden_layers": 4096, "num_experts": 65536}, "num_hidden_layers × num_experts"},
		{"context 2^30", map[string]any{"max_position_embeddings": 1 << 30}, "max_position_embeddings"},
		{"sliding window 2^30", map[string]any{"sliding_window": 1 << 30}, "sliding_window"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig(cfgJSON(tt.edits))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestConvertChecksConfigSizesBeforeAllocating: a vocab_size within the
// limits but not the embedding's is refused from the tensor shapes, before
// the vocabulary tables are allocated (16M entries would take 320 MB).
func TestConvertChecksConfigSizesBeforeAllocating(t *testing.T) {
	for _, edit := range []map[string]any{
		{"vocab_size": 1 << 24},
		{"vocab_size": 2000000000},
		{"num_experts": 65536, "num_hidden_layers": 15},
		{"hidden_size": 1 << 20, "head_dim": 16},
	} {
		m := buildModel(tinyConfig(), false, "", "BF16", 1)
		for k, v := range edit {
			m.Config[k] = v
		}
		dir := writeModel(t, m, single)
		var before, after goruntime.MemStats
		goruntime.GC()
		goruntime.ReadMemStats(&before)
		start := time.Now()
		err := convertWithin(t, dir, filepath.Join(t.TempDir(), "o.gguf"))
		goruntime.ReadMemStats(&after)
		if err == nil {
			t.Fatalf("%v: Convert succeeded", edit)
		}
		// Observed: under 90 kB and 4 ms for each.
		if n := after.TotalAlloc - before.TotalAlloc; n > 16<<20 {
			t.Errorf("%v: %d bytes allocated before the error %v", edit, n, err)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Errorf("%v: %v before the error", edit, el)
		}
		t.Logf("%v: %d bytes, %v: %v", edit, after.TotalAlloc-before.TotalAlloc, time.Since(start), err)
	}
}

// TestConvertCapsThreads: a million threads asked for cost no more than
// the cap's scratch (old code: a million scratch rows, 24 MB of headers).
func TestConvertCapsThreads(t *testing.T) {
	dir := writeModel(t, buildModel(tinyConfig(), false, "", "BF16", 1), single)
	var before, after goruntime.MemStats
	goruntime.GC()
	goruntime.ReadMemStats(&before)
	err := Convert(context.Background(), dir, filepath.Join(t.TempDir(), "o.gguf"), Options{Type: quant.Q8_0, Threads: 1 << 20})
	goruntime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d bytes", after.TotalAlloc-before.TotalAlloc)
	// Observed: 4.7 MB in all (the 4 MiB write buffer and the chunks).
	if n := after.TotalAlloc - before.TotalAlloc; n > 16<<20 {
		t.Errorf("%d bytes allocated", n)
	}
}
