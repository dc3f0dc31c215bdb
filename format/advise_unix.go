//go:build unix

package format

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Advise gives the operating system advice a about file bytes [off, off+n).
// WillNeed applies to every page the range touches; DontNeed only to the
// pages wholly inside it, so that data sharing a page with the range is
// never dropped. It does nothing when the file is not memory-mapped (an
// empty file, or on systems without mmap).
func (f *File) Advise(off, n uint64, a Advice) error {
	if err := f.checkAdvice(off, n, a); err != nil {
		return err
	}
	if f.unmap == nil {
		return nil
	}
	lo, hi := adviseSpan(off, n, uint64(len(f.data)), uint64(unix.Getpagesize()), a)
	if hi == lo {
		return nil
	}
	advice := unix.MADV_WILLNEED
	if a == DontNeed {
		advice = unix.MADV_DONTNEED
	}
	if err := unix.Madvise(f.data[lo:hi], advice); err != nil {
		return fmt.Errorf("%s: madvise %s [%d, %d): %w", f.where(), a, lo, hi, err)
	}
	return nil
}
