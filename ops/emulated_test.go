package ops

import (
	"os"
	"strings"
	"testing"
)

// skipUnderQEMU skips a test that qemu-user cannot run (CI runs the arm64
// tests under it): qemu ignores madvise advice such as MADV_WILLNEED, and
// delivers SIGBUS with address 0, so that a fault reading a mapping looks
// like a nil dereference and cannot be recovered as one.
func skipUnderQEMU(t *testing.T, why string) {
	t.Helper()
	if comm, _ := os.ReadFile("/proc/self/comm"); strings.HasPrefix(string(comm), "qemu-") {
		t.Skip("under qemu-user: " + why)
	}
}
