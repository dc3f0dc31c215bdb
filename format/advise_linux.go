package format

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
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

// MappedRSS returns how many bytes of the file's mapping are in this
// process's resident set (the mapping's Rss in /proc/self/smaps): the
// pages it has touched and not given back. A file that is not
// memory-mapped reports its whole size.
func (f *File) MappedRSS() (uint64, error) {
	if f.unmap == nil || len(f.data) == 0 {
		return uint64(len(f.data)), nil
	}
	smaps, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, fmt.Errorf("%s: mapped RSS: %w", f.where(), err)
	}
	defer smaps.Close()
	start := uintptr(unsafe.Pointer(&f.data[0]))
	in := false
	sc := bufio.NewScanner(smaps)
	for sc.Scan() {
		line := sc.Text()
		if lo, _, ok := strings.Cut(strings.Fields(line + " ")[0], "-"); ok && !strings.HasSuffix(lo, ":") {
			a, err := strconv.ParseUint(lo, 16, 64)
			in = err == nil && uintptr(a) == start
			continue
		}
		if rest, ok := strings.CutPrefix(line, "Rss:"); in && ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%s: mapped RSS: smaps line %q", f.where(), line)
			}
			return kb << 10, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("%s: mapped RSS: %w", f.where(), err)
	}
	return 0, fmt.Errorf("%s: mapped RSS: mapping not found in /proc/self/smaps", f.where())
}
