package format

import (
	"fmt"
	"io/fs"
	"runtime"
	"unsafe"
)

// regular refuses anything but a regular file, naming what path is.
func regular(path string, st fs.FileInfo) error {
	mode := st.Mode()
	if mode.IsRegular() {
		return nil
	}
	what := "not a regular file"
	switch {
	case mode.IsDir():
		what = "a directory"
	case mode&fs.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case mode&fs.ModeSocket != 0:
		what = "a socket"
	case mode&fs.ModeCharDevice != 0:
		what = "a character device"
	case mode&fs.ModeDevice != 0:
		what = "a block device"
	}
	return fmt.Errorf("format: %s: %s, not a model file", path, what)
}

// faultOffset reports whether a recovered panic value r is a memory fault
// (with debug.SetPanicOnFault on) at an address inside data, and at which
// offset.
func faultOffset(r any, data []byte) (uint64, bool) {
	if _, ok := r.(runtime.Error); !ok || len(data) == 0 {
		return 0, false
	}
	fa, ok := r.(interface{ Addr() uintptr })
	if !ok {
		return 0, false
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
	if a := fa.Addr(); a >= lo && a-lo < uintptr(len(data)) {
		return uint64(a - lo), true
	}
	return 0, false
}
