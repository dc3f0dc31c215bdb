package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/q3m/q3m/convert"
)

// output is a file that a command writes for --out or -o. It is written in
// a private temporary directory beside its path and renamed over the path
// only when complete, so that an error, a signal or a crash never leaves a
// half-written file nor touches what the path held before. Every command
// that writes a file goes through createOutput.
type output struct {
	flag   string   // the flag that named it, for messages
	path   string   // where it goes
	dir    string   // the private temporary directory
	temp   string   // the file to write: dir/<base of path>
	inputs []string // files it must not replace, checked again at commit
	forget func()   // unregisters the removal at a second signal
}

// createOutput checks, before any work, that path may be replaced (see
// convert.CheckOutput: not one of inputs, not a directory, device, FIFO,
// socket, symbolic link or read-only file) and that its directory takes
// new files, and returns the output to write.
func createOutput(ctx context.Context, flag, path string, inputs ...string) (*output, error) {
	if err := convert.CheckOutput(path, inputs...); err != nil {
		return nil, fmt.Errorf("--%s: %w", flag, err)
	}
	dir, err := os.MkdirTemp(filepath.Dir(path), "."+filepath.Base(path)+".q3m-*")
	if err != nil {
		return nil, fmt.Errorf("--%s %s: cannot write in its directory: %w", flag, path, err)
	}
	o := &output{flag: flag, path: path, dir: dir, temp: filepath.Join(dir, filepath.Base(path)), inputs: inputs}
	o.forget = atExit(ctx, func() { os.RemoveAll(dir) })
	return o, nil
}

// commit renames the written file over the path, checking the path again
// (it may have changed during the work), and removes the temporary
// directory.
func (o *output) commit() error {
	defer o.discard()
	if err := convert.CheckOutput(o.path, o.inputs...); err != nil {
		return fmt.Errorf("--%s: %w", o.flag, err)
	}
	if err := os.Rename(o.temp, o.path); err != nil {
		return fmt.Errorf("--%s: %w", o.flag, err)
	}
	return nil
}

// discard removes the temporary directory and what it holds; after commit
// it only removes the empty directory.
func (o *output) discard() {
	os.RemoveAll(o.dir)
	o.forget()
}
