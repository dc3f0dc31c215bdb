//go:build unix

package format

import (
	"fmt"
	"math"
	"os"

	"golang.org/x/sys/unix"
)

// Open maps the file at path read-only and parses it. Close the File to unmap it.
func Open(path string) (*File, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("format: %w", err)
	}
	defer fd.Close()
	st, err := fd.Stat()
	if err != nil {
		return nil, fmt.Errorf("format: %w", err)
	}
	size := st.Size()
	if size == 0 {
		return parse(path, nil)
	}
	if size < 0 || uint64(size) > math.MaxInt {
		return nil, fmt.Errorf("format: %s: file of %d bytes too large to map", path, size)
	}
	data, err := unix.Mmap(int(fd.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("format: %s: mmap: %w", path, err)
	}
	f, err := parse(path, data)
	if err != nil {
		_ = unix.Munmap(data)
		return nil, err
	}
	f.unmap = unix.Munmap
	return f, nil
}
