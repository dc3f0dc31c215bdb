package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// fileState is what a test remembers of a path to tell it was not touched.
type fileState struct {
	mode os.FileMode
	data string
	link string
}

func stateOf(t *testing.T, p string) fileState {
	t.Helper()
	st, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	s := fileState{mode: st.Mode()}
	switch {
	case st.Mode()&os.ModeSymlink != 0:
		s.link, _ = os.Readlink(p)
	case st.Mode().IsRegular():
		b, _ := os.ReadFile(p)
		s.data = string(b)
	}
	return s
}

// TestCLIOutputsNeverReplaceWhatTheyMustNot drives every command that
// writes a file (logits --out, convert -o) at every kind of path it must
// refuse, and checks that the refusal comes first (before the model is
// read), names the flag and the reason, and leaves the path and its
// directory as they were.
func TestCLIOutputsNeverReplaceWhatTheyMustNot(t *testing.T) {
	model, hf := chatTestModel(t, 256)
	dir := t.TempDir()
	other := filepath.Join(dir, "other.bin")
	if err := os.WriteFile(other, []byte("other"), 0o644); err != nil {
		t.Fatal(err)
	}
	mk := func(name string, f func(p string) error) string {
		p := filepath.Join(dir, name)
		if err := f(p); err != nil {
			t.Skipf("%s: %v", name, err)
		}
		return p
	}
	hardModel := mk("hard.gguf", func(p string) error { return os.Link(model, p) })
	symModel := mk("sym.gguf", func(p string) error { return os.Symlink(model, p) })
	symOther := mk("sym-other", func(p string) error { return os.Symlink(other, p) })
	fifo := mk("fifo", func(p string) error { return syscall.Mkfifo(p, 0o644) })
	sub := mk("sub", func(p string) error { return os.Mkdir(p, 0o755) })
	ro := mk("ro.bin", func(p string) error { return os.WriteFile(p, []byte("keep"), 0o444) })
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Skip(err)
	}
	defer l.Close()
	hardShard := mk("hard-shard.gguf", func(p string) error { return os.Link(filepath.Join(hf, "model.safetensors"), p) })

	logits := func(out string) []string { return []string{"logits", "-m", model, "--ids", "1,2", "--out", out} }
	conv := func(out string) []string { return []string{"convert", "--type", "f16", "-o", out, hf} }
	tests := []struct {
		name string
		args []string
		path string // must stay as it was
		want string
	}{
		{"logits onto the model", logits(model), model, "is the input file"},
		{"logits onto a hard link to the model", logits(hardModel), model, "is the input file"},
		{"logits onto a symlink to the model", logits(symModel), symModel, "is a symbolic link"},
		{"logits onto a symlink to another file", logits(symOther), symOther, "is a symbolic link"},
		{"logits onto a FIFO", logits(fifo), fifo, "is a named pipe (FIFO), not a regular file"},
		{"logits onto a directory", logits(sub), sub, "is a directory, not a regular file"},
		{"logits onto a socket", logits(sock), sock, "is a socket, not a regular file"},
		{"logits onto a read-only file", logits(ro), ro, "is read-only"},
		{"logits into a missing directory", logits(filepath.Join(dir, "none", "x.f32")), dir, "cannot write in its directory"},
		{"convert onto a shard", conv(filepath.Join(hf, "model.safetensors")), filepath.Join(hf, "model.safetensors"), "is the input file"},
		{"convert onto a hard link to a shard", conv(hardShard), hardShard, "is the input file"},
		{"convert onto config.json", conv(filepath.Join(hf, "config.json")), filepath.Join(hf, "config.json"), "is the input file"},
		{"convert onto a FIFO", conv(fifo), fifo, "is a named pipe"},
		{"convert onto the model", conv(symModel), symModel, "is a symbolic link"},
		{"convert onto a read-only file", conv(ro), ro, "is read-only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := stateOf(t, tt.path)
			modelBefore := stateOf(t, model)
			entries, _ := os.ReadDir(dir)
			_, stderr, err := q3mRun(t, tt.args...)
			if err == nil || !strings.Contains(stderr, tt.want) || strings.Contains(stderr, "panic") {
				t.Errorf("err %v, stderr %q; want a refusal saying %q", err, stderr, tt.want)
			}
			if !strings.Contains(stderr, "--out") && !strings.Contains(stderr, "--output") {
				t.Errorf("stderr %q does not name the flag", stderr)
			}
			if after := stateOf(t, tt.path); after != before {
				t.Errorf("%s changed: %+v → %+v", tt.path, before, after)
			}
			if after := stateOf(t, model); after != modelBefore {
				t.Error("the model changed")
			}
			if after, _ := os.ReadDir(dir); len(after) != len(entries) {
				t.Errorf("%d entries in %s after the refusal, %d before", len(after), dir, len(entries))
			}
		})
	}

	// The refusal comes before the model is read: a missing model is not
	// what is reported.
	_, stderr, err := q3mRun(t, "logits", "-m", filepath.Join(dir, "missing.gguf"), "--ids", "1", "--out", fifo)
	if err == nil || !strings.Contains(stderr, "--out") || !strings.Contains(stderr, "named pipe") {
		t.Errorf("logits with a FIFO --out and a missing model: err %v, stderr %q; want the --out refusal first", err, stderr)
	}
}

// TestCLILogitsOutReplacesARegularFileOrWritesStdout: the accepted cases
// write the same bytes, leave no temporary files, and replace an existing
// file whole.
func TestCLILogitsOutReplacesARegularFileOrWritesStdout(t *testing.T) {
	model, _ := chatTestModel(t, 256)
	dir := t.TempDir()
	out := filepath.Join(dir, "logits.f32")
	if err := os.WriteFile(out, bytes.Repeat([]byte("old"), 100000), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := q3mRun(t, "logits", "-m", model, "--ids", "1,2,3", "--out", out); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	file, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := q3mRun(t, "logits", "-m", model, "--ids", "1,2,3", "--out", "-")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if len(file) != 3*512*4 || stdout != string(file) {
		t.Errorf("file of %d bytes, stdout of %d; want the same 3×512 float32", len(file), len(stdout))
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("dir holds %v, want only the output", ents)
	}
}

// TestHistoryFileIsCheckedLikeAnOutput: the REPL appends to its history
// file, so the model, a FIFO or a directory are refused; a link to a
// regular file is followed.
func TestHistoryFileIsCheckedLikeAnOutput(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.gguf")
	hist := filepath.Join(dir, "hist")
	for _, p := range []string{model, hist} {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "link")
	fifo := filepath.Join(dir, "fifo")
	modelLink := filepath.Join(dir, "model-link")
	if os.Symlink(hist, link) != nil || syscall.Mkfifo(fifo, 0o644) != nil || os.Symlink(model, modelLink) != nil {
		t.Skip("cannot make links or FIFOs here")
	}
	for _, tt := range []struct {
		path, want string
	}{
		{model, "is the input file"},
		{modelLink, "is the input file"},
		{fifo, "named pipe"},
		{dir, "directory"},
		{hist, ""},
		{link, ""},
		{filepath.Join(dir, "new"), ""},
		{"", ""},
	} {
		err := checkHistoryFile(tt.path, model)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "--history")) {
			t.Errorf("%s: %v, want %q", tt.path, err, tt.want)
		}
	}
}
