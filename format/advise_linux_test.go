package format

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// mappingRss returns the resident bytes of this process's mapping of path,
// from /proc/self/smaps.
func mappingRss(t *testing.T, path string) uint64 {
	t.Helper()
	fd, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no smaps: %v", err)
	}
	defer fd.Close()
	var rss uint64
	in := false
	sc := bufio.NewScanner(fd)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) == 0 {
			continue
		}
		if !strings.HasSuffix(fs[0], ":") || strings.Contains(fs[0], "-") {
			in = len(fs) >= 6 && fs[len(fs)-1] == path
			continue
		}
		if in && fs[0] == "Rss:" && len(fs) >= 2 {
			kb, err := strconv.ParseUint(fs[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			rss += kb << 10
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rss
}

func touch(b []byte) (sum byte) {
	for i := 0; i < len(b); i += 4096 {
		sum += b[i]
	}
	return sum
}

func TestDontNeedDropsPagesFromTheResidentSet(t *testing.T) {
	f, ti := expertFile(t)
	touch(f.Mapping())
	before := mappingRss(t, f.Path)
	// Experts 2…5 (16 pages) are dropped; their neighbours stay.
	off, _, _ := f.ExpertRange(ti, 2)
	end, n, _ := f.ExpertRange(ti, 5)
	if err := f.Advise(off, end+n-off, DontNeed); err != nil {
		t.Fatal(err)
	}
	after := mappingRss(t, f.Path)
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
	if again := mappingRss(t, f.Path); again <= after {
		t.Errorf("resident bytes %d after touching again, %d before", again, after)
	}
}

func TestResidentCountsPagesInMemory(t *testing.T) {
	f, ti := expertFile(t)
	off, n, _ := f.ExpertRange(ti, 1)
	touch(f.Data(ti))
	if err := f.Advise(off, n, WillNeed); err != nil {
		t.Fatal(err)
	}
	// Pages just touched are in memory: all of the expert is resident.
	got, err := f.Resident(off+10, n-20)
	if err != nil {
		t.Fatal(err)
	}
	if got != n-20 {
		t.Errorf("resident %d of %d bytes just read", got, n-20)
	}
	if _, err := f.Resident(uint64(len(f.Mapping())), 1); err == nil {
		t.Error("a range past the end was accepted")
	}
}
