package convert

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"syscall"
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

// convertWithin runs Convert and fails the test if it does not return
// within a few seconds (a blocking open of a FIFO never would).
func convertWithin(t *testing.T, dir, out string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- Convert(context.Background(), dir, out, Options{Type: quant.F16}) }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Convert blocked")
		return nil
	}
}

// TestConvertRefusesNonRegularInputs replaces each file convert reads by
// a FIFO or a directory: the error names the file and what it is, at once.
func TestConvertRefusesNonRegularInputs(t *testing.T) {
	for _, name := range []string{"config.json", "tokenizer.json", "tokenizer_config.json", "chat_template.jinja",
		"model.safetensors.index.json", "model-00002-of-00003.safetensors"} {
		for _, kind := range []string{"FIFO", "directory"} {
			t.Run(name+" "+kind, func(t *testing.T) {
				dir := writeModel(t, buildModel(tinyConfig(), false, "", "BF16", 1), indexed)
				if name == "chat_template.jinja" { // read only when tokenizer_config.json has no template
					writeJSON(t, filepath.Join(dir, "tokenizer_config.json"), map[string]any{"eos_token": "<|im_end|>"})
				}
				p := filepath.Join(dir, name)
				os.Remove(p)
				var err error
				if kind == "FIFO" {
					err = syscall.Mkfifo(p, 0o644)
				} else {
					err = os.Mkdir(p, 0o755)
				}
				if err != nil {
					t.Skip(err)
				}
				out := t.TempDir()
				err = convertWithin(t, dir, filepath.Join(out, "o.gguf"))
				want := map[string]string{"FIFO": "is a named pipe (FIFO), not a regular file", "directory": "is a directory, not a regular file"}[kind]
				if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), want) {
					t.Errorf("error %v, want one naming %s and saying %q", err, p, want)
				}
				if left := dirEntries(t, out); len(left) > 0 {
					t.Errorf("output dir holds %v", left)
				}
			})
		}
	}
}

// TestConvertRefusesInputFilesAboveTheirLimit: a config.json of 17 MiB is
// refused from its size, not read.
func TestConvertRefusesInputFilesAboveTheirLimit(t *testing.T) {
	dir := writeModel(t, buildModel(tinyConfig(), false, "", "BF16", 1), single)
	if err := os.Truncate(filepath.Join(dir, "config.json"), maxConfigBytes+1); err != nil {
		t.Fatal(err)
	}
	err := convertWithin(t, dir, filepath.Join(t.TempDir(), "o.gguf"))
	if err == nil || !strings.Contains(err.Error(), "config.json: 16777217 bytes, above the limit of 16777216") {
		t.Errorf("error %v", err)
	}
}

