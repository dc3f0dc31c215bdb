//go:build !unix

package sysmem

import (
	"errors"
	"os"
)

var errUnsupported = errors.New("sysmem: not supported on this system")

// MajorFaults returns the major page faults of the process so far; it is
// not known on this system.
func MajorFaults() (uint64, error) { return 0, errUnsupported }

// LockLimit returns the limit of locked memory; not known on this system.
func LockLimit() (uint64, error) { return 0, errUnsupported }

// Lock pins the pages of b in memory; not supported on this system.
func Lock(b []byte) error { return errUnsupported }

// PageSize is the size of a memory page.
func PageSize() int { return os.Getpagesize() }
