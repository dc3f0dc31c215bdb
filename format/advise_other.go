//go:build !unix

package format

// Advise gives the operating system advice a about file bytes [off, off+n).
// Without mmap the file is read into memory, so it only checks the range.
func (f *File) Advise(off, n uint64, a Advice) error {
	return f.checkAdvice(off, n, a)
}
