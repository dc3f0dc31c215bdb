package runtime

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

const mapNoReserve = unix.MAP_NORESERVE

// openDirect opens path with O_DIRECT. Some file systems (tmpfs before
// Linux 6.6) refuse it.
func openDirect(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_DIRECT, 0)
	if err != nil {
		return nil, fmt.Errorf("O_DIRECT: %w", err)
	}
	return f, nil
}

// openCached opens path for plain reads of whole experts, advising
// random access: the kernel then reads the ranges asked for and no
// read-ahead past them, which the pool would neither use nor drop.
func openCached(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_RANDOM); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: fadvise random: %w", path, err)
	}
	return f, nil
}

// dropCached drops the page cache of f's bytes [off, off+n) (whole pages)
// that no one maps.
func dropCached(f *os.File, off, n int64) error {
	return unix.Fadvise(int(f.Fd()), off, n, unix.FADV_DONTNEED)
}

// adviseHuge asks for transparent huge pages over the slots. The reads
// fault a slot's pages in as they fill it: with huge pages that is one
// fault and one clear per 2 MiB instead of per 4 KiB, and the products
// reading the slots miss the TLB less. Under a hypervisor that traps the
// guest's first touch of each page, it cut the CPU time of a 48-layer
// model's first prompt under a cap by about a third. Advice only: an
// error (huge pages off) changes nothing.
func adviseHuge(b []byte) { _ = unix.Madvise(b, unix.MADV_HUGEPAGE) }
