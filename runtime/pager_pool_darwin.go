package runtime

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

const mapNoReserve = 0

// openDirect opens path with caching off (F_NOCACHE), Darwin's O_DIRECT.
func openDirect(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_NOCACHE, 1); err != nil {
		f.Close()
		return nil, fmt.Errorf("F_NOCACHE: %w", err)
	}
	return f, nil
}

// openCached opens path for plain reads.
func openCached(path string) (*os.File, error) { return os.Open(path) }

// dropCached does nothing here (q3m drops a range's page cache on Linux
// only): plain reads leave it to the kernel.
func dropCached(f *os.File, off, n int64) error { return nil }

// adviseHuge does nothing here: the slots keep the system's page size.
func adviseHuge(b []byte) {}
