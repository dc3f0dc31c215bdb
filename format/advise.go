package format

import "fmt"

// Advice is a hint to the operating system about a byte range of the
// file's mapping. Advice never changes the bytes a reader sees: the mapping
// is read-only and shared, so dropped pages are read again (from the page
// cache, or from disk) when next touched.
type Advice int

const (
	// WillNeed asks for the range to be read ahead into memory. It returns
	// at once; the reading happens in the background.
	WillNeed Advice = iota + 1
	// DontNeed drops the range's pages from the process's resident set.
	DontNeed
)

// String names the advice.
func (a Advice) String() string {
	switch a {
	case WillNeed:
		return "willneed"
	case DontNeed:
		return "dontneed"
	}
	return fmt.Sprintf("Advice(%d)", int(a))
}

// adviseSpan returns the page-aligned part of the mapping [lo, hi) that
// advice a about file bytes [off, off+n) applies to: WillNeed covers every
// page the range touches, DontNeed only pages wholly inside it, so that
// pages shared with neighbouring data are never dropped. The span is empty
// when nothing is to be done.
func adviseSpan(off, n, size, page uint64, a Advice) (lo, hi uint64) {
	end := off + n
	switch a {
	case WillNeed:
		lo, hi = off/page*page, min((end+page-1)/page*page, size)
	case DontNeed:
		lo, hi = (off+page-1)/page*page, end/page*page
	}
	if hi <= lo {
		return 0, 0
	}
	return lo, hi
}

// checkAdvice validates the arguments of Advise and Resident.
func (f *File) checkAdvice(off, n uint64, a Advice) error {
	if a != WillNeed && a != DontNeed {
		return fmt.Errorf("%s: unknown advice %d", f.where(), int(a))
	}
	return f.checkRange(off, n)
}

// checkRange reports a range that does not lie inside the file.
func (f *File) checkRange(off, n uint64) error {
	if end := off + n; end < off || end > uint64(len(f.data)) {
		return fmt.Errorf("%s: range [%d, %d+%d) outside the file of %d bytes", f.where(), off, off, n, len(f.data))
	}
	return nil
}
