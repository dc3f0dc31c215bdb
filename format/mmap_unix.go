//go:build unix

package format

import (
	"fmt"
	"math"
	"os"
	"runtime/debug"

	"golang.org/x/sys/unix"
)

// Open maps the file at path read-only and parses it. Close the File to unmap it.
//
// Only regular files are opened: a FIFO, device, socket or directory is
// refused at once rather than waited on or read. A file truncated while it
// is being parsed gives an error wrapping ErrCorrupt, not a crash.
func Open(path string) (*File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("format: %w", err)
	}
	if err := regular(path, st); err != nil {
		return nil, err
	}
	// O_NONBLOCK: should path become a FIFO after the Stat, opening it
	// must not wait for a writer; the second Stat then refuses it.
	fd, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("format: %w", err)
	}
	defer fd.Close()
	st2, err := fd.Stat()
	if err != nil {
		return nil, fmt.Errorf("format: %w", err)
	}
	if err := regular(path, st2); err != nil {
		return nil, err
	}
	if !os.SameFile(st, st2) {
		return nil, fmt.Errorf("format: %s: replaced while being opened", path)
	}
	size := st2.Size()
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
	f, err := parseMapped(path, data)
	if err != nil {
		_ = unix.Munmap(data)
		return nil, err
	}
	f.unmap = unix.Munmap
	return f, nil
}

// parseMapped parses a mapped file image, turning a memory fault inside it
// (the file truncated since it was mapped: SIGBUS) into an error.
func parseMapped(path string, data []byte) (f *File, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			at, ok := faultOffset(r, data)
			if !ok {
				panic(r)
			}
			f, err = nil, &corruptError{path: path, at: int64(at), msg: fmt.Sprintf("file shorter than when it was mapped (%d bytes): truncated while being read", len(data))}
		}
	}()
	return parse(path, data)
}
