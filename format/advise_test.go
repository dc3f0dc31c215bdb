package format

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"

	"github.com/q3m/q3m/quant"
)

func TestAdviseSpanDropsOnlyWholePagesAndReadsEveryTouchedPage(t *testing.T) {
	const page, size = 4096, 10 * 4096
	for _, c := range []struct {
		name        string
		off, n      uint64
		a           Advice
		wantLo, wHi uint64
	}{
		{"aligned willneed", 4096, 8192, WillNeed, 4096, 12288},
		{"aligned dontneed", 4096, 8192, DontNeed, 4096, 12288},
		{"unaligned willneed grows outward", 100, 8192, WillNeed, 0, 12288},
		{"unaligned dontneed shrinks inward", 100, 8192, DontNeed, 4096, 8192},
		{"dontneed inside one page is empty", 4100, 4000, DontNeed, 0, 0},
		{"willneed inside one page is that page", 4100, 10, WillNeed, 4096, 8192},
		{"willneed stops at the end of the file", size - 10, 10, WillNeed, size - page, size},
		{"empty range", 4096, 0, WillNeed, 0, 0},
	} {
		lo, hi := adviseSpan(c.off, c.n, size, page, c.a)
		if lo != c.wantLo || hi != c.wHi {
			t.Errorf("%s: span [%d, %d), want [%d, %d)", c.name, lo, hi, c.wantLo, c.wHi)
		}
	}
}

// expertFile writes a file holding one 3-D F32 tensor of 8 experts of 16 KiB
// (four pages), each filled with its expert number, and opens it.
func expertFile(t *testing.T) (*File, TensorInfo) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "experts.gguf")
	w, err := Create(path, 4096)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddTensor("exps", quant.F32, 1024, 4, 8); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 8*16384)
	for i := range len(data) / 4 {
		binary.LittleEndian.PutUint32(data[4*i:], uint32(i/4096))
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	ti, _ := f.Tensor("exps")
	return f, ti
}

func TestAdviseNeverChangesTheData(t *testing.T) {
	f, ti := expertFile(t)
	want := bytes.Clone(f.Data(ti))
	for e := range 8 {
		off, n, err := f.ExpertRange(ti, e)
		if err != nil {
			t.Fatal(err)
		}
		a := DontNeed
		if e%2 == 0 {
			a = WillNeed
		}
		// Unaligned ranges too: rounding must not touch the neighbours' bytes.
		if err := f.Advise(off+100, n-200, a); err != nil {
			t.Fatal(err)
		}
		if err := f.Advise(off, n, a); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(f.Data(ti), want) {
		t.Error("the tensor's bytes changed after advice")
	}
	for e := range 8 {
		d, _ := f.ExpertData(ti, e)
		if v := binary.LittleEndian.Uint32(d[len(d)-4:]); v != uint32(e) {
			t.Errorf("expert %d ends with %d", e, v)
		}
	}
}

func TestAdviseRejectsBadArguments(t *testing.T) {
	f, _ := expertFile(t)
	size := uint64(len(f.Mapping()))
	for _, c := range []struct {
		name   string
		off, n uint64
		a      Advice
	}{
		{"past the end", size - 10, 11, WillNeed},
		{"overflowing range", 1, ^uint64(0), DontNeed},
		{"unknown advice", 0, 10, Advice(7)},
	} {
		err := f.Advise(c.off, c.n, c.a)
		if err == nil || !strings.Contains(err.Error(), f.Path) {
			t.Errorf("%s: error %v, want one naming %s", c.name, err, f.Path)
		}
	}
}

func TestAdviseOfAnUnmappedFileOnlyChecksTheRange(t *testing.T) {
	f, ti := expertFile(t)
	mem := &File{Path: "mem", data: f.Mapping()} // no unmap: not a mapping
	off, n, _ := f.ExpertRange(ti, 3)
	if err := mem.Advise(off, n, DontNeed); err != nil {
		t.Errorf("advice on an unmapped file: %v", err)
	}
	if err := mem.Advise(off, 1<<40, DontNeed); err == nil {
		t.Error("a range past the end was accepted")
	}
}
