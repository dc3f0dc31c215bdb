package runtime

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/q3m/q3m/convert"
	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/quant"
	"github.com/q3m/q3m/synth"
)

func TestSharedBytesCountsThePartialPagesAtEachEnd(t *testing.T) {
	const page = 4096
	for _, c := range []struct {
		name      string
		off, n    uint64
		want      uint64
		wantPages string
	}{
		{"whole pages share nothing", 4096, 8192, 0, ""},
		{"unaligned start shares its first page", 4096 + 32, 8192 - 32, 4096 - 32, ""},
		{"unaligned end shares its last page", 4096, 8192 + 100, 100, ""},
		{"both ends", 100, 3 * 4096, (4096 - 100) + 100, ""},
		{"inside one page: all of it", 4100, 50, 50, ""},
		{"one whole page", 8192, 4096, 0, ""},
		{"two partial pages, no whole one", 4000, 200, 200, ""},
		{"empty", 4000, 0, 0, ""},
	} {
		if got := sharedBytes(c.off, c.n, page); got != c.want {
			t.Errorf("%s: sharedBytes(%d, %d) = %d, want %d", c.name, c.off, c.n, got, c.want)
		}
	}
}

// sharingSpec has 4 experts per layer whose Q8_0 ranges are 17 whole pages
// (256×256 values: 69,632 bytes) and whose router and norms are not, so
// a page-aligned file shares no expert page and a 32-byte aligned one
// shares the first and last page of most ranges.
func sharingSpec() synth.Spec {
	return synth.Spec{
		Vocab: 512, Hidden: 256, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 64,
		Experts: 4, ExpertsUsed: 2, ExpertFFN: 256, MaxPos: 256,
		NormTopKProb: true, RopeTheta: 10000, DType: "bf16", Seed: 41,
	}
}

