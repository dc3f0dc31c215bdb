//go:build unix

package format

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestOpenRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "model.fifo")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.gguf")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, path, want string }{
		{"named pipe", fifo, "named pipe"},
		{"symlink to a named pipe", link, "named pipe"},
		{"directory", dir, "directory"},
		{"character device", "/dev/null", "character device"},
	} {
		done := make(chan error, 1)
		go func() {
			f, err := Open(c.path)
			if err == nil {
				f.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.path) {
				t.Errorf("%s: error %v, want one naming %s and saying %q", c.name, err, c.path, c.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: Open blocked", c.name)
		}
	}
}

// TestParseOfAMappingTruncatedUnderItIsAnError maps a file, truncates it
// to nothing and parses the mapping: the fault (SIGBUS) becomes an error.
func TestParseOfAMappingTruncatedUnderItIsAnError(t *testing.T) {
	skipUnderQEMU(t, "SIGBUS arrives with address 0")
	f, _ := expertFile(t)
	path := f.Path
	fd, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := unix.Mmap(int(fd.Fd()), 0, len(f.Mapping()), unix.PROT_READ, unix.MAP_SHARED)
	fd.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(data)
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := parseMapped(path, data); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("parsing a truncated mapping: %v", err)
	}
}
