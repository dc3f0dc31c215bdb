// Package routing reads, writes, generates and simulates traces of the
// expert routing of a mixture-of-experts model: for each token and MoE
// layer, the experts the router chose (in its rank order) and their
// weights. A trace file is JSON lines, one routing decision a line:
//
//	{"token": 0, "layer": 0, "experts": [12, 3, 77, 5, 101, 9, 64, 30], "weights": [0.31, 0.2, …]}
//
// tokens counted from the start of a run, layers in order; weights may be
// left out. Traces measure how an expert cache behaves under a pattern:
// replayed by the runtime (which then computes with forced routing),
// generated with published statistics (Generate), or run through cache
// policies offline (Simulate).
package routing

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
)

// Trace is the routing of Tokens() tokens through the MoE layers Layers,
// K experts each.
type Trace struct {
	Name    string  // where it was read from, for errors ("" if built)
	Layers  []int   // MoE layer ids, ascending
	K       int     // experts per token
	Experts []int32 // [token][index into Layers][K], router order
	// Weights has the shape of Experts, or is nil when the trace gives no
	// weights.
	Weights []float32
}

// Tokens returns the number of tokens the trace routes.
func (t *Trace) Tokens() int {
	if len(t.Layers) == 0 || t.K == 0 {
		return 0
	}
	return len(t.Experts) / (len(t.Layers) * t.K)
}

// At returns the experts and weights (nil if none) of token tok at the
// i-th layer of Layers.
func (t *Trace) At(tok, i int) ([]int32, []float32) {
	o := (tok*len(t.Layers) + i) * t.K
	if t.Weights == nil {
		return t.Experts[o : o+t.K], nil
	}
	return t.Experts[o : o+t.K], t.Weights[o : o+t.K]
}

// Geometry is what a trace must fit: layer ids below Layers, expert ids
// below Experts, K experts a token. A zero field is not checked.
type Geometry struct{ Layers, Experts, K int }

// Check reports the first way the trace does not fit g, or does not hold
// together (shape, expert ids repeated within a decision, weights).
func (t *Trace) Check(g Geometry) error {
	where := t.Name
	if where == "" {
		where = "trace"
	}
	L := len(t.Layers)
	if L == 0 || t.K <= 0 || len(t.Experts) == 0 || len(t.Experts)%(L*t.K) != 0 ||
		(t.Weights != nil && len(t.Weights) != len(t.Experts)) {
		return fmt.Errorf("routing: %s: malformed: %d layers, %d experts a token, %d expert ids, %d weights", where, L, t.K, len(t.Experts), len(t.Weights))
	}
	if g.K > 0 && t.K != g.K {
		return fmt.Errorf("routing: %s: %d experts a token, the model routes %d", where, t.K, g.K)
	}
	for i, l := range t.Layers {
		if l < 0 || (g.Layers > 0 && l >= g.Layers) || (i > 0 && l <= t.Layers[i-1]) {
			return fmt.Errorf("routing: %s: layer %d out of order or outside [0, %d)", where, l, g.Layers)
		}
	}
	for tok := range t.Tokens() {
		for i, l := range t.Layers {
			e, w := t.At(tok, i)
			if err := checkDecision(e, w, g.Experts); err != nil {
				return fmt.Errorf("routing: %s: token %d layer %d: %w", where, tok, l, err)
			}
		}
	}
	return nil
}

// checkDecision checks one decision's expert ids (in [0, experts) when
// experts > 0, distinct) and weights (finite, not negative).
func checkDecision(e []int32, w []float32, experts int) error {
	for r, x := range e {
		if x < 0 || (experts > 0 && int(x) >= experts) {
			return fmt.Errorf("expert %d outside [0, %d)", x, experts)
		}
		if slices.Contains(e[:r], x) {
			return fmt.Errorf("expert %d chosen twice", x)
		}
	}
	for _, v := range w {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || v < 0 {
			return fmt.Errorf("weight %v is not a finite non-negative number", v)
		}
	}
	return nil
}

// AppendRecord appends the JSON line of one routing decision to dst.
// Weights are written in the shortest form that reads back to the same
// float32; nil weights are left out.
func AppendRecord[E int | int32](dst []byte, token, layer int, experts []E, weights []float32) []byte {
	dst = append(dst, `{"token":`...)
	dst = strconv.AppendInt(dst, int64(token), 10)
	dst = append(dst, `,"layer":`...)
	dst = strconv.AppendInt(dst, int64(layer), 10)
	dst = append(dst, `,"experts":[`...)
	for i, e := range experts {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendInt(dst, int64(e), 10)
	}
	dst = append(dst, ']')
	if weights != nil {
		dst = append(dst, `,"weights":[`...)
		for i, w := range weights {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = strconv.AppendFloat(dst, float64(w), 'g', -1, 32)
		}
		dst = append(dst, ']')
	}
	return append(dst, "}\n"...)
}

// WriteTo writes the trace as JSON lines, token by token, layers in order.
func (t *Trace) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriter(w)
	var n int64
	var line []byte
	for tok := range t.Tokens() {
		for i, l := range t.Layers {
			e, wt := t.At(tok, i)
			line = AppendRecord(line[:0], tok, l, e, wt)
			m, err := bw.Write(line)
			n += int64(m)
			if err != nil {
				return n, err
			}
		}
	}
	return n, bw.Flush()
}

// Limits of the reader: a line longer than MaxLine bytes or a trace of
// more than MaxRecords lines is refused.
const (
	MaxLine    = 64 << 10
	MaxRecords = 1 << 24
	maxExperts = 1 << 16 // expert and layer ids, when the geometry does not bound them
)

