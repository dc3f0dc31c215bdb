//go:build unix && !linux && !darwin

package runtime

import (
	"errors"
	"os"
)

const mapNoReserve = 0

// openDirect reports that uncached reads are not supported here.
func openDirect(path string) (*os.File, error) {
	return nil, errors.New("uncached (O_DIRECT) reads are not supported on this system")
}
