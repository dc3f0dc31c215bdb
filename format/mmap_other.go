//go:build !unix

package format

import (
	"fmt"
	"os"
)

// Open reads the file at path into memory and parses it.
func Open(path string) (*File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("format: %w", err)
	}
	if err := regular(path, st); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("format: %w", err)
	}
	return parse(path, data)
}