// record is one line of a trace file as JSON decodes it.
type record struct {
	Token   *int      `json:"token"`
	Layer   *int      `json:"layer"`
	Experts []int     `json:"experts"`
	Weights []float64 `json:"weights"`
}

// ReadFile reads the trace file at path, checked against g.
func ReadFile(path string, g Geometry) (*Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("routing: %w", err)
	}
	defer f.Close()
	return Read(f, path, g)
}

// Read reads a trace in JSON lines from r, checked against g; name is the
// file's name in errors. Lines may come in any order; every token from 0 to
// the last must have one line for each layer that appears. Blank lines are
// skipped.
func Read(r io.Reader, name string, g Geometry) (*Trace, error) {
	type entry struct{ token, layer, line, off int }
	var (
		entries []entry
		experts []int32
		weights []float32
		k       = g.K
		hasW    = -1 // unknown until the first line
		lineNo  int
	)
	fail := func(format string, a ...any) error {
		return fmt.Errorf("routing: %s: line %d: %s", name, lineNo, fmt.Sprintf(format, a...))
	}
	maxLayer, maxExpert := g.Layers, g.Experts
	if maxLayer <= 0 {
		maxLayer = maxExperts
	}
	if maxExpert <= 0 {
		maxExpert = maxExperts
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxLine)
	for sc.Scan() {
		lineNo++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if len(entries) >= MaxRecords {
			return nil, fail("more than %d routing decisions", MaxRecords)
		}
		var rec record
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rec); err != nil {
			return nil, fail("%v", err)
		}
		if dec.More() {
			return nil, fail("more than one JSON value")
		}
		switch {
		case rec.Token == nil || rec.Layer == nil || rec.Experts == nil:
			return nil, fail(`"token", "layer" and "experts" are required`)
		case *rec.Token < 0 || *rec.Token >= MaxRecords:
			return nil, fail("token %d outside [0, %d)", *rec.Token, MaxRecords)
		case *rec.Layer < 0 || *rec.Layer >= maxLayer:
			return nil, fail("layer %d outside [0, %d)", *rec.Layer, maxLayer)
		}
		if k == 0 {
			k = len(rec.Experts)
		}
		if len(rec.Experts) != k || k == 0 {
			return nil, fail("%d experts, want %d", len(rec.Experts), k)
		}
		if h := btoi(rec.Weights != nil); hasW < 0 {
			hasW = h
		} else if h != hasW {
			return nil, fail("weights given on some lines only")
		}
		if rec.Weights != nil && len(rec.Weights) != k {
			return nil, fail("%d weights for %d experts", len(rec.Weights), k)
		}
		off := len(experts)
		for _, e := range rec.Experts {
			if e < 0 || e >= maxExpert {
				return nil, fail("expert %d outside [0, %d)", e, maxExpert)
			}
			experts = append(experts, int32(e))
		}
		for _, w := range rec.Weights {
			weights = append(weights, float32(w))
		}
		var w []float32
		if rec.Weights != nil {
			w = weights[off:]
		}
		if err := checkDecision(experts[off:], w, 0); err != nil {
			return nil, fail("%v", err)
		}
		entries = append(entries, entry{*rec.Token, *rec.Layer, lineNo, off})
	}
	if err := sc.Err(); err != nil {
		lineNo++
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fail("longer than %d bytes", MaxLine)
		}
		return nil, fmt.Errorf("routing: %s: %w", name, err)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("routing: %s: no routing decisions", name)
	}
	slices.SortStableFunc(entries, func(a, b entry) int {
		if a.token != b.token {
			return a.token - b.token
		}
		return a.layer - b.layer
	})
	var layers []int
	for i, e := range entries {
		if e.token != entries[0].token {
			break
		}
		if i > 0 && e.layer == entries[i-1].layer {
			return nil, fmt.Errorf("routing: %s: line %d: token %d layer %d given again (first at line %d)", name, e.line, e.token, e.layer, entries[i-1].line)
		}
		layers = append(layers, e.layer)
	}
	t := &Trace{Name: name, Layers: layers, K: k, Experts: make([]int32, 0, len(experts))}
	if hasW == 1 {
		t.Weights = make([]float32, 0, len(weights))
	}
	for i, e := range entries {
		tok, li := i/len(layers), i%len(layers)
		if e.token != tok || e.layer != layers[li] {
			if i > 0 && e.token == entries[i-1].token && e.layer == entries[i-1].layer {
				return nil, fmt.Errorf("routing: %s: line %d: token %d layer %d given again (first at line %d)", name, e.line, e.token, e.layer, entries[i-1].line)
			}
			if e.token < tok {
				return nil, fmt.Errorf("routing: %s: line %d: token %d has layer %d, which token %d lacks", name, e.line, e.token, e.layer, entries[0].token)
			}
			return nil, fmt.Errorf("routing: %s: token %d has no routing for layer %d (every token needs the layers of token %d: %v)", name, tok, layers[li], entries[0].token, layers)
		}
		t.Experts = append(t.Experts, experts[e.off:e.off+k]...)
		if t.Weights != nil {
			t.Weights = append(t.Weights, weights[e.off:e.off+k]...)
		}
	}
	if len(entries)%len(layers) != 0 {
		last := entries[len(entries)-1]
		return nil, fmt.Errorf("routing: %s: token %d has no routing for layer %d", name, last.token, layers[len(entries)%len(layers)])
	}
	return t, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
