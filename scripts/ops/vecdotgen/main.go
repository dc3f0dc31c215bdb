// Command vecdotgen writes testdata/ops/vecdot.bin.gz: for every quantized
// weight type of ops/asm, weight rows with activation rows and what ggml
// makes of them — the activation quantized by ggml-cpu's from_float of the
// type's vec_dot_type and the vec_dot result — as computed by the qref tool
// linked against an AVX2 build of llama.cpp (built elsewhere; this program
// only runs it):
//
//	go run ./scripts/ops/vecdotgen -qref /path/to/qref
//
// qref reads one weight row and N float32 activations on stdin
// (`qref vecdot TYPE N ACTOUT`), writes the quantized activations to ACTOUT
// and prints the dot product; `qref TYPE N` quantizes floats as
// llama-quantize does. The weights are both such quantized rows and random
// bytes with finite fp16 scales, so that every bit of the layouts is
// exercised.
//
// File format, little-endian: "VDG1", then records of
// [u8 len][type name][u32 n][u32 len][weight row][n float32][u32 len][activations][u32 result bits].
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

type typeInfo struct {
	name         string // ggml's name, as qref takes it
	block, bytes int
	scales       []int // offsets of fp16 scales in a block
}

var types = []typeInfo{
	{"q8_0", 32, 34, []int{0}},
	{"q4_0", 32, 18, []int{0}},
	{"q4_1", 32, 20, []int{0, 2}},
	{"q5_0", 32, 22, []int{0}},
	{"q5_1", 32, 24, []int{0, 2}},
	{"iq4_nl", 32, 18, []int{0}},
	{"q2_K", 256, 84, []int{80, 82}},
	{"q3_K", 256, 110, []int{108}},
	{"q4_K", 256, 144, []int{0, 2}},
	{"q5_K", 256, 176, []int{0, 2}},
	{"q6_K", 256, 210, []int{208}},
	{"iq4_xs", 256, 136, []int{0}},
}

func main() {
	qref := flag.String("qref", "/work/peers/bin/qref", "the qref tool")
	out := flag.String("out", "testdata/ops/vecdot.bin.gz", "output file")
	flag.Parse()
	r := rand.New(rand.NewPCG(2026, 11))
	var buf bytes.Buffer
	buf.WriteString("VDG1")
	records := 0
	for _, t := range types {
		for c := range 8 {
			n := t.block * []int{1, 3, 25, 4, 3, 2, 3, 1}[c]
			if t.block == 256 {
				n = t.block * []int{1, 3, 2, 4, 3, 2, 3, 1}[c]
			}
			var w []byte
			if c%2 == 0 {
				w = quantize(*qref, t, randFloats(r, n, 0.05, c))
			} else {
				w = randomRow(r, t, n)
			}
			x := randFloats(r, n, 1, c)
			if c == 4 {
				x = ties(n)
			}
			act, dot := vecdot(*qref, t, w, x)
			writeRecord(&buf, t.name, n, w, x, act, dot)
			records++
		}
	}
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	zw.Write(buf.Bytes())
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, z.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d records, %d bytes\n", *out, records, z.Len())
}

// randFloats returns n values of varied magnitude; case 6 adds outliers.
func randFloats(r *rand.Rand, n int, scale float64, c int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(scale * r.NormFloat64() * math.Exp(0.7*r.NormFloat64()))
		if c == 6 && r.IntN(50) == 0 {
			x[i] *= 40
		}
	}
	return x
}

// ties returns blocks whose largest magnitude is 127, so that the
// activation scale is 1 and values land on, just below and above halves.
func ties(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		switch {
		case i%32 == 0:
			x[i] = 127
		case i%3 == 0:
			x[i] = float32(i%200-100) + 0.5
		case i%3 == 1:
			x[i] = math.Nextafter32(float32(i%200-100)+0.5, 200)
		default:
			x[i] = math.Nextafter32(float32(i%200-100)+0.5, -200)
		}
	}
	return x
}

// randomRow returns n values' worth of random blocks with finite fp16
// scales (some negative, some zero).
func randomRow(r *rand.Rand, t typeInfo, n int) []byte {
	b := make([]byte, n/t.block*t.bytes)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	for blk := 0; blk < n/t.block; blk++ {
		for _, o := range t.scales {
			v := float32(r.NormFloat64() * 0.01)
			if r.IntN(10) == 0 {
				v = 0
			}
			binary.LittleEndian.PutUint16(b[blk*t.bytes+o:], f16bits(v))
		}
	}
	return b
}

// f16bits rounds v (small and normal) to IEEE half precision.
func f16bits(v float32) uint16 {
	if v == 0 {
		return 0
	}
	bits := math.Float32bits(v)
	sign := uint16(bits>>16) & 0x8000
	exp := int(bits>>23&0xff) - 127 + 15
	mant := bits & 0x7fffff
	if exp <= 0 {
		return sign // flush tiny values to zero: scales here are never that small
	}
	h := uint32(exp)<<10 | mant>>13
	if rem := mant & 0x1fff; rem > 0x1000 || rem == 0x1000 && h&1 == 1 {
		h++
	}
	return sign | uint16(h)
}

func quantize(qref string, t typeInfo, x []float32) []byte {
	cmd := exec.Command(qref, t.name, strconv.Itoa(len(x)))
	cmd.Stdin = bytes.NewReader(floatBytes(x))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		log.Fatalf("qref %s: %v: %s", t.name, err, stderr.String())
	}
	return out
}

func vecdot(qref string, t typeInfo, w []byte, x []float32) ([]byte, uint32) {
	f, err := os.CreateTemp("", "vecdot-act")
	if err != nil {
		log.Fatal(err)
	}
	f.Close()
	defer os.Remove(f.Name())
	cmd := exec.Command(qref, "vecdot", t.name, strconv.Itoa(len(x)), f.Name())
	cmd.Stdin = bytes.NewReader(append(append([]byte(nil), w...), floatBytes(x)...))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		log.Fatalf("qref vecdot %s: %v: %s", t.name, err, stderr.String())
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 32)
	if err != nil {
		log.Fatalf("qref vecdot %s: output %q: %v", t.name, out, err)
	}
	act, err := os.ReadFile(f.Name())
	if err != nil {
		log.Fatal(err)
	}
	return act, math.Float32bits(float32(v))
}

func floatBytes(x []float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func writeRecord(buf *bytes.Buffer, name string, n int, w []byte, x []float32, act []byte, dot uint32) {
	u32 := func(v uint32) { binary.Write(buf, binary.LittleEndian, v) }
	buf.WriteByte(byte(len(name)))
	buf.WriteString(name)
	u32(uint32(n))
	u32(uint32(len(w)))
	buf.Write(w)
	buf.Write(floatBytes(x))
	u32(uint32(len(act)))
	buf.Write(act)
	u32(dot)
}
