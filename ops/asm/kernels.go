package asm

import (
	"fmt"
	"sync/atomic"
)

// Kernel is one implementation of every hot loop. All functions have the
// semantics of their generic twins in this package.
type Kernel struct {
	Name        string
	DotQ8_0     func(w, x []byte, nblocks int) float32
	DotQ4_0Q8_0 func(w, x []byte, nblocks int) float32
	// DotQ8_0x4 and DotQ4_0Q8_0x4 set out[i] to DotQ8_0(w, xi, nblocks)
	// and DotQ4_0Q8_0(w, xi, nblocks) of the same kernel, bit for bit,
	// reading each weight block once for the four activation rows.
	DotQ8_0x4     func(w, x0, x1, x2, x3 []byte, nblocks int, out *[4]float32)
	DotQ4_0Q8_0x4 func(w, x0, x1, x2, x3 []byte, nblocks int, out *[4]float32)
	// DotQ8_0x2 and DotQ4_0Q8_0x2 are the same for two activation rows.
	DotQ8_0x2     func(w, x0, x1 []byte, nblocks int, out *[2]float32)
	DotQ4_0Q8_0x2 func(w, x0, x1 []byte, nblocks int, out *[2]float32)
	DotF32        func(w []byte, x []float32) float32
	DotF16F32     func(w []byte, x []float32) float32
	DotBF16F32    func(w []byte, x []float32) float32
	Dot           func(a, b []float32) float32
}

// Generic is the portable Go kernel, available everywhere.
var Generic = &Kernel{
	Name:          "generic",
	DotQ8_0:       DotQ8_0,
	DotQ4_0Q8_0:   DotQ4_0Q8_0,
	DotQ8_0x4:     DotQ8_0x4,
	DotQ4_0Q8_0x4: DotQ4_0Q8_0x4,
	DotQ8_0x2:     DotQ8_0x2,
	DotQ4_0Q8_0x2: DotQ4_0Q8_0x2,
	DotF32:        DotF32,
	DotF16F32:     DotF16F32,
	DotBF16F32:    DotBF16F32,
	Dot:           Dot,
}

// available lists the kernels this machine can run, best last; active is
// the one in use. archKernels, in the architecture files, returns the
// assembly kernels the CPU supports.
var (
	available = append([]*Kernel{Generic}, archKernels()...)
	active    atomic.Pointer[Kernel]
)

func init() { active.Store(available[len(available)-1]) }

// Kernels returns the names of the kernels this machine can run, the
// portable "generic" first and the preferred one last.
func Kernels() []string {
	names := make([]string, len(available))
	for i, k := range available {
		names[i] = k.Name
	}
	return names
}

// Lookup returns the kernel called name, if this machine can run it.
func Lookup(name string) (*Kernel, bool) {
	for _, k := range available {
		if k.Name == name {
			return k, true
		}
	}
	return nil, false
}

// Active returns the kernel in use.
func Active() *Kernel { return active.Load() }

// Use makes the kernel called name the active one and returns a function
// that restores the previous choice. It is meant for tests and benchmarks.
func Use(name string) (restore func(), err error) {
	k, ok := Lookup(name)
	if !ok {
		return nil, fmt.Errorf("asm: kernel %q not available on this machine (have %v)", name, Kernels())
	}
	prev := active.Swap(k)
	return func() { active.Store(prev) }, nil
}
