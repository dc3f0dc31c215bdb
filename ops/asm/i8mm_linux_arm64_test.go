//go:build !purego

package asm

import (
	"encoding/binary"
	"os"
	"testing"
)

// The kernel is registered exactly when the kernel's hardware capability
// bits say the CPU has SDOT (HWCAP_ASIMDDP) and SMMLA (HWCAP2_I8MM), read
// here from /proc/self/auxv rather than through cpuid: under
// qemu-aarch64 -cpu max both are set and the kernel must be there, under
// -cpu cortex-a76 (the Pi 5's core: SDOT, no I8MM) it must not.
func TestNEONI8MMRegisteredExactlyWithI8MM(t *testing.T) {
	auxv, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		t.Skipf("no auxiliary vector: %v", err)
	}
	const atHWCAP, atHWCAP2 = 16, 26
	var hwcap, hwcap2 uint64
	for ; len(auxv) >= 16; auxv = auxv[16:] {
		switch binary.LittleEndian.Uint64(auxv) {
		case atHWCAP:
			hwcap = binary.LittleEndian.Uint64(auxv[8:])
		case atHWCAP2:
			hwcap2 = binary.LittleEndian.Uint64(auxv[8:])
		}
	}
	dotprod, i8mm := hwcap&(1<<20) != 0, hwcap2&(1<<13) != 0
	_, have := Lookup("neon-i8mm")
	if have != (dotprod && i8mm) {
		t.Errorf("neon-i8mm registered %v, but the CPU has SDOT %v and I8MM %v (kernels %v)", have, dotprod, i8mm, Kernels())
	}
	if have && Active().Name != "neon-i8mm" {
		t.Errorf("active kernel %s, want neon-i8mm, the preferred one where it runs", Active().Name)
	}
	t.Logf("SDOT %v, I8MM %v: kernels %v", dotprod, i8mm, Kernels())
}
