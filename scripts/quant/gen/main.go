// Command gen writes the quantization goldens in testdata/quant: for every
// block type, rows of several distributions quantized by ggml itself and
// dequantized back by ggml, and random blocks dequantized by ggml.
//
// It runs the qref tool (a small C program linked against a llama.cpp
// build, made outside this repository): `qref TYPE N` reads float32 rows
// of N values on stdin and writes what ggml_quantize_chunk writes with no
// importance matrix (for the activation types Q8_1 and Q8_K, ggml's
// reference row quantizers); `qref deq TYPE` reads blocks and writes
// ggml's dequantized floats. The inputs are generated here from fixed
// seeds, so the goldens are reproducible.
//
//	go run ./scripts/quant/gen [-qref /path/to/qref] [-out testdata/quant]
//
// File format (little-endian, gzipped): the line "q3m quant golden v1\n",
// then per case four length-prefixed (uint32) chunks: the case name, the
// float32 input (empty for random blocks), the quantized bytes and the
// float32 values ggml dequantizes them to (empty when ggml has no
// dequantizer for the type).
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
	"strings"
)

const magic = "q3m quant golden v1\n"

// A blockType is what the generator needs to know of a type: its block
// size and bytes, and where its scales are (to keep random blocks finite).
type blockType struct {
	name   string
	block  int
	bytes  int
	f16At  []int // offsets of fp16 scales in a block
	f32At  []int // offsets of float32 scales
	hasDeq bool  // ggml has a dequantizer
}

var types = []blockType{
	{"Q4_0", 32, 18, []int{0}, nil, true},
	{"Q4_1", 32, 20, []int{0, 2}, nil, true},
	{"Q5_0", 32, 22, []int{0}, nil, true},
	{"Q5_1", 32, 24, []int{0, 2}, nil, true},
	{"Q8_0", 32, 34, []int{0}, nil, true},
	{"Q8_1", 32, 36, []int{0, 2}, nil, false},
	{"Q2_K", 256, 84, []int{80, 82}, nil, true},
	{"Q3_K", 256, 110, []int{108}, nil, true},
	{"Q4_K", 256, 144, []int{0, 2}, nil, true},
	{"Q5_K", 256, 176, []int{0, 2}, nil, true},
	{"Q6_K", 256, 210, []int{208}, nil, true},
	{"Q8_K", 256, 292, nil, []int{0}, true},
	{"IQ4_NL", 32, 18, []int{0}, nil, true},
	{"IQ4_XS", 256, 136, []int{0}, nil, true},
}

// rowLen is the length of every row: two K-quant super-blocks, sixteen
// 32-value blocks.
const rowLen = 512

// distributions are the inputs, each a function of a seeded generator.
var distributions = []struct {
	name string
	gen  func(r *rand.Rand, x []float32)
}{
	{"normal", func(r *rand.Rand, x []float32) { fill(x, func(int) float64 { return r.NormFloat64() }) }},
	{"bf16 weights", func(r *rand.Rand, x []float32) {
		fill(x, func(int) float64 { return r.NormFloat64() * 0.02 })
		for i, v := range x {
			x[i] = math.Float32frombits(math.Float32bits(v) &^ 0xffff) // truncate to bf16
		}
	}},
	{"uniform", func(r *rand.Rand, x []float32) { fill(x, func(int) float64 { return 2*r.Float64() - 1 }) }},
	{"heavy tailed", func(r *rand.Rand, x []float32) {
		fill(x, func(int) float64 { return r.NormFloat64() * math.Exp(1.5*r.NormFloat64()) })
	}},
	{"zero blocks", func(r *rand.Rand, x []float32) {
		fill(x, func(i int) float64 {
			if (i/32)%2 == 1 || i >= 256 && i < 384 {
				return 0
			}
			return r.NormFloat64()
		})
	}},
	{"constant blocks", func(r *rand.Rand, x []float32) {
		consts := []float64{0.37, -1.5, 1e-3, 7, -0.25, 1, -1, 3.14159}
		fill(x, func(i int) float64 {
			if i >= 384 && i%2 == 0 {
				return r.NormFloat64() // half of the last 128 varies
			}
			return consts[(i/32)%len(consts)]
		})
	}},
	{"tiny", func(r *rand.Rand, x []float32) { fill(x, func(int) float64 { return r.NormFloat64() * 1e-30 }) }},
	{"subnormal", func(r *rand.Rand, x []float32) { fill(x, func(int) float64 { return r.NormFloat64() * 1e-40 }) }},
	{"huge", func(r *rand.Rand, x []float32) { fill(x, func(int) float64 { return r.NormFloat64() * 1e30 }) }},
	{"large", func(r *rand.Rand, x []float32) { fill(x, func(int) float64 { return r.NormFloat64() * 3e4 }) }},
	{"one outlier", func(r *rand.Rand, x []float32) {
		fill(x, func(int) float64 { return r.NormFloat64() * 0.01 })
		x[r.IntN(len(x))] = 50
		x[300] = -20
	}},
	{"negative only", func(r *rand.Rand, x []float32) { fill(x, func(int) float64 { return -math.Abs(r.NormFloat64()) }) }},
	{"positive only", func(r *rand.Rand, x []float32) { fill(x, func(int) float64 { return 0.5 + r.Float64() }) }},
	{"half steps", func(r *rand.Rand, x []float32) { fill(x, func(int) float64 { return 0.5 * float64(r.IntN(33)-16) }) }},
	{"mixed scales", func(r *rand.Rand, x []float32) {
		var s float64
		fill(x, func(i int) float64 {
			if i%32 == 0 {
				s = math.Pow(10, 6*r.Float64()-3)
			}
			return r.NormFloat64() * s
		})
	}},
	{"random bits", func(r *rand.Rand, x []float32) {
		// Any float32 but NaN (with NaN inputs the result depends on which
		// NaN the compiler's operand order propagates): infinities,
		// subnormals and values whose squares overflow.
		fill(x, func(i int) float64 {
			v := math.Float32frombits(r.Uint32())
			if v != v {
				return math.Inf(1 - 2*(i%2))
			}
			return float64(v)
		})
	}},
	{"sparse", func(r *rand.Rand, x []float32) {
		fill(x, func(int) float64 {
			if r.IntN(10) > 0 {
				return 0
			}
			return r.NormFloat64()
		})
	}},
}

