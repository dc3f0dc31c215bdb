package quant

import (
	"os"
	"os/exec"
	"regexp"
	"testing"
)

// TestNoFusedMultiplyAdd compiles this package for arm64, where Go fuses
// x*y+z into one instruction, and checks that it never does here: ggml's
// reference code rounds every product (it is built for baseline x86-64,
// without FMA), and a fused product would change the bytes Quantize
// writes. Explicit float32(...) conversions prevent the fusion. (The same
// listing for ppc64le, s390x, riscv64 and amd64 with GOAMD64=v3 was clean
// when this was written; only arm64 is checked here, whose standard
// library CI has already built.)
func TestNoFusedMultiplyAdd(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the package for arm64")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	fused := regexp.MustCompile(`\bV?FN?M(ADD|SUB)\w*`)
	for _, env := range [][]string{{"GOARCH=arm64"}} {
		cmd := exec.Command(gobin, "build", "-o", os.DevNull, "-gcflags=-S", ".")
		cmd.Env = append(append(os.Environ(), "GOOS=linux", "CGO_ENABLED=0"), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", env, err, out)
		}
		if len(out) < 1000 {
			t.Fatalf("%v: no assembly listing (%q)", env, out)
		}
		if m := fused.FindAll(out, 5); m != nil {
			t.Errorf("%v: fused multiply-add instructions %q", env, m)
		}
	}
}
