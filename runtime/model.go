package runtime

import (
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/ops"
	"github.com/q3m/q3m/quant"
	"github.com/q3m/q3m/tokenizer"
)

// Model is a loaded Qwen3-MoE model: a configuration and views of the
// weights of an open file (matrices are read in place from the mapping;
// only norms and biases are copied). It is safe for concurrent use by many
// Sessions, and Close may be called while they run (see Close).
type Model struct {
	file    *format.File
	cfg     Config
	rope    *ropeCache
	embed   ops.Matrix
	output  ops.Matrix // token_embd when tied
	outNorm []float32
	layers  []layer
	pager   *Pager      // nil: residency left to the OS (pager.go)
	head    headWeights // classifier heads (heads.go)

	mu    sync.Mutex
	pools map[int]*ops.Pool // shared by sessions, by thread count

	// Lifetime: evaluations hold life for reading, Close for writing.
	closing atomic.Bool // Close has begun
	life    sync.RWMutex
	closed  bool // under life
	mapping      // the file's memory, for telling its faults apart

	tokOnce sync.Once // builds tok and tokErr on first use
	tok     *tokenizer.Tokenizer
	tokErr  error
}

type layer struct {
	attnNorm, ffnNorm []float32
	q, k, v, o        ops.Matrix
	qb, kb, vb, ob    []float32 // nil without attention bias
	qNorm, kNorm      []float32
	router            ops.Matrix
	gate, up, down    []ops.Matrix // per expert (MoE layer) or one (dense)
	moe               bool
}

// Load opens the model file at path and prepares its weights, with the
// expert pager tracking and prefetching but no memory budget: LoadWith
// with the zero LoadOptions.
func Load(path string) (*Model, error) { return LoadWith(path, LoadOptions{}) }

// newModel reads the weights of f. A fault reading the mapping (the file
// truncated meanwhile) is returned as an error wrapping ErrModelFault.
func newModel(f *format.File) (_ *Model, err error) {
	mp := newMapping(f.Path, f.Mapping())
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer mp.recover(&err)
	c, err := ConfigFromFile(f)
	if err != nil {
		return nil, err
	}
	ld := &loader{f: f}
	m := &Model{file: f, cfg: c, rope: newRopeCache(c), pools: map[int]*ops.Pool{}, mapping: mp}
	m.layers = make([]layer, c.Layers)
	for i := range m.layers {
		m.layers[i].moe = c.MoE(i)
	}
	ld.load(m, c.Tensors())
	if c.Tied {
		m.output = m.embed
	}
	m.head = ld.head(c)
	if ld.err != nil {
		return nil, ld.err
	}
	return m, nil
}

// loader builds weight views, remembering the first error.
type loader struct {
	f   *format.File
	err error
}

func (ld *loader) tensor(s TensorSpec) (format.TensorInfo, []byte) {
	if ld.err != nil {
		return format.TensorInfo{}, nil
	}
	t, err := lookup(ld.f, s)
	if err != nil {
		ld.err = err
		return t, nil
	}
	return t, ld.f.Data(t)
}

// matrix returns the view of a 2-D tensor with GGUF dims {cols, rows}.
func (ld *loader) matrix(name string, cols, rows int) ops.Matrix {
	return ld.matrixOf(TensorSpec{Name: name, Dims: []int{cols, rows}, Matrix: true})
}

// matrixOf returns the view of the 2-D tensor of spec s.
func (ld *loader) matrixOf(s TensorSpec) ops.Matrix {
	name, cols, rows := s.Name, s.Dims[0], s.Dims[1]
	t, data := ld.tensor(s)
	m := ops.Matrix{Type: t.Type, Data: data, Rows: rows, Cols: cols}
	if ld.err == nil {
		if err := m.Validate(); err != nil {
			ld.err = fmt.Errorf("runtime: %s: tensor %q: %w", ld.f.Path, name, err)
		}
	}
	return m
}

// expertsOf returns one view per expert of the 3-D tensor {cols, rows, n}
// of spec s.
func (ld *loader) expertsOf(s TensorSpec) []ops.Matrix {
	name, cols, rows, n := s.Name, s.Dims[0], s.Dims[1], s.Dims[2]
	t, data := ld.tensor(s)
	if ld.err != nil {
		return nil
	}
	size := len(data) / n
	ms := make([]ops.Matrix, n)
	for e := range ms {
		ms[e] = ops.Matrix{Type: t.Type, Data: data[e*size : (e+1)*size : (e+1)*size], Rows: rows, Cols: cols}
		if err := ms[e].Validate(); err != nil {
			ld.err = fmt.Errorf("runtime: %s: tensor %q expert %d: %w", ld.f.Path, name, e, err)
			return nil
		}
	}
	return ms
}

// vector returns a float32 copy of a 1-D tensor of n values.
func (ld *loader) vector(name string, n int) []float32 {
	return ld.vectorOf(TensorSpec{Name: name, Dims: []int{n}})
}

// vectorOf returns a float32 copy of the 1-D tensor of spec s.
func (ld *loader) vectorOf(s TensorSpec) []float32 {
	name, n := s.Name, s.Dims[0]
	t, data := ld.tensor(s)
	if ld.err != nil {
		return nil
	}
	v := make([]float32, n)
	if err := quant.Dequantize(t.Type, v, data); err != nil {
		ld.err = fmt.Errorf("runtime: %s: tensor %q: %w", ld.f.Path, name, err)
	}
	return v
}

// Config returns the model's configuration.
func (m *Model) Config() Config { return m.cfg }

// File returns the model's open file.
func (m *Model) File() *format.File { return m.file }

// pool returns the model's worker pool of the given size, starting it on
// first use. Sessions with the same thread count share one pool.
func (m *Model) pool(threads int) *ops.Pool {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.pools[threads]
	if !ok {
		p = ops.NewPool(threads)
		m.pools[threads] = p
	}
	return p
}
