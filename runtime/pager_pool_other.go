//go:build !unix

package runtime

import (
	"errors"
	"os"
	"unsafe"
)

// anonymous returns n bytes of page-aligned memory from the Go heap.
func anonymous(n int) ([]byte, func([]byte) error, error) {
	b := make([]byte, n+ioAlign)
	skip := int(-uintptr(unsafe.Pointer(unsafe.SliceData(b))) & (ioAlign - 1))
	return b[skip : skip+n : skip+n], func([]byte) error { return nil }, nil
}

// openForReads opens path for the pool's reads; uncached reads are not
// supported here.
func openForReads(path string, direct bool) (*os.File, error) {
	if direct {
		return nil, errors.New("uncached (O_DIRECT) reads are not supported on this system")
	}
	return os.Open(path)
}

// dropCached does nothing here: the page cache is left to the system.
func dropCached(f *os.File, off, n int64) error { return nil }

// adviseHuge does nothing here: the slots keep the system's page size.
func adviseHuge(b []byte) {}
