//go:build unix

package runtime

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// anonymous maps n bytes of page-aligned private memory, reserving no
// swap: pages cost memory once written.
func anonymous(n int) ([]byte, func([]byte) error, error) {
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON|mapNoReserve)
	if err != nil {
		return nil, nil, fmt.Errorf("mmap %d anonymous bytes: %w", n, err)
	}
	return b, unix.Munmap, nil
}

// openForReads opens path for the pool's reads, with O_DIRECT (or its
// equivalent) when direct.
func openForReads(path string, direct bool) (*os.File, error) {
	if !direct {
		return openCached(path)
	}
	return openDirect(path)
}
