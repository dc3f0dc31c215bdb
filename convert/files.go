package convert

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Size limits of the JSON files of a checkpoint, far above real ones
// (Qwen3's tokenizer.json is 11 MB, a 235B model's index 2 MB), so that a
// wrong file is refused before it is read into memory.
const (
	maxConfigBytes    = 16 << 20  // config.json, tokenizer_config.json, chat_template.jinja
	maxIndexBytes     = 64 << 20  // model.safetensors.index.json
	maxTokenizerBytes = 512 << 20 // tokenizer.json
)

// openRegular opens path for reading if it is a regular file. A named pipe
// is opened without blocking (O_NONBLOCK) and refused, so that a FIFO in a
// checkpoint directory never waits for a writer.
func openRegular(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s is %s, not a regular file", path, describeMode(st.Mode()))
	}
	return f, st, nil
}

// readRegular reads the regular file at path, refusing one larger than
// limit bytes.
func readRegular(path string, limit int64) ([]byte, error) {
	f, st, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, above the limit of %d for this file", path, st.Size(), limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: grew above the limit of %d bytes while being read", path, limit)
	}
	return b, nil
}

// describeMode names the kind of a file that is not a regular one.
func describeMode(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "an irregular file"
}

// CheckOutput returns an error when a new file written at out (to a
// temporary file, then renamed over out) would destroy something: when out
// is one of inputs (the same file under any name, through hard or symbolic
// links), is not a regular file (a directory, device, named pipe or
// socket), is a symbolic link (the rename would replace the link, not the
// file it points to), or is a file the user cannot or must not write
// (no write permission). A missing out passes; whether its directory takes
// new files shows when the temporary file is created.
func CheckOutput(out string, inputs ...string) error {
	lst, err := os.Lstat(out)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("output %s: %w", out, err)
	}
	if lst.Mode()&fs.ModeSymlink != 0 {
		target, _ := os.Readlink(out)
		return fmt.Errorf("output %s is a symbolic link to %s: writing would replace the link, not its target; give the target's path, or remove the link", out, target)
	}
	if !lst.Mode().IsRegular() {
		return fmt.Errorf("output %s is %s, not a regular file", out, describeMode(lst.Mode()))
	}
	for _, in := range inputs {
		if ist, err := os.Stat(in); err == nil && os.SameFile(lst, ist) {
			if filepath.Clean(in) == filepath.Clean(out) {
				return fmt.Errorf("output %s is the input file", out)
			}
			return fmt.Errorf("output %s is the input file %s", out, in)
		}
	}
	if lst.Mode().Perm()&0o222 == 0 || !writable(out) {
		return fmt.Errorf("output %s exists and is read-only for you; it is left as it is", out)
	}
	return nil
}
