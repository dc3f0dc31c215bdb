package runtime_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/q3m/q3m/runtime"
	"github.com/q3m/q3m/synth"
	"golang.org/x/sys/unix"
)

// pagerSpec has experts of 34 pages per tensor in Q8_0: 2 layers of 64,
// 53 MiB of experts beside under 2 MiB of other weights.
func pagerSpec() synth.Spec {
	return synth.Spec{
		Vocab: 512, Hidden: 512, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 64,
		Experts: 64, ExpertsUsed: 8, ExpertFFN: 256, MaxPos: 256,
		NormTopKProb: true, RopeTheta: 10000, DType: "bf16", Seed: 21,
	}
}

// dropPageCache evicts the file from the page cache, so that it is read
// back as a file on disk is, in pages of up to 64 KiB. Left as the writer
// cached it, a fresh file sits in folios of up to 2 MiB, and since Linux
// 6.18 touching one byte maps its whole folio: the resident set then grows
// in steps several times the size of this test's experts.
func dropPageCache(t *testing.T, path string) {
	t.Helper()
	fd, err := os.Open(path)
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
}

func TestExpertBudgetBoundsTheResidentSet(t *testing.T) {
	if _, err := os.Stat("/proc/self/smaps"); err != nil {
		t.Skipf("no smaps: %v", err)
	}
	path := convertSpec(t, pagerSpec())
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	exps, nExps := expertBytes(t, path)
	nonExpert := st.Size() - exps
	const budget = 4 << 20 // the 8 experts of a token are 3.2 MiB
	decode := func(opt runtime.LoadOptions) (rss int64, logits []float32, stats runtime.PagerStats) {
		dropPageCache(t, path)
		m, err := runtime.LoadWith(path, opt)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		logits = pagerLogits(t, m)
		n, err := m.File().MappedRSS()
		if err != nil {
			t.Fatal(err)
		}
		return int64(n), logits, m.PagerStats()
	}
	rssB, logitsB, stats := decode(runtime.LoadOptions{ExpertIO: runtime.IOMmap, ExpertBudget: budget})
	rssU, logitsU, _ := decode(runtime.LoadOptions{})
	rssN, logitsN, _ := decode(runtime.LoadOptions{NoPager: true})
	// Slack: the kernel maps up to 64 KiB around a faulting page, so each
	// expert tensor's edges and each resident expert range's neighbours
	// may hold a partial window.
	slack := int64(nExps)*64<<10 + int64(3*stats.Resident)*2*64<<10
	bound := budget + nonExpert + slack
	t.Logf("mapping rss: %d KiB with a %d KiB budget (bound %d KiB: %d KiB of other weights), %d KiB without budget, %d KiB without pager; stats %+v",
		rssB>>10, budget>>10, bound>>10, nonExpert>>10, rssU>>10, rssN>>10, stats)
	if rssB > bound {
		t.Errorf("resident %d KiB with a budget of %d KiB, above the bound of %d KiB", rssB>>10, budget>>10, bound>>10)
	}
	if rssU <= bound {
		t.Errorf("resident %d KiB without budget: not above the budgeted bound %d KiB, so the test shows nothing", rssU>>10, bound>>10)
	}
	if stats.ResidentBytes > budget || stats.Evictions == 0 {
		t.Errorf("pager counts %d resident bytes for a budget of %d, %d evictions", stats.ResidentBytes, budget, stats.Evictions)
	}
	for name, l := range map[string][]float32{"with budget": logitsB, "without budget": logitsU} {
		if i := sameBits(l, logitsN); i >= 0 {
			t.Errorf("%s: logits differ from the run without a pager at value %d", name, i)
		}
	}
}

