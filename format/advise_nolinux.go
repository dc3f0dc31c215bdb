//go:build !linux

package format

import (
	"errors"
	"fmt"
)

// Resident returns how many bytes of file range [off, off+n) lie in pages
// held in memory. It is implemented on Linux only; elsewhere it returns an
// error wrapping errors.ErrUnsupported for a memory-mapped file.
func (f *File) Resident(off, n uint64) (uint64, error) {
	if err := f.checkRange(off, n); err != nil {
		return 0, err
	}
	if f.unmap == nil || n == 0 {
		return n, nil
	}
	return 0, fmt.Errorf("%s: residency query: %w", f.where(), errors.ErrUnsupported)
}

// MappedRSS returns how many bytes of the file's mapping are in this
// process's resident set. It is implemented on Linux only; elsewhere it
// returns an error wrapping errors.ErrUnsupported for a memory-mapped file.
func (f *File) MappedRSS() (uint64, error) {
	if f.unmap == nil {
		return uint64(len(f.data)), nil
	}
	return 0, fmt.Errorf("%s: mapped RSS: %w", f.where(), errors.ErrUnsupported)
}
