//go:build !purego

package asm

import (
	"os"
	"slices"
	"testing"

	"github.com/klauspost/cpuid/v2"
)

// qemuCPUs lists, for the qemu CPU models CI runs the arm64 tests under,
// which optional extensions the CPU has.
var qemuCPUs = map[string]struct{ dotprod, i8mm bool }{
	"cortex-a72": {false, false}, // ARMv8.0: NEON only
	"cortex-a76": {true, false},  // the Pi 5's core: ARMv8.2 with SDOT
	"max":        {true, true},   // everything qemu emulates, as Apple M2 and later have
}

// TestArm64KernelsFollowTheCPU logs the kernels and extensions this CPU
// offers (go test -v shows them in CI's log) and, under qemu with a CPU
// model from qemuCPUs (QEMU_CPU, which qemu-user passes on to the
// program), checks that feature detection found what the model has and
// registered the kernels that go with it.
func TestArm64KernelsFollowTheCPU(t *testing.T) {
	model := os.Getenv("QEMU_CPU")
	t.Logf("QEMU_CPU=%q: kernels %v; dotprod %v, i8mm %v", model, Kernels(),
		cpuid.CPU.Supports(cpuid.ASIMDDP), cpuid.CPU.Supports(cpuid.I8MM))
	if !slices.Contains(Kernels(), "neon") {
		t.Errorf("kernels %v: no neon, which every arm64 CPU has", Kernels())
	}
	want, ok := qemuCPUs[model]
	if !ok {
		return
	}
	if got := cpuid.CPU.Supports(cpuid.ASIMDDP); got != want.dotprod {
		t.Errorf("%s: dotprod detected %v, want %v", model, got, want.dotprod)
	}
	if got := cpuid.CPU.Supports(cpuid.I8MM); got != want.i8mm {
		t.Errorf("%s: i8mm detected %v, want %v", model, got, want.i8mm)
	}
	if got := slices.Contains(Kernels(), "neon-dotprod"); got != want.dotprod {
		t.Errorf("%s: kernels %v, neon-dotprod present %v, want %v", model, Kernels(), got, want.dotprod)
	}
}
