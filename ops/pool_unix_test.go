//go:build unix

package ops

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"testing"
	"unsafe"

	"github.com/q3m/q3m/quant"
	"golang.org/x/sys/unix"
)

// TestPoolTurnsAWorkerFaultIntoACallerPanic maps a file of Q8_0 weights,
// truncates it and runs a product on four goroutines: the fault (SIGBUS)
// on any of them must reach the caller as a runtime.Error carrying the
// address, which the caller can recover, instead of killing the process.
func TestPoolTurnsAWorkerFaultIntoACallerPanic(t *testing.T) {
	skipUnderQEMU(t, "SIGBUS arrives with address 0")
	const rows, cols = 512, 256
	rb, _ := quant.Q8_0.RowBytes(cols)
	w := make([]byte, rows*rb)
	r := rand.New(rand.NewPCG(1, 2))
	if err := quant.Quantize(quant.Q8_0, w, randVec(r, rows*cols, 1)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "w.bin")
	if err := os.WriteFile(path, w, 0o644); err != nil {
		t.Fatal(err)
	}
	fd, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := unix.Mmap(int(fd.Fd()), 0, len(w), unix.PROT_READ, unix.MAP_SHARED)
	fd.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(data)
	p := NewPool(4)
	defer p.Close()
	e := NewExec(p)
	m := Matrix{Type: quant.Q8_0, Data: data, Rows: rows, Cols: cols}
	x, y := randVec(r, cols, 1), make([]float32, rows)
	e.MatVec(y, m, x) // fine while the file is whole
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	got := func() (r any) {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() { r = recover() }()
		e.MatVec(y, m, x)
		return nil
	}()
	_, isRuntime := got.(goruntime.Error)
	fa, hasAddr := got.(interface{ Addr() uintptr })
	if !isRuntime || !hasAddr {
		t.Fatalf("reading a truncated mapping panicked with %v (%T), want a runtime.Error with Addr", got, got)
	}
	lo := uintptr(unsafe.Pointer(&data[0]))
	if a := fa.Addr(); a < lo || a >= lo+uintptr(len(data)) {
		t.Errorf("fault at %#x, outside the mapping [%#x, +%d)", a, lo, len(data))
	}
}