// TestCheckOutputRefusesWhatWouldBeDestroyed lists every kind of path an
// output must not replace, and the ones it may.
func TestCheckOutputRefusesWhatWouldBeDestroyed(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "model.gguf")
	writeFile(t, input, []byte("weights"))
	other := filepath.Join(dir, "other.bin")
	writeFile(t, other, []byte("other"))
	mk := func(name string, f func(p string) error) string {
		p := filepath.Join(dir, name)
		if err := f(p); err != nil {
			t.Skipf("%s: %v", name, err)
		}
		return p
	}
	hard := mk("hardlink.gguf", func(p string) error { return os.Link(input, p) })
	sym := mk("symlink.gguf", func(p string) error { return os.Symlink(input, p) })
	symOther := mk("symlink-other", func(p string) error { return os.Symlink(other, p) })
	symDangling := mk("dangling", func(p string) error { return os.Symlink(filepath.Join(dir, "nowhere"), p) })
	fifo := mk("fifo", func(p string) error { return syscall.Mkfifo(p, 0o644) })
	sub := mk("sub", func(p string) error { return os.Mkdir(p, 0o755) })
	ro := mk("readonly.bin", func(p string) error { return os.WriteFile(p, []byte("keep"), 0o444) })
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Skip(err)
	}
	defer l.Close()
	inputViaSymlink := mk("input-link", func(p string) error { return os.Symlink(other, p) })

	tests := []struct {
		name, out string
		inputs    []string
		want      string // "" for accepted
	}{
		{"the input", input, []string{input}, "is the input file"},
		{"the input by another path", filepath.Join(dir, ".", "model.gguf"), []string{input}, "is the input file"},
		{"a hard link to the input", hard, []string{input}, "is the input file " + input},
		{"an input given through a symlink", other, []string{inputViaSymlink}, "is the input file " + inputViaSymlink},
		{"a symlink to the input", sym, []string{input}, "is a symbolic link to " + input},
		{"a symlink to another file", symOther, nil, "is a symbolic link"},
		{"a dangling symlink", symDangling, nil, "is a symbolic link"},
		{"a FIFO", fifo, nil, "is a named pipe (FIFO), not a regular file"},
		{"a directory", sub, nil, "is a directory, not a regular file"},
		{"a socket", sock, nil, "is a socket, not a regular file"},
		{"a read-only file", ro, nil, "is read-only"},
		{"a device", "/dev/null", nil, "is a character device, not a regular file"},
		{"another regular file", other, []string{input}, ""},
		{"a new file", filepath.Join(dir, "new.gguf"), []string{input}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckOutput(tt.out, tt.inputs...)
			if tt.want == "" {
				if err != nil {
					t.Errorf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestConvertLeavesUnsafeOutputsAlone runs Convert onto outputs that must
// not be replaced and checks that each is untouched.
func TestConvertLeavesUnsafeOutputsAlone(t *testing.T) {
	dir := writeModel(t, buildModel(tinyConfig(), false, "", "BF16", 1), single)
	outDir := t.TempDir()
	shardLink := filepath.Join(outDir, "shard-link.gguf")
	if err := os.Link(filepath.Join(dir, "model.safetensors"), shardLink); err != nil {
		t.Skip(err)
	}
	cfgLink := filepath.Join(outDir, "cfg-link.gguf")
	if err := os.Symlink(filepath.Join(dir, "config.json"), cfgLink); err != nil {
		t.Skip(err)
	}
	fifo := filepath.Join(outDir, "fifo.gguf")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip(err)
	}
	ro := filepath.Join(outDir, "ro.gguf")
	writeFile(t, ro, []byte("keep"))
	if err := os.Chmod(ro, 0o444); err != nil {
		t.Fatal(err)
	}
	shardBefore := readFile(t, filepath.Join(dir, "model.safetensors"))
	cfgBefore := readFile(t, filepath.Join(dir, "config.json"))
	for _, out := range []string{shardLink, cfgLink, fifo, ro, outDir} {
		if err := convertWithin(t, dir, out); err == nil {
			t.Errorf("Convert onto %s succeeded", out)
		}
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced: %v %v", st, err)
	}
	if st, err := os.Lstat(cfgLink); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced: %v %v", st, err)
	}
	if string(readFile(t, ro)) != "keep" || string(readFile(t, filepath.Join(dir, "model.safetensors"))) != string(shardBefore) ||
		string(readFile(t, filepath.Join(dir, "config.json"))) != string(cfgBefore) {
		t.Error("an input or the read-only file changed")
	}
	if got := dirEntries(t, outDir); len(got) != 4 {
		t.Errorf("output dir holds %v, want the 4 files made by the test", got)
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

// TestConvertRefusesMergesOfUnknownTokens: the runtime's tokenizer refuses
// such a file, so convert must not write it.
func TestConvertRefusesMergesOfUnknownTokens(t *testing.T) {
	for _, tt := range []struct {
		merge any
		want  string
	}{
		{"a zz", `"zz" is not a token`},
		{"zz a", `"zz" is not a token`},
		{"d f", `"df" is not a token`},
		{[]string{"", "a"}, `"" is not a token`},
		{[]string{"a", "b"}, ""}, // ab is a token: accepted
	} {
		dir := writeModel(t, buildModel(tinyConfig(), false, "", "BF16", 1), single)
		p := filepath.Join(dir, "tokenizer.json")
		var tj map[string]any
		if err := json.Unmarshal(readFile(t, p), &tj); err != nil {
			t.Fatal(err)
		}
		model := tj["model"].(map[string]any)
		model["merges"] = append(model["merges"].([]any), tt.merge)
		writeJSON(t, p, tj)
		err := convertWithin(t, dir, filepath.Join(t.TempDir(), "o.gguf"))
		if tt.want == "" {
			if err != nil {
				t.Errorf("merge %v: %v", tt.merge, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "tokenizer.json: model.merges[7]") {
			t.Errorf("merge %v: error %v, want one containing %q", tt.merge, err, tt.want)
		}
	}
}

// TestConvertRefusesJSONThatDecodesToReplacementCharacters: encoding/json
// turns bad UTF-8 and lone surrogates into U+FFFD without an error, which
// would change tokens, names and templates silently.
func TestConvertRefusesJSONThatDecodesToReplacementCharacters(t *testing.T) {
	for _, tt := range []struct {
		file string
		edit func(b []byte) []byte
		want string
	}{
		{"tokenizer.json", func(b []byte) []byte { return []byte(strings.Replace(string(b), `"cd"`, "\"c\xffd\"", 1)) }, "invalid UTF-8"},
		{"tokenizer.json", func(b []byte) []byte { return []byte(strings.Replace(string(b), `"cd"`, `"c\udc00"`, 1)) }, "lone low surrogate"},
		{"tokenizer_config.json", func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"add_bos_token"`, "\"add_bos_token\xc3\"", 1))
		}, "invalid UTF-8"},
		{"config.json", func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"qwen3_moe"`, `"qwen3_moe\ud83d"`, 1))
		}, "lone high surrogate"},
		{"model.safetensors.index.json", func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"metadata"`, "\"meta\xe2\x82data\"", 1))
		}, "invalid UTF-8"},
	} {
		dir := writeModel(t, buildModel(tinyConfig(), false, "", "BF16", 1), indexed)
		p := filepath.Join(dir, tt.file)
		b := readFile(t, p)
		nb := tt.edit(b)
		if string(nb) == string(b) {
			t.Fatalf("%s: edit changed nothing", tt.file)
		}
		writeFile(t, p, nb)
		err := convertWithin(t, dir, filepath.Join(t.TempDir(), "o.gguf"))
		if err == nil || !strings.Contains(err.Error(), tt.file) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one naming the file and %q", tt.file, err, tt.want)
		}
	}
}

func TestCheckJSONText(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string // "" for valid
	}{
		{`{"a": "héllo 😀"}`, ""},
		{`{"a": "\ud83d\ude00"}`, ""},
		{`{"a": "\\ud800"}`, ""}, // an escaped backslash, then text
		{`{"a": "\u00e9\uFFFD"}`, ""},
		{"{\"a\": \"\xff\"}", "invalid UTF-8 at byte 7"},
		{"{\"a\": \"\xed\xa0\x80\"}", "invalid UTF-8 at byte 7"}, // a surrogate in UTF-8
		{`{"a": "\ud800"}`, `lone high surrogate \ud800 at byte 7`},
		{`{"a": "\ud800\u0041"}`, "lone high surrogate"},
		{`{"a": "\ud800\ud800"}`, "lone high surrogate"},
		{`{"a": "x\uDFFF"}`, `lone low surrogate \udfff at byte 8`},
		{`{"a": "\ud800"`, "lone high surrogate"},
	} {
		err := CheckJSONText([]byte(tt.in))
		if tt.want == "" {
			if err != nil {
				t.Errorf("%q: %v", tt.in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want %q", tt.in, err, tt.want)
		}
	}
}

// FuzzCheckJSONText: text that CheckJSONText accepts decodes to strings
// holding U+FFFD only where the input spells it.
func FuzzCheckJSONText(f *testing.F) {
	for _, s := range []string{`"a"`, `"\ud83d\ude00"`, `"\ud800"`, "\"\xff\"", `"\ufffd"`, `"\\ud800"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var s string
		if CheckJSONText(b) != nil || json.Unmarshal(b, &s) != nil {
			return
		}
		if strings.ContainsRune(s, '\uFFFD') && !strings.Contains(string(b), "\uFFFD") &&
			!strings.Contains(strings.ToLower(string(b)), `\ufffd`) {
			t.Fatalf("%q accepted but decodes to %q", b, s)
		}
	})
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
