package runtime

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

const mapNoReserve = unix.MAP_NORESERVE

// openDirect opens path with O_DIRECT. Some file systems (tmpfs before
// Linux 6.6) refuse it.
func openDirect(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_DIRECT, 0)
	if err != nil {
		return nil, fmt.Errorf("O_DIRECT: %w", err)
	}
	return f, nil
}
