package format

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/q3m/q3m/quant"
)

// writeBuffer is the size of the Writer's buffer; tensor data of tens of
// gigabytes streams through it.
const writeBuffer = 4 << 20

// Writer writes a GGUF v3 file atomically: everything goes to a temporary
// file in the target's directory, renamed over the path by Close. On any
// error or Abort the temporary file is removed and nothing is left at the
// path. The first error is sticky: every later call returns it.
//
// Use: Create, AddKV and AddTensor for the header, then Write the data of
// every tensor in declaration order, then Close.
type Writer struct {
	path      string
	tmp       *os.File
	bw        *bufio.Writer
	alignment uint64
	kvs       []KV
	keys      map[string]bool
	tensors   []TensorInfo
	names     map[string]bool
	dataSize  uint64 // aligned end of the declared data

	headerDone bool
	cur        int    // index of the tensor being filled
	filled     uint64 // bytes of tensors[cur] written
	err        error
	done       bool
}

// Create starts a GGUF v3 file at path whose tensor data is aligned to
// alignment bytes (a power of two, at least 8; 32 is llama.cpp's default).
// The first metadata pair is general.alignment, written as a uint32.
func Create(path string, alignment uint64) (*Writer, error) {
	if alignment < 8 || alignment > math.MaxUint32 || alignment&(alignment-1) != 0 {
		return nil, fmt.Errorf("format: %s: alignment %d is not a power of two between 8 and 2^31", path, alignment)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("format: creating %s: %w", path, err)
	}
	return &Writer{
		path:      path,
		tmp:       tmp,
		bw:        bufio.NewWriterSize(tmp, writeBuffer),
		alignment: alignment,
		kvs:       []KV{{Key: KeyAlignment, Value: uint32(alignment)}},
		keys:      map[string]bool{KeyAlignment: true},
		names:     map[string]bool{},
	}, nil
}

// fail records the first error and returns it.
func (w *Writer) fail(format string, args ...any) error {
	w.err = fmt.Errorf("format: %s: "+format, append([]any{w.path}, args...)...)
	return w.err
}

// usable returns the error that stops the writer from taking more calls.
func (w *Writer) usable() error {
	if w.err != nil {
		return w.err
	}
	if w.done {
		return fmt.Errorf("format: %s: writer already closed", w.path)
	}
	return nil
}

func (w *Writer) headerOpen(what string) error {
	if err := w.usable(); err != nil {
		return err
	}
	if w.headerDone {
		return w.fail("%s after tensor data was written", what)
	}
	return nil
}

// AddKV adds a metadata pair. value has one of the types of KV.Value; a plain
// typed slice ([]string, []int32, []float32, ...) is taken as an Array.
func (w *Writer) AddKV(key string, value any) error {
	if err := w.headerOpen(fmt.Sprintf("metadata %q", key)); err != nil {
		return err
	}
	if a, ok := asArray(value); ok {
		value = a
	}
	if w.keys[key] {
		return w.fail("duplicate metadata key %q", key)
	}
	if err := checkValue(value, 0); err != nil {
		return w.fail("key %q: %v", key, err)
	}
	w.keys[key] = true
	w.kvs = append(w.kvs, KV{Key: key, Value: value})
	return nil
}

// AddTensor declares a tensor. Offsets are assigned in declaration order,
// each aligned; Write then takes the tensors' data in the same order.
func (w *Writer) AddTensor(name string, typ quant.Type, dims ...uint64) error {
	if err := w.headerOpen(fmt.Sprintf("tensor %q", name)); err != nil {
		return err
	}
	switch {
	case len(name) > MaxNameLen:
		return w.fail("tensor %q: name longer than %d bytes", name, MaxNameLen)
	case w.names[name]:
		return w.fail("duplicate tensor name %q", name)
	case !typ.Known():
		return w.fail("tensor %q: unknown type id %d", name, uint32(typ))
	case len(dims) == 0 || len(dims) > MaxDims:
		return w.fail("tensor %q: %d dimensions, want 1 to %d", name, len(dims), MaxDims)
	}
	for j, d := range dims {
		if d == 0 {
			return w.fail("tensor %q: dimension %d is 0", name, j)
		}
	}
	if bs := uint64(typ.BlockSize()); dims[0]%bs != 0 {
		return w.fail("tensor %q: rows of %d values are not a whole number of %s blocks of %d", name, dims[0], typ, bs)
	}
	t := TensorInfo{Name: name, Type: typ, Dims: append([]uint64(nil), dims...), Offset: w.dataSize}
	size, ok := t.size()
	end := t.Offset + size
	if !ok || end < t.Offset || alignUp(end, w.alignment) < end {
		return w.fail("tensor %q: size of dimensions %v overflows", name, dims)
	}
	w.names[name] = true
	w.tensors = append(w.tensors, t)
	w.dataSize = alignUp(end, w.alignment)
	return nil
}

