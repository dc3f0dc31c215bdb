//go:build !linux

package main

import (
	"errors"
	"os"
)

// openDirect is Linux-only: elsewhere the figure would include the page
// cache, so randread refuses rather than report it.
func openDirect(path string) (*os.File, error) {
	return nil, errors.New("O_DIRECT reads are measured on Linux only")
}

func uintptrOf(b []byte) uintptr { return 0 }
