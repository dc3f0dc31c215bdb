package asm

import (
	"fmt"
	"sync/atomic"

	"github.com/q3m/q3m/quant"
)

// Dots are one kernel's dot products for weights of one type.
//
// For a quantized weight type, X1 returns the dot product of nblocks weight
// blocks at w with nblocks blocks of the type's activation type at x (the
// weight and activation blocks hold the same number of values). X4 and X2,
// when not nil, set out[i] to X1(w, xi, nblocks) bit for bit for four or two
// activation rows, reading each weight block once; when nil, callers loop
// over X1. X8, when not nil, sets out[i] to X1(w, x[i·stride:], nblocks)
// bit for bit for eight activation rows stride bytes apart, reading each
// weight block once.
//
// R4, when not nil, sets out[i] to X1(w[i*stride:], x, nblocks) bit for
// bit for four weight rows stride bytes apart against one activation row,
// reading each activation block once: the decode form (one token).
//
// G8, when not nil, sets out[t] to X1(w, xt, nblocks) bit for bit for the
// eight activation rows xt of the group g written by Group8, reading each
// weight block once: the prefill form of a kernel whose registers hold
// eight tokens side by side. A group of fewer than G8From rows costs more
// than its rows through R4 one at a time, so callers take those that way.
//
// For a float weight type (F32, F16, BF16) activations stay float32 and
// Float returns the dot product of the row w with x over len(x) values.
type Dots struct {
	X1     func(w, x []byte, nblocks int) float32
	X2     func(w, x0, x1 []byte, nblocks int, out *[2]float32)
	X4     func(w, x0, x1, x2, x3 []byte, nblocks int, out *[4]float32)
	R4     func(w []byte, stride int, x []byte, nblocks int, out *[4]float32)
	X8     func(w, x []byte, stride, nblocks int, out *[8]float32)
	G8     func(w, g []byte, nblocks int, out *[8]float32)
	G8From int
	Float  func(w []byte, x []float32) float32
}

// Kernel is one implementation of the hot loops: dot products per weight
// type, and the float32 dot product of attention.
type Kernel struct {
	Name string
	// Dot returns the float32 dot product of a and b over len(a) values.
	Dot  func(a, b []float32) float32
	dots map[quant.Type]Dots // per weight type, own or the generic twin
	own  map[quant.Type]bool // types with this kernel's own implementation
}

// newKernel returns the kernel called name with the dot products own for
// the types it implements and the generic ones for every other type of the
// table.
func newKernel(name string, dot func(a, b []float32) float32, own map[quant.Type]Dots) *Kernel {
	k := &Kernel{Name: name, Dot: dot, dots: make(map[quant.Type]Dots), own: make(map[quant.Type]bool)}
	for t, d := range genericDots {
		k.dots[t] = d
	}
	for t, d := range own {
		if _, ok := table[t]; !ok {
			panic("asm: kernel " + name + " registers type " + t.String() + " missing from the type table")
		}
		k.dots[t] = d
		k.own[t] = true
	}
	return k
}

// Dots returns the kernel's dot products for weights of type t, and false
// if no kernel computes products with t. A kernel without its own
// implementation of t returns the generic one.
func (k *Kernel) Dots(t quant.Type) (Dots, bool) {
	d, ok := k.dots[t]
	return d, ok
}

// Implements reports whether the kernel has its own (not the generic)
// dot products for t.
func (k *Kernel) Implements(t quant.Type) bool { return k.own[t] }

// Generic is the portable Go kernel, available everywhere.
var Generic = newKernel("generic", Dot, genericDots)

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
