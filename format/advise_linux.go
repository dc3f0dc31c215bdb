package format

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Resident returns how many bytes of file range [off, off+n) lie in pages
// held in memory (mincore(2)): for a file mapping that is the page cache,
// whether or not this process has touched the pages, so it shows what
// WillNeed read ahead rather than the process's resident set. A file that
// is not memory-mapped is wholly resident.
func (f *File) Resident(off, n uint64) (uint64, error) {
	if err := f.checkRange(off, n); err != nil {
		return 0, err
	}
	if f.unmap == nil || n == 0 {
		return n, nil
	}
	page := uint64(unix.Getpagesize())
	lo, hi := adviseSpan(off, n, uint64(len(f.data)), page, WillNeed)
	vec := make([]byte, (hi-lo+page-1)/page)
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&f.data[lo])), uintptr(hi-lo), uintptr(unsafe.Pointer(&vec[0])))
	if errno != 0 {
		return 0, fmt.Errorf("%s: mincore [%d, %d): %w", f.where(), lo, hi, errno)
	}
	var res uint64
	for i, v := range vec {
		if v&1 == 0 {
			continue
		}
		p0 := lo + uint64(i)*page
		res += min(p0+page, off+n) - max(p0, off)
	}
	return res, nil
}
