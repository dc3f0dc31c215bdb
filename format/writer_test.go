package format

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/q3m/q3m/quant"
)

// dirEntries lists the names in dir, to show that nothing was left behind.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func newWriter(t *testing.T) (w *Writer, dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "out.gguf")
	w, err := Create(path, 32)
	if err != nil {
		t.Fatal(err)
	}
	return w, dir, path
}

func TestWriterCloseWithoutAllTensorDataLeavesNoFile(t *testing.T) {
	for _, written := range []int{0, 31, 32} {
		w, dir, path := newWriter(t)
		if err := w.AddTensor("a", quant.F32, 8); err != nil {
			t.Fatal(err)
		}
		if err := w.AddTensor("b", quant.F32, 8); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(make([]byte, written)); err != nil {
			t.Fatal(err)
		}
		err := w.Close()
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%d bytes written: Close error %v should name %s", written, err, path)
		}
		if names := dirEntries(t, dir); len(names) != 0 {
			t.Errorf("%d bytes written: left %v", written, names)
		}
	}
}

func TestWriterRefusesDataPastTheDeclaredTensors(t *testing.T) {
	w, dir, _ := newWriter(t)
	if err := w.AddTensor("a", quant.F32, 8); err != nil {
		t.Fatal(err)
	}
	if n, err := w.Write(make([]byte, 33)); err == nil || n != 32 {
		t.Errorf("Write of 33 bytes into 32 = %d, %v", n, err)
	}
	if err := w.Close(); err == nil {
		t.Error("Close after an error succeeded")
	}
	if names := dirEntries(t, dir); len(names) != 0 {
		t.Errorf("left %v", names)
	}
}

func TestWriterAbortLeavesNothing(t *testing.T) {
	w, dir, _ := newWriter(t)
	if err := w.AddTensor("a", quant.F32, 8); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, 32)); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	w.Abort()
	if names := dirEntries(t, dir); len(names) != 0 {
		t.Errorf("left %v", names)
	}
	if err := w.Close(); err == nil {
		t.Error("Close after Abort succeeded")
	}
}

func TestWriterAbortAfterCloseKeepsTheFile(t *testing.T) {
	w, _, path := newWriter(t)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	f := openTest(t, path)
	if len(f.Tensors) != 0 || len(f.KV) != 1 || f.DataOffset%32 != 0 {
		t.Errorf("empty file: %d tensors, %d keys, data at %d", len(f.Tensors), len(f.KV), f.DataOffset)
	}
	if err := w.Close(); err == nil {
		t.Error("second Close succeeded")
	}
}

func TestCreateInMissingDirectoryFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "x.gguf")
	if _, err := Create(path, 32); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Create(%s) = %v", path, err)
	}
}

func TestCreateRejectsBadAlignment(t *testing.T) {
	for _, a := range []uint64{0, 4, 12, 24, 1 << 32} {
		if w, err := Create(filepath.Join(t.TempDir(), "x.gguf"), a); err == nil {
			w.Abort()
			t.Errorf("alignment %d accepted", a)
		}
	}
}

// failingWriter stands in for a full disk.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) {
	return 0, &os.PathError{Op: "write", Path: "tmp", Err: syscall.ENOSPC}
}

func TestWriterFailingWriteLeavesNoFile(t *testing.T) {
	for _, size := range []int{10, writeBuffer + 10} { // failing in Close's flush, and in Write
		w, dir, path := newWriter(t)
		w.bw.Reset(failingWriter{})
		if err := w.AddTensor("a", quant.F32, uint64(size)); err != nil {
			t.Fatal(err)
		}
		_, werr := w.Write(make([]byte, 4*size))
		err := w.Close()
		if err == nil {
			t.Fatalf("size %d: Close succeeded on a full disk", size)
		}
		if size > writeBuffer && werr == nil {
			t.Errorf("size %d: Write succeeded on a full disk", size)
		}
		if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), path) {
			t.Errorf("size %d: error %v should be ENOSPC and name %s", size, err, path)
		}
		if names := dirEntries(t, dir); len(names) != 0 {
			t.Errorf("size %d: left %v", size, names)
		}
	}
}

func TestWriterRejectsInvalidDeclarations(t *testing.T) {
	cases := []struct {
		name string
		do   func(w *Writer) error
	}{
		{"int value", func(w *Writer) error { return w.AddKV("k", 1) }},
		{"array of wrong Go type", func(w *Writer) error { return w.AddKV("k", Array{TypeString, []int32{1}}) }},
		{"array of unknown type", func(w *Writer) error { return w.AddKV("k", Array{Elem: 13}) }},
		{"nested element wrong", func(w *Writer) error {
			return w.AddKV("k", []Array{{TypeBool, []uint8{1}}})
		}},
		{"alignment key", func(w *Writer) error { return w.AddKV(KeyAlignment, uint32(64)) }},
		{"duplicate key", func(w *Writer) error { _ = w.AddKV("k", true); return w.AddKV("k", false) }},
		{"name too long", func(w *Writer) error { return w.AddTensor(strings.Repeat("x", 64), quant.F32, 8) }},
		{"duplicate tensor", func(w *Writer) error { _ = w.AddTensor("t", quant.F32, 8); return w.AddTensor("t", quant.F32, 8) }},
		{"unknown type", func(w *Writer) error { return w.AddTensor("t", quant.Type(3), 8) }},
		{"no dims", func(w *Writer) error { return w.AddTensor("t", quant.F32) }},
		{"five dims", func(w *Writer) error { return w.AddTensor("t", quant.F32, 1, 1, 1, 1, 1) }},
		{"zero dim", func(w *Writer) error { return w.AddTensor("t", quant.F32, 8, 0) }},
		{"partial block", func(w *Writer) error { return w.AddTensor("t", quant.Q4_0, 48) }},
		{"overflow", func(w *Writer) error { return w.AddTensor("t", quant.F32, 1<<40, 1<<40) }},
		{"metadata after data", func(w *Writer) error {
			_ = w.AddTensor("t", quant.F32, 8)
			_, _ = w.Write(make([]byte, 4))
			return w.AddKV("k", true)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, dir, path := newWriter(t)
			err := c.do(w)
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("error %v should name %s", err, path)
			}
			if err := w.Close(); err == nil {
				t.Error("Close after an error succeeded")
			}
			if names := dirEntries(t, dir); len(names) != 0 {
				t.Errorf("left %v", names)
			}
		})
	}
}

func TestWriterReplacesAnExistingFile(t *testing.T) {
	w, _, path := newWriter(t)
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := w.AddKV("k", "new"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if s, _, _ := openTest(t, path).String("k"); s != "new" {
		t.Errorf("k = %q", s)
	}
}