// TestPagerStatsReportWhatIsInMemory drops the file's unmapped pages
// after a budgeted run: the pager's books still count its budget's worth
// of experts, and the measured bytes in memory must fall to about those
// (the pages the process still maps), where without a budget they stay.
func TestPagerStatsReportWhatIsInMemory(t *testing.T) {
	path := convertSpec(t, pagerSpec())
	exps, _ := expertBytes(t, path)
	const budget = 4 << 20
	for _, c := range []struct {
		name   string
		budget int64
	}{{"budget", budget}, {"no budget", 0}} {
		dropPageCache(t, path)
		m := loadWith(t, path, runtime.LoadOptions{ExpertIO: runtime.IOMmap, ExpertBudget: c.budget, NoAutoBudget: true})
		// Loading reads around the weights it faults in: observed 12 MiB
		// of the 51 MiB of experts in memory before any token.
		before := m.PagerStats()
		pagerLogits(t, m)
		run := m.PagerStats()
		if before.InMemoryBytes >= run.InMemoryBytes {
			t.Errorf("%s: %d expert bytes in memory before any token, %d after", c.name, before.InMemoryBytes, run.InMemoryBytes)
		}
		dropPageCache(t, path)
		after := m.PagerStats()
		t.Logf("%s: books %d experts %d KiB; in memory after the run %d experts %d KiB, after dropping the unmapped pages %d experts %d KiB",
			c.name, after.Resident, after.ResidentBytes>>10, run.InMemory, run.InMemoryBytes>>10, after.InMemory, after.InMemoryBytes>>10)
		if run.InMemoryBytes < run.ResidentBytes || run.InMemoryBytes > exps || after.InMemory > after.Resident {
			t.Errorf("%s: %d bytes in memory after the run for %d in the books, %d in all", c.name, run.InMemoryBytes, run.ResidentBytes, exps)
		}
		// Slack: a resident expert's neighbours share its 64 KiB fault-around windows.
		slack := int64(after.Resident) * 3 * 2 * 64 << 10
		if c.budget > 0 && after.InMemoryBytes > after.ResidentBytes+slack {
			t.Errorf("%s: %d bytes in memory after dropping the unmapped pages, above the %d the pager holds (+%d)", c.name, after.InMemoryBytes, after.ResidentBytes, slack)
		}
		if c.budget == 0 && after.InMemoryBytes < after.ResidentBytes {
			t.Errorf("%s: %d bytes in memory after the drop, below the %d mapped", c.name, after.InMemoryBytes, after.ResidentBytes)
		}
	}
}

// vmLocked reads VmLck, the process's locked memory, from /proc/self/status.
func vmLocked(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmLck:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err != nil {
				t.Fatalf("VmLck %q: %v", rest, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmLck in /proc/self/status")
	return 0
}

// TestBudgetLocksTheOtherWeightsOrSaysWhy: under a budget the weights
// other than experts are locked — the kernel's VmLck grows by what the
// stats report, at least their bytes — or the stats say why not; without a
// budget nothing is locked.
func TestBudgetLocksTheOtherWeightsOrSaysWhy(t *testing.T) {
	path := convertSpec(t, pagerSpec())
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	exps, _ := expertBytes(t, path)
	before := vmLocked(t)
	m := loadWith(t, path, runtime.LoadOptions{ExpertIO: runtime.IOMmap, ExpertBudget: 4 << 20})
	ps := m.PagerStats()
	grew := vmLocked(t) - before
	t.Logf("locked %d bytes (VmLck +%d) of %d other bytes; error %q", ps.LockedBytes, grew, st.Size()-exps, ps.LockError)
	switch {
	case ps.LockError != "":
		if grew != ps.LockedBytes {
			t.Errorf("stats say %d bytes locked, VmLck grew by %d", ps.LockedBytes, grew)
		}
	case ps.LockedBytes < st.Size()-exps-int64(m.File().DataOffset) || grew != ps.LockedBytes:
		t.Errorf("stats say %d bytes locked without error, VmLck grew by %d, the other weights are %d bytes", ps.LockedBytes, grew, st.Size()-exps)
	}
	m.Close()
	if after := vmLocked(t); after != before {
		t.Errorf("VmLck %d after Close, %d before the load", after, before)
	}
	if ps := loadWith(t, path, runtime.LoadOptions{}).PagerStats(); ps.LockedBytes != 0 || ps.LockError != "" {
		t.Errorf("without a budget: %d bytes locked, error %q", ps.LockedBytes, ps.LockError)
	}
}
