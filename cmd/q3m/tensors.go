package main

import (
	"fmt"

	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/runtime"
)

// The commands that describe a model (info, bench) learn which tensors it
// has from the runtime's tensor table (runtime.Config.Tensors), the one
// description the loader and the configuration's validator also read, not
// from the tensors' names.

// expertTensors returns the tensors of layer that hold stacked experts,
// as the table names them and f holds them.
func expertTensors(f *format.File, c runtime.Config, layer int) ([]format.TensorInfo, error) {
	var out []format.TensorInfo
	for _, s := range c.Tensors() {
		if s.Layer != layer || s.Experts == 0 {
			continue
		}
		t, ok := f.Tensor(s.Name)
		if !ok {
			return nil, fmt.Errorf("%s: no tensor %q", f.Path, s.Name)
		}
		out = append(out, t)
	}
	return out, nil
}

// tokenBytes returns the bytes and parameters one decoded token reads of
// the tensors of the table: k of the E experts of each expert tensor, one
// row of the token embedding (all of it when tied: it is then the output
// matrix too), every other tensor whole. A tensor of the file that the
// table does not list is not read at all.
func tokenBytes(f *format.File, c runtime.Config) (bytes, params uint64, err error) {
	for _, s := range c.Tensors() {
		t, ok := f.Tensor(s.Name)
		if !ok {
			return 0, 0, fmt.Errorf("%s: no tensor %q", f.Path, s.Name)
		}
		b, n := t.Bytes(), t.Elements()
		switch {
		case s.Experts > 0:
			bytes += b / uint64(s.Experts) * uint64(c.ExpertsUsed)
			params += n / uint64(s.Experts) * uint64(c.ExpertsUsed)
		case s.Kind == "token_embd.weight" && !c.Tied:
			bytes += t.RowBytes()
			params += uint64(c.Hidden)
		default:
			bytes += b
			params += n
		}
	}
	return bytes, params, nil
}
