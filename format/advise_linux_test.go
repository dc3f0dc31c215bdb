package format

import (
	"fmt"
	"testing"
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

func touch(b []byte) (sum byte) {
	for i := 0; i < len(b); i += 4096 {
		sum += b[i]
	}
	return sum
}

func TestDontNeedDropsPagesFromTheResidentSet(t *testing.T) {
	f, ti := expertFile(t)
	touch(f.Mapping())
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
