//go:build unix

package sysmem

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// MajorFaults returns the major page faults (those that waited for a
// read from disk) of the process so far, from getrusage.
func MajorFaults() (uint64, error) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("sysmem: getrusage: %w", err)
	}
	return uint64(ru.Majflt), nil
}

// LockLimit returns the process's RLIMIT_MEMLOCK soft limit in bytes:
// how much memory Lock may pin without privileges (Unlimited-sized when
// there is no limit).
func LockLimit() (uint64, error) {
	var r unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &r); err != nil {
		return 0, fmt.Errorf("sysmem: getrlimit RLIMIT_MEMLOCK: %w", err)
	}
	return uint64(r.Cur), nil
}

// Lock pins the pages of b in memory (mlock), reading those not yet in.
func Lock(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if err := unix.Mlock(b); err != nil {
		return fmt.Errorf("sysmem: mlock %d bytes: %w", len(b), err)
	}
	return nil
}

// PageSize is the size of a memory page.
func PageSize() int { return unix.Getpagesize() }
