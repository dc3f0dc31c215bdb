package runtime

import (
	"errors"
	"fmt"
	goruntime "runtime"
	"unsafe"
)

// ErrClosed is wrapped by the errors of every use of a Model after Close
// began: NewSession, NewChat, Eval, Send and Stream.
var ErrClosed = errors.New("runtime: model closed")

// ErrModelFault is wrapped by the error of an evaluation that faulted
// reading the model's weights: the file was truncated (or replaced in
// place) while it was mapped. The model cannot be used any further.
var ErrModelFault = errors.New("runtime: memory fault reading the model file; was it truncated or replaced while in use?")

// acquire holds the model open for one evaluation; Close waits for every
// holder to release it. It fails with ErrClosed once Close has begun.
func (m *Model) acquire() error {
	if m.closing.Load() {
		return m.closedError()
	}
	m.life.RLock()
	if m.closing.Load() {
		m.life.RUnlock()
		return m.closedError()
	}
	return nil
}

func (m *Model) release() { m.life.RUnlock() }

func (m *Model) closedError() error { return fmt.Errorf("runtime: %s: %w", m.path, ErrClosed) }

// Close stops the model's worker pools and unmaps the file. Evaluations in
// progress stop at their next batch of tokens with an error wrapping
// ErrClosed, and Close returns once they have; every later use of the model
// or of its sessions and chats fails with ErrClosed. Close may be called
// more than once and from any goroutine.
func (m *Model) Close() error {
	m.closing.Store(true)
	m.life.Lock()
	defer m.life.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	m.mu.Lock()
	for k, p := range m.pools {
		p.Close()
		delete(m.pools, k)
	}
	m.mu.Unlock()
	if m.pager != nil {
		if err := m.pager.close(); err != nil {
			m.file.Close()
			return fmt.Errorf("runtime: %s: expert pager: %w", m.path, err)
		}
	}
	return m.file.Close()
}

// mapping is where a model's file is mapped, to tell a memory fault
// reading it (the file truncated under the mapping: SIGBUS) from a fault
// anywhere else, which stays a crash.
type mapping struct {
	path   string
	lo, hi uintptr
}

func newMapping(path string, data []byte) mapping {
	mp := mapping{path: path}
	if len(data) > 0 {
		mp.lo = uintptr(unsafe.Pointer(unsafe.SliceData(data)))
		mp.hi = mp.lo + uintptr(len(data))
	}
	return mp
}

// fault returns the error for a recovered panic value r when it is a
// memory fault inside the mapping; ok is false for anything else, which
// the caller must panic with again.
func (mp mapping) fault(r any) (err error, ok bool) {
	re, isRuntime := r.(goruntime.Error)
	fa, hasAddr := r.(interface{ Addr() uintptr })
	if !isRuntime || !hasAddr {
		return nil, false
	}
	a := fa.Addr()
	if a < mp.lo || a >= mp.hi {
		return nil, false
	}
	return fmt.Errorf("runtime: %s: byte %d of the file: %v: %w", mp.path, a-mp.lo, re, ErrModelFault), true
}

// recover, deferred by a function that reads the mapping with
// debug.SetPanicOnFault on, turns a fault inside the mapping into *err and
// lets any other panic go on.
func (mp mapping) recover(err *error) {
	if r := recover(); r != nil {
		e, ok := mp.fault(r)
		if !ok {
			panic(r)
		}
		*err = e
	}
}