// alignedFiles converts sharingSpec to Q8_0 (tensors on pages) and rewrites
// it with every tensor aligned to 32 bytes only, as llama.cpp writes them.
func alignedFiles(t *testing.T) (paged, aligned32 string) {
	t.Helper()
	dir := t.TempDir()
	hf := filepath.Join(dir, "hf")
	if err := synth.Write(hf, sharingSpec()); err != nil {
		t.Fatal(err)
	}
	paged = filepath.Join(dir, "paged.gguf")
	if err := convert.Convert(context.Background(), hf, paged, convert.Options{Type: quant.Q8_0, Threads: 2}); err != nil {
		t.Fatal(err)
	}
	f, err := format.Open(paged)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	aligned32 = filepath.Join(dir, "aligned32.gguf")
	w, err := format.Create(aligned32, 32)
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range f.KV {
		if kv.Key != format.KeyAlignment {
			if err := w.AddKV(kv.Key, kv.Value); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Router and norm tensors first, so that the expert tensors start off
	// the page grid.
	for _, t0 := range f.Tensors {
		if err := w.AddTensor(t0.Name, t0.Type, t0.Dims...); err != nil {
			t.Fatal(err)
		}
	}
	for _, t0 := range f.Tensors {
		if _, err := w.Write(f.Data(t0)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return paged, aligned32
}

// ownerCount counts the shared bytes the slow way: it marks every byte of
// the file with the expert range that holds it (or none), then, page by
// page, counts the range bytes of every page holding more than one owner.
func ownerCount(t *testing.T, f *format.File, page int) (shared uint64, ranges int) {
	t.Helper()
	st, err := os.Stat(f.Path)
	if err != nil {
		t.Fatal(err)
	}
	owner := make([]int32, st.Size())
	for i := range owner {
		owner[i] = -1
	}
	for _, ti := range f.Tensors {
		if _, ok := expertTensor(ti); !ok {
			continue
		}
		for e := range int(ti.Dims[2]) {
			off, n, err := f.ExpertRange(ti, e)
			if err != nil {
				t.Fatal(err)
			}
			for i := off; i < off+n; i++ {
				owner[i] = int32(ranges)
			}
			ranges++
		}
	}
	for lo := 0; lo < len(owner); lo += page {
		pg := owner[lo:min(lo+page, len(owner))]
		mixed := len(pg) < page // the file's last page: the rest is beyond the file
		for _, o := range pg {
			mixed = mixed || o != pg[0]
		}
		if !mixed {
			continue
		}
		for _, o := range pg {
			if o >= 0 {
				shared++
			}
		}
	}
	return shared, ranges
}

func TestExpertPageSharingCountsWhatNeighboursShare(t *testing.T) {
	paged, aligned32 := alignedFiles(t)
	const page = 4096
	for _, c := range []struct {
		path       string
		wantShared bool
	}{{paged, false}, {aligned32, true}} {
		f, err := format.Open(c.path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		s, err := ExpertPageSharing(f, page)
		if err != nil {
			t.Fatal(err)
		}
		want, ranges := ownerCount(t, f, page)
		t.Logf("%s (alignment %d): %s", filepath.Base(c.path), f.Alignment, s)
		if s.Ranges != ranges || s.Experts != 2*4 || s.Ranges != 3*s.Experts {
			t.Errorf("%d ranges of %d experts, want %d ranges of 8", s.Ranges, s.Experts, ranges)
		}
		if s.Shared != want {
			t.Errorf("%d shared bytes, counted page by page %d", s.Shared, want)
		}
		if (s.Shared > 0) != c.wantShared {
			t.Errorf("%d shared bytes; want shared: %v", s.Shared, c.wantShared)
		}
		if s.MaxShared > 3*2*page || float64(s.MaxShared) < s.MeanSharedPerExpert() {
			t.Errorf("most shared by one expert %d, mean %.0f: impossible for three ranges", s.MaxShared, s.MeanSharedPerExpert())
		}
	}
}

func TestExpertPageSharingRejectsOddPageSizes(t *testing.T) {
	_, aligned32 := alignedFiles(t)
	f, err := format.Open(aligned32)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, page := range []int{0, -4096, 3000} {
		if _, err := ExpertPageSharing(f, page); err == nil {
			t.Errorf("page size %d accepted", page)
		}
	}
}

// TestPagerKeepsExactRangesOfA32ByteAlignedFile checks that the pager of a
// file aligned like llama.cpp's holds each expert's exact byte range, not
// one rounded to pages: format.File.Advise rounds WillNeed out to every
// page the range touches and DontNeed in to the pages wholly inside it, so
// reading an expert reads its shared end pages and dropping one never drops
// a neighbour's bytes.
func TestPagerKeepsExactRangesOfA32ByteAlignedFile(t *testing.T) {
	_, aligned32 := alignedFiles(t)
	m, err := LoadWith(aligned32, LoadOptions{ExpertBudget: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.pager == nil {
		t.Fatal("no pager")
	}
	unaligned := 0
	for li := range m.cfg.Layers {
		for j, name := range [3]string{"ffn_gate_exps", "ffn_up_exps", "ffn_down_exps"} {
			ti, ok := m.file.Tensor(fmt.Sprintf("blk.%d.%s.weight", li, name))
			if !ok {
				t.Fatalf("no %s", fmt.Sprintf("blk.%d.%s.weight", li, name))
			}
			for e := range m.cfg.Experts {
				off, n, err := m.file.ExpertRange(ti, e)
				if err != nil {
					t.Fatal(err)
				}
				got := m.pager.ranges[li*m.pager.experts+e][j]
				if got.off != off || got.n != n {
					t.Errorf("layer %d %s expert %d: pager range [%d, +%d), file [%d, +%d)", li, name, e, got.off, got.n, off, n)
				}
				if off%4096 != 0 {
					unaligned++
				}
			}
		}
	}
	if unaligned == 0 {
		t.Fatal("every expert range starts on a page: the file does not test 32-byte alignment")
	}
}
