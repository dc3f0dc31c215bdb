package format

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// mappingRss is f.MappedRSS, failing the test on error.
func mappingRss(t *testing.T, f *File) uint64 {
	t.Helper()
	n, err := f.MappedRSS()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// touch reads the first byte of every page of b and returns their sum.
// Callers compare the sum with the bytes they wrote, so that the reads
// are used and the compiler cannot drop them.
func touch(b []byte) (sum int) {
	for i := 0; i < len(b); i += 4096 {
		sum += int(b[i])
	}
	return sum
}

// expertSum is what touch returns for the data of expertFile's experts
// [lo, hi]: four pages each, each page starting with the expert number.
func expertSum(lo, hi int) (sum int) {
	for e := lo; e <= hi; e++ {
		sum += 4 * e
	}
	return sum
}

// dropPages evicts the whole file from memory and checks that none of
// [off, off+n) is left: DontNeed gives up the mapping's hold on the pages,
// then the file is synced (dirty pages cannot be evicted) and
// POSIX_FADV_DONTNEED drops the clean pages from the page cache. The whole
// file, because the page cache may hold it in large folios that span the
// header, which parsing touched, and the tensor data. The tests that follow
// start from a known state.
func dropPages(t *testing.T, f *File, off, n uint64) {
	t.Helper()
	var fs unix.Statfs_t
	if err := unix.Statfs(filepath.Dir(f.Path), &fs); err == nil && fs.Type == unix.TMPFS_MAGIC {
		t.Skipf("%s is on tmpfs, whose pages cannot leave memory; set TMPDIR to a disk", f.Path)
	}
	if err := f.Advise(0, uint64(len(f.Mapping())), DontNeed); err != nil {
		t.Fatal(err)
	}
	fd, err := os.Open(f.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.Close()
	if err := fd.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := unix.Fadvise(int(fd.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
	if got, err := f.Resident(off, n); err != nil || got != 0 {
		t.Fatalf("%d of %d bytes still resident after dropping them (%v)", got, n, err)
	}
}

// waitResident polls Resident until want bytes of [off, off+n) are in
// memory or the time runs out, and returns the last count.
func waitResident(t *testing.T, f *File, off, n, want uint64, limit time.Duration) uint64 {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		got, err := f.Resident(off, n)
		if err != nil {
			t.Fatal(err)
		}
		if got == want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(time.Millisecond)
	}
}

func TestDontNeedDropsPagesFromTheResidentSet(t *testing.T) {
	f, ti := expertFile(t)
	if sum := touch(f.Data(ti)); sum != expertSum(0, 7) {
		t.Fatalf("the experts' pages sum to %d, want %d", sum, expertSum(0, 7))
	}
	before := mappingRss(t, f)
	// Experts 2…5 (16 pages) are dropped; their neighbours stay.
	off, _, _ := f.ExpertRange(ti, 2)
	end, n, _ := f.ExpertRange(ti, 5)
	if err := f.Advise(off, end+n-off, DontNeed); err != nil {
		t.Fatal(err)
	}
	after := mappingRss(t, f)
	if before-after < 4*16384 || after == 0 {
		t.Errorf("resident bytes %d before, %d after dropping 64 KiB", before, after)
	}
	// Touching them again brings the same bytes back.
	for e := 2; e <= 5; e++ {
		d, _ := f.ExpertData(ti, e)
		if got := fmt.Sprint(d[0], d[len(d)-4]); got != fmt.Sprint(byte(e), byte(e)) {
			t.Errorf("expert %d reads %s after being dropped", e, got)
		}
	}
	if again := mappingRss(t, f); again <= after {
		t.Errorf("resident bytes %d after touching again, %d before", again, after)
	}
}

func TestResidentCountsPagesReadThroughTheMapping(t *testing.T) {
	f, ti := expertFile(t)
	off, n, _ := f.ExpertRange(ti, 1)
	dropPages(t, f, off, n)
	d, _ := f.ExpertData(ti, 1)
	if sum := touch(d); sum != expertSum(1, 1) {
		t.Fatalf("expert 1's pages sum to %d, want %d", sum, expertSum(1, 1))
	}
	for _, c := range []struct {
		name   string
		off, n uint64
	}{
		{"the whole expert", off, n},
		{"an unaligned part", off + 10, n - 20},
		{"one byte", off + n - 1, 1},
	} {
		got, err := f.Resident(c.off, c.n)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.n {
			t.Errorf("%s: resident %d of %d bytes just read", c.name, got, c.n)
		}
	}
}

// TestResidentShowsWhatWillNeedReadAhead fails if WillNeed does nothing:
// the pages are dropped first, and nothing else reads them.
func TestResidentShowsWhatWillNeedReadAhead(t *testing.T) {
	skipUnderQEMU(t, "madvise(MADV_WILLNEED) is ignored")
	f, ti := expertFile(t)
	off, _, _ := f.ExpertRange(ti, 3)
	end, n, _ := f.ExpertRange(ti, 6)
	span := end + n - off // experts 3…6: 64 KiB
	dropPages(t, f, off, span)
	if err := f.Advise(off, span, WillNeed); err != nil {
		t.Fatal(err)
	}
	if got := waitResident(t, f, off, span, span, 5*time.Second); got != span {
		t.Errorf("%d of %d bytes resident 5 s after WillNeed", got, span)
	}
}

func TestResidentRejectsRangesOutsideTheFile(t *testing.T) {
	f, _ := expertFile(t)
	size := uint64(len(f.Mapping()))
	for _, c := range []struct {
		name   string
		off, n uint64
	}{
		{"starting at the end", size, 1},
		{"running past the end", size - 1, 2},
		{"overflowing", 1, ^uint64(0)},
	} {
		if _, err := f.Resident(c.off, c.n); err == nil {
			t.Errorf("%s: [%d, +%d) accepted", c.name, c.off, c.n)
		}
	}
}
