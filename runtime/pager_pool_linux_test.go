package runtime

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// cachedPages counts the pages of the file at path that are in the page
// cache (mincore on a fresh mapping, which itself touches nothing).
func cachedPages(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	page := os.Getpagesize()
	vec := make([]byte, (len(m)+page-1)/page)
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Skipf("mincore: %v", errno)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n
}

// TestPreadSlotsLeaveNoPageCache reads experts into slots with plain
// pread: each read goes through the page cache (seen with mincore before
// the drop), and after it not one page of the file is left there — not
// the expert's, nor read ahead past it — so a cap counting the page cache
// charges the process its slots only.
func TestPreadSlotsLeaveNoPageCache(t *testing.T) {
	dir := t.TempDir()
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil || fs.Type == unix.TMPFS_MAGIC {
		t.Skipf("%s: tmpfs keeps its pages in memory (statfs %v)", dir, err)
	}
	path := filepath.Join(dir, "experts.bin")
	data := make([]byte, 2<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	// Unaligned ranges of two experts, with gaps the reads must not fill;
	// the second expert's first range follows the first expert's last, a
	// sequential read the kernel would read ahead of (read_ahead_kb past
	// the range) unless told the reads are random.
	ranges := [][3]byteRange{
		{{5000, 70000}, {300000, 70001}, {600000, 69999}},
		{{669999, 70000}, {400000, 65536}, {1 << 20, 300000}},
	}
	var mu sync.Mutex
	q, err := newSlotPool(path, ranges, 0, 1, false, &mu)
	if err != nil {
		t.Fatal(err)
	}
	defer q.close()
	w, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Sync(); err == nil {
		err = unix.Fadvise(int(w.Fd()), 0, 0, unix.FADV_DONTNEED)
	}
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if n := cachedPages(t, path); n != 0 {
		t.Skipf("%d pages of the file stay cached after dropping them: the page cache cannot be observed here", n)
	}
	for id, rs := range ranges {
		if err := q.read(id, id, rs); err != nil {
			t.Fatal(err)
		}
		cached := cachedPages(t, path)
		if cached == 0 {
			t.Skip("a plain read left no page in the cache: mincore does not see it here")
		}
		if err := q.uncache(rs); err != nil {
			t.Fatal(err)
		}
		after := cachedPages(t, path)
		t.Logf("expert %d: %d pages cached after its read, %d after the drop", id, cached, after)
		if after != 0 {
			t.Errorf("expert %d: %d pages of the file cached after its read and drop, want 0", id, after)
		}
		for j, r := range rs {
			if got, want := q.data(id, id, j, r.n), data[r.off:r.off+r.n]; !bytes.Equal(got, want) {
				t.Errorf("expert %d range %d: the slot differs from the file", id, j)
			}
		}
	}
}
