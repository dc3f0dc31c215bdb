//go:build unix && !linux && !darwin

package runtime

import (
	"errors"
	"os"
)

const mapNoReserve = 0

// openDirect reports that uncached reads are not supported here.
func openDirect(path string) (*os.File, error) {
	return nil, errors.New("uncached (O_DIRECT) reads are not supported on this system")
}

// openCached opens path for plain reads.
func openCached(path string) (*os.File, error) { return os.Open(path) }

// dropCached does nothing here (q3m drops a range's page cache on Linux
// only): plain reads leave it to the kernel.
func dropCached(f *os.File, off, n int64) error { return nil }

// adviseHuge does nothing here: the slots keep the system's page size.
func adviseHuge(b []byte) {}