func fill(x []float32, f func(i int) float64) {
	for i := range x {
		x[i] = float32(f(i))
	}
}

func main() {
	qref := flag.String("qref", "qref", "the qref tool")
	out := flag.String("out", "testdata/quant", "output directory")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	for ti, bt := range types {
		var buf bytes.Buffer
		buf.WriteString(magic)
		for di, d := range distributions {
			r := rand.New(rand.NewPCG(uint64(di+1), 0x9e3779b97f4a7c15))
			x := make([]float32, rowLen)
			d.gen(r, x)
			q, err := run(*qref, f32bytes(x), bt.name, fmt.Sprint(rowLen))
			if err != nil {
				log.Fatalf("%s %s: %v", bt.name, d.name, err)
			}
			if len(q) != rowLen/bt.block*bt.bytes {
				log.Fatalf("%s %s: qref wrote %d bytes, want %d", bt.name, d.name, len(q), rowLen/bt.block*bt.bytes)
			}
			writeCase(&buf, bt, *qref, d.name, f32bytes(x), q)
		}
		for k := range 4 {
			r := rand.New(rand.NewPCG(uint64(ti+100), uint64(k)))
			q := randomBlocks(r, bt, rowLen/bt.block)
			writeCase(&buf, bt, *qref, fmt.Sprintf("random blocks %d", k), nil, q)
		}
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		zw.Write(buf.Bytes())
		if err := zw.Close(); err != nil {
			log.Fatal(err)
		}
		path := filepath.Join(*out, strings.ToLower(bt.name)+".gold.gz")
		if err := os.WriteFile(path, gz.Bytes(), 0o644); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %d bytes\n", path, gz.Len())
	}
}

// writeCase appends one case, asking qref for ggml's dequantization.
func writeCase(buf *bytes.Buffer, bt blockType, qref, name string, input, q []byte) {
	var deq []byte
	if bt.hasDeq {
		var err error
		if deq, err = run(qref, q, "deq", bt.name); err != nil {
			log.Fatalf("%s %s: deq: %v", bt.name, name, err)
		}
		if want := len(q) / bt.bytes * bt.block * 4; len(deq) != want {
			log.Fatalf("%s %s: qref deq wrote %d bytes, want %d", bt.name, name, len(deq), want)
		}
	}
	for _, chunk := range [][]byte{[]byte(name), input, q, deq} {
		binary.Write(buf, binary.LittleEndian, uint32(len(chunk)))
		buf.Write(chunk)
	}
}

// randomBlocks returns n blocks of random bytes whose scales are finite.
func randomBlocks(r *rand.Rand, bt blockType, n int) []byte {
	q := make([]byte, n*bt.bytes)
	for i := range q {
		q[i] = byte(r.Uint32())
	}
	for b := range n {
		blk := q[b*bt.bytes:]
		for _, off := range bt.f16At {
			h := uint16(r.Uint32())
			if h>>10&31 == 31 {
				h &^= 0x4000 // inf or NaN: halve the exponent
			}
			binary.LittleEndian.PutUint16(blk[off:], h)
		}
		for _, off := range bt.f32At {
			binary.LittleEndian.PutUint32(blk[off:], math.Float32bits(float32(r.NormFloat64()*math.Pow(2, float64(r.IntN(40)-30)))))
		}
	}
	return q
}

func run(qref string, stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.Command(qref, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v: %s", qref, strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

func f32bytes(x []float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}