// Write streams tensor data: the bytes fill the declared tensors in
// declaration order, with the padding between them inserted. The header is
// written on the first call.
func (w *Writer) Write(p []byte) (int, error) {
	if err := w.usable(); err != nil {
		return 0, err
	}
	if err := w.writeHeader(); err != nil {
		return 0, err
	}
	n := 0
	for len(p) > 0 {
		if w.cur >= len(w.tensors) {
			return n, w.fail("%d bytes written past the end of the declared tensors", len(p))
		}
		t := w.tensors[w.cur]
		size := t.Bytes()
		k := min(uint64(len(p)), size-w.filled)
		m, err := w.bw.Write(p[:k])
		n += m
		if err != nil {
			return n, w.fail("writing tensor %q: %w", t.Name, err)
		}
		p = p[k:]
		w.filled += k
		if w.filled == size {
			if err := w.pad(alignUp(size, w.alignment) - size); err != nil {
				return n, err
			}
			w.cur++
			w.filled = 0
		}
	}
	return n, nil
}

// writeHeader writes the header and its padding, once.
func (w *Writer) writeHeader() error {
	if w.headerDone {
		return nil
	}
	w.headerDone = true
	hdr := appendHeader(nil, 3, w.kvs, w.tensors)
	if _, err := w.bw.Write(hdr); err != nil {
		return w.fail("writing header: %w", err)
	}
	return w.pad(alignUp(uint64(len(hdr)), w.alignment) - uint64(len(hdr)))
}

func (w *Writer) pad(n uint64) error {
	var zeros [512]byte
	for n > 0 {
		k := min(n, uint64(len(zeros)))
		if _, err := w.bw.Write(zeros[:k]); err != nil {
			return w.fail("writing padding: %w", err)
		}
		n -= k
	}
	return nil
}

// Close checks that every tensor was written in full, writes the header if
// no data was written, syncs the file and renames it to its path. On error
// nothing is left at the path.
func (w *Writer) Close() error {
	if err := w.usable(); err != nil {
		w.Abort()
		return err
	}
	if err := w.finish(); err != nil {
		w.Abort()
		return err
	}
	w.done = true
	if d, err := os.Open(filepath.Dir(w.path)); err == nil {
		_ = d.Sync() // best effort: makes the rename durable where directories can be synced
		_ = d.Close()
	}
	return nil
}

func (w *Writer) finish() error {
	if err := w.writeHeader(); err != nil {
		return err
	}
	if w.cur < len(w.tensors) {
		t := w.tensors[w.cur]
		return w.fail("tensor %q: %d of %d bytes written, %d later tensors missing",
			t.Name, w.filled, t.Bytes(), len(w.tensors)-w.cur-1)
	}
	if err := w.bw.Flush(); err != nil {
		return w.fail("writing: %w", err)
	}
	if err := w.tmp.Chmod(0o644); err != nil {
		return w.fail("%w", err)
	}
	if err := w.tmp.Sync(); err != nil {
		return w.fail("sync: %w", err)
	}
	if err := w.tmp.Close(); err != nil {
		return w.fail("%w", err)
	}
	if err := os.Rename(w.tmp.Name(), w.path); err != nil {
		return w.fail("%w", err)
	}
	return nil
}

// Abort discards the file being written. It does nothing after a successful Close.
func (w *Writer) Abort() {
	if w.done {
		return
	}
	w.done = true
	if w.err == nil {
		w.err = errors.New("format: " + w.path + ": writer aborted")
	}
	_ = w.tmp.Close()
	_ = os.Remove(w.tmp.Name())
}
