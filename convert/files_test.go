package convert

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/q3m/q3m/quant"
)

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
