package sysmem_test

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/q3m/q3m/sysmem"
)

// procMajflt reads majflt, field 12 of /proc/self/stat (after the command
// name, which is in parentheses and may hold spaces).
func procMajflt(t *testing.T) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	n, err := strconv.ParseUint(fields[9], 10, 64) // fields[0] is field 3, state
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMajorFaultsAgreeWithProcStat(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/self/stat is Linux's")
	}
	lo := procMajflt(t)
	got, err := sysmem.MajorFaults()
	if err != nil {
		t.Fatal(err)
	}
	hi := procMajflt(t)
	if hi == 0 && got > 0 {
		// qemu-user (CI's arm64 stage) emulates /proc/self/stat with no
		// fault counts while getrusage reports the host's.
		t.Skipf("/proc/self/stat counts no major faults where getrusage counts %d: an emulated /proc", got)
	}
	if got < lo || got > hi {
		t.Errorf("MajorFaults %d, /proc/self/stat says %d before and %d after", got, lo, hi)
	}
}

func TestLockPinsASmallBufferOrSaysWhy(t *testing.T) {
	limit, err := sysmem.LockLimit()
	if err != nil {
		t.Skipf("no lock limit here: %v", err)
	}
	b := make([]byte, sysmem.PageSize())
	err = sysmem.Lock(b)
	t.Logf("RLIMIT_MEMLOCK %d; locking one page: %v", limit, err)
	if err != nil && limit >= uint64(4*len(b)) {
		t.Errorf("locking one page under a limit of %d bytes failed: %v", limit, err)
	}
}
