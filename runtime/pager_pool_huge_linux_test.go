package runtime

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// TestSlotPoolAsksForHugePages reads the kernel's flags of the pool's
// mapping: advised huge (hg in /proc/self/smaps), so that the reads fault
// it in 2 MiB at a time where transparent huge pages are on.
func TestSlotPoolAsksForHugePages(t *testing.T) {
	skipUnderQEMU(t, "qemu-user does not pass madvise advice to the kernel")
	if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage"); err != nil {
		t.Skipf("no transparent huge pages in this kernel: %v", err)
	}
	path := filepath.Join(t.TempDir(), "experts.bin")
	if err := os.WriteFile(path, make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	ranges := make([][3]byteRange, 4)
	for id := range ranges {
		ranges[id][0] = byteRange{uint64(id) << 21, 2 << 20}
	}
	var mu sync.Mutex
	q, err := newSlotPool(path, ranges, 0, 1, false, &mu)
	if err != nil {
		t.Fatal(err)
	}
	defer q.close()
	start := uint64(uintptr(unsafe.Pointer(&q.mem[0])))
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	inPool := false
	for sc.Scan() {
		line := sc.Text()
		var lo, hi uint64
		if _, err := fmt.Sscanf(line, "%x-%x ", &lo, &hi); err == nil {
			inPool = lo <= start && start < hi
			continue
		}
		if inPool && strings.HasPrefix(line, "VmFlags:") {
			if !strings.Contains(line+" ", " hg ") {
				t.Errorf("the pool's mapping is not advised huge: %s", line)
			}
			return
		}
	}
	t.Fatalf("no mapping holds the pool at %#x in /proc/self/smaps (%v)", start, sc.Err())
}
