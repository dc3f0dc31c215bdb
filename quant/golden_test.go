package quant

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// goldenDir holds ggml's own output for rows of each type, written by
// scripts/quant/gen (which runs llama.cpp's ggml through the qref tool).
const goldenDir = "../testdata/quant"

// goldenMagic starts every golden file (see scripts/quant/gen).
const goldenMagic = "q3m quant golden v1\n"

// A goldenCase is one row: its input, the bytes ggml's quantizer wrote for
// it (the path llama-quantize takes without an importance matrix), and the
// floats ggml's dequantizer read back from those bytes (absent when ggml
// has no dequantizer for the type). Cases whose input is nil hold bytes
// that are not quantizer output (random blocks) and test dequantization.
type goldenCase struct {
	name  string
	input []float32
	bytes []byte
	deq   []float32
}

// readGolden reads testdata/quant/<type>.gold.gz.
func readGolden(t *testing.T, typ Type) []goldenCase {
	t.Helper()
	path := filepath.Join(goldenDir, strings.ToLower(typ.String())+".gold.gz")
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (make the goldens with scripts/quant/gen)", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	cases, err := parseGolden(bufio.NewReader(zr))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return cases
}

func parseGolden(r io.Reader) ([]goldenCase, error) {
	magic := make([]byte, len(goldenMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != goldenMagic {
		return nil, fmt.Errorf("not a golden file (%q, %v)", magic, err)
	}
	u32 := func() (uint32, error) {
		var b [4]byte
		_, err := io.ReadFull(r, b[:])
		return binary.LittleEndian.Uint32(b[:]), err
	}
	chunk := func(max uint32) ([]byte, error) {
		n, err := u32()
		if err != nil {
			return nil, err
		}
		if n > max {
			return nil, fmt.Errorf("chunk of %d bytes", n)
		}
		b := make([]byte, n)
		_, err = io.ReadFull(r, b)
		return b, err
	}
	floats := func(b []byte) []float32 {
		if len(b) == 0 {
			return nil
		}
		v := make([]float32, len(b)/4)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return v
	}
	var cases []goldenCase
	for {
		name, err := chunk(256)
		if errors.Is(err, io.EOF) && len(cases) > 0 {
			return cases, nil
		}
		if err != nil {
			return nil, fmt.Errorf("case %d: %w", len(cases), err)
		}
		var parts [3][]byte
		for i := range parts {
			if parts[i], err = chunk(1 << 20); err != nil {
				return nil, fmt.Errorf("case %q: %w", name, err)
			}
		}
		cases = append(cases, goldenCase{string(name), floats(parts[0]), parts[1], floats(parts[2])})
	}
}

// goldenTypes are the types whose goldens come from ggml.
var goldenTypes = []Type{Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K, IQ4_NL, IQ4_XS}

func TestGoldensCoverEveryQuantizedType(t *testing.T) {
	for _, typ := range Types() {
		if typ.BlockSize() == 1 {
			continue
		}
		found := false
		for _, g := range goldenTypes {
			found = found || g == typ
		}
		if !found {
			t.Errorf("%s has no golden file", typ)
		}
	}
}

// TestQuantizeMatchesGGML checks that Quantize writes, byte for byte, what
// ggml's quantizer wrote for the same row.
func TestQuantizeMatchesGGML(t *testing.T) {
	for _, typ := range goldenTypes {
		t.Run(typ.String(), func(t *testing.T) {
			n := 0
			for _, c := range readGolden(t, typ) {
				if c.input == nil {
					continue
				}
				n++
				got := make([]byte, len(c.bytes))
				if err := Quantize(typ, got, c.input); err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				if !bytes.Equal(got, c.bytes) {
					bb := typ.BlockBytes()
					for b := 0; b < len(got)/bb; b++ {
						if !bytes.Equal(got[b*bb:(b+1)*bb], c.bytes[b*bb:(b+1)*bb]) {
							bs := typ.BlockSize()
							t.Errorf("%s: block %d differs\ninput %v\n  got %x\n want %x", c.name, b, c.input[b*bs:(b+1)*bs], got[b*bb:(b+1)*bb], c.bytes[b*bb:(b+1)*bb])
							break
						}
					}
				}
			}
			if n < 10 {
				t.Errorf("only %d quantizer cases", n)
			}
		})
	}
}

// TestDequantizeMatchesGGML checks that Dequantize reads ggml's bytes (its
// quantizer's output and random blocks) into the very floats ggml does,
// bit for bit (NaNs only as NaNs).
func TestDequantizeMatchesGGML(t *testing.T) {
	for _, typ := range goldenTypes {
		t.Run(typ.String(), func(t *testing.T) {
			n := 0
			for _, c := range readGolden(t, typ) {
				if c.deq == nil {
					continue
				}
				n++
				got := make([]float32, len(c.deq))
				if err := Dequantize(typ, got, c.bytes); err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				for i := range got {
					// A NaN made by arithmetic (0·Inf) is the hardware's
					// default NaN, negative on x86 and positive on ARM.
					bothNaN := got[i] != got[i] && c.deq[i] != c.deq[i]
					if math.Float32bits(got[i]) != math.Float32bits(c.deq[i]) && !bothNaN {
						t.Errorf("%s: value %d = %v (%#x), ggml %v (%#x)", c.name, i, got[i], math.Float32bits(got[i]), c.deq[i], math.Float32bits(c.deq[i]))
						break
					}
				}
			}
			if n < 10 && typ != Q8_1 {
				t.Errorf("only %d dequantizer cases", n)
			}
		})
	}
}

// TestQ8_1DequantizeIsQ8_0s checks Q8_1 blocks (ggml has no dequantizer
// for them) against the Q8_0 blocks with the same d and quants, whose
// dequantization matches ggml's.
func TestQ8_1DequantizeIsQ8_0s(t *testing.T) {
	for _, c := range readGolden(t, Q8_1) {
		nb := len(c.bytes) / 36
		q8_0 := make([]byte, 0, nb*34)
		for b := range nb {
			blk := c.bytes[b*36 : (b+1)*36]
			q8_0 = append(append(q8_0, blk[:2]...), blk[4:]...)
		}
		got, want := make([]float32, nb*32), make([]float32, nb*32)
		if err := Dequantize(Q8_1, got, c.bytes); err != nil {
			t.Fatal(err)
		}
		if err := Dequantize(Q8_0, want, q8_0); err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
				t.Fatalf("%s: value %d = %v, Q8_0 reads %v", c.name, i, got[i], want[i])
			}
		}
	}
}
