package runtime

import "fmt"

// TensorSpec describes one tensor of a model file that the forward pass
// reads: Config.Tensors lists them all, and the loader, the configuration's
// validator and the tools describing a model (info, bench, the expert
// pager) read this one table.
type TensorSpec struct {
	Name string // GGUF name, e.g. "blk.3.attn_q.weight"
	// Kind is the name without its block prefix, e.g. "attn_q.weight".
	Kind string
	// Layer is the block index, -1 for the tensors outside the blocks.
	Layer int
	// Dims are the GGUF dims, fastest-varying first: {cols, rows} of a
	// matrix, {cols, rows, experts} of stacked experts, {n} of a vector.
	Dims []int
	// Matrix marks a weight matrix, read in place and of any type the
	// kernels multiply (token_embd must also dequantize); a vector is of
	// a float type and copied.
	Matrix bool
	// Experts is the number of experts stacked in the last dim, 0 for a
	// tensor that is not per expert.
	Experts int
}

// Tensors returns the table of the tensors the forward pass of a model of
// configuration c reads, in file order: token_embd, output_norm, output
// (unless tied), then each block's.
func (c Config) Tensors() []TensorSpec {
	H, q, kv, hd := c.Hidden, c.Heads*c.HeadDim, c.KVHeads*c.HeadDim, c.HeadDim
	mat := func(kind string, dims ...int) TensorSpec { return TensorSpec{Kind: kind, Dims: dims, Matrix: true} }
	vec := func(kind string, n int) TensorSpec { return TensorSpec{Kind: kind, Dims: []int{n}} }
	exps := func(kind string, cols, rows int) TensorSpec {
		return TensorSpec{Kind: kind, Dims: []int{cols, rows, c.Experts}, Matrix: true, Experts: c.Experts}
	}
	top := []TensorSpec{mat("token_embd.weight", H, c.Vocab), vec("output_norm.weight", H)}
	if !c.Tied {
		top = append(top, mat("output.weight", H, c.Vocab))
	}
	specs := make([]TensorSpec, 0, len(top)+c.Layers*16)
	for _, s := range top {
		s.Name, s.Layer = s.Kind, -1
		specs = append(specs, s)
	}
	for i := range c.Layers {
		block := []TensorSpec{
			vec("attn_norm.weight", H),
			mat("attn_q.weight", H, q), mat("attn_k.weight", H, kv), mat("attn_v.weight", H, kv),
			mat("attn_output.weight", q, H),
			vec("attn_q_norm.weight", hd), vec("attn_k_norm.weight", hd),
			vec("ffn_norm.weight", H),
		}
		if c.AttentionBias {
			block = append(block, vec("attn_q.bias", q), vec("attn_k.bias", kv), vec("attn_v.bias", kv), vec("attn_output.bias", H))
		}
		if c.MoE(i) {
			I := c.ExpertFFN
			block = append(block, mat("ffn_gate_inp.weight", H, c.Experts),
				exps("ffn_gate_exps.weight", H, I), exps("ffn_up_exps.weight", H, I), exps("ffn_down_exps.weight", I, H))
		} else {
			block = append(block, mat("ffn_gate.weight", H, c.FFN), mat("ffn_up.weight", H, c.FFN), mat("ffn_down.weight", c.FFN, H))
		}
		p := fmt.Sprintf("blk.%d.", i)
		for _, s := range block {
			s.Name, s.Layer = p+s.Kind, i
			specs = append(specs, s)
		}
	}
	return specs
}

// expertTensors returns the names of the stacked expert tensors of each
// layer of the table specs, in table order (gate, up, down), indexed by
// layer; a dense layer has none.
func expertTensors(specs []TensorSpec, layers int) [][]string {
	out := make([][]string, layers)
	for _, s := range specs {
		if s.Experts > 0 && s.Layer >= 0 && s.Layer < layers {
			out[s.Layer] = append(out[s.Layer], s.Name)
		}
	}
	return out
}

// Tensors returns the table of the model's tensors (see Config.Tensors).
func (m *Model) Tensors() []TensorSpec { return m.cfg.Tensors() }

// load reads the tensors of table specs into m's weights, each by its
// kind; a kind the loader does not know is an error, so that the table
// cannot grow a tensor nothing reads.
func (ld *loader) load(m *Model, specs []TensorSpec) {
	for _, s := range specs {
		if ld.err != nil {
			return
		}
		if s.Layer >= len(m.layers) {
			ld.err = fmt.Errorf("runtime: %s: tensor %q of layer %d, the model has %d", ld.f.Path, s.Name, s.Layer, len(m.layers))
			return
		}
		var l *layer
		if s.Layer >= 0 {
			l = &m.layers[s.Layer]
		}
		switch {
		case s.Layer < 0:
			switch s.Kind {
			case "token_embd.weight":
				m.embed = ld.matrixOf(s)
			case "output.weight":
				m.output = ld.matrixOf(s)
			case "output_norm.weight":
				m.outNorm = ld.vectorOf(s)
			default:
				ld.err = fmt.Errorf("runtime: %s: no loader for tensor %q", ld.f.Path, s.Name)
			}
		case s.Experts > 0:
			ms := ld.expertsOf(s)
			switch s.Kind {
			case "ffn_gate_exps.weight":
				l.gate = ms
			case "ffn_up_exps.weight":
				l.up = ms
			case "ffn_down_exps.weight":
				l.down = ms
			default:
				ld.err = fmt.Errorf("runtime: %s: no loader for tensor %q", ld.f.Path, s.Name)
			}
		case s.Matrix:
			mt := ld.matrixOf(s)
			switch s.Kind {
			case "attn_q.weight":
				l.q = mt
			case "attn_k.weight":
				l.k = mt
			case "attn_v.weight":
				l.v = mt
			case "attn_output.weight":
				l.o = mt
			case "ffn_gate_inp.weight":
				l.router = mt
			case "ffn_gate.weight":
				l.gate = append(l.gate, mt)
			case "ffn_up.weight":
				l.up = append(l.up, mt)
			case "ffn_down.weight":
				l.down = append(l.down, mt)
			default:
				ld.err = fmt.Errorf("runtime: %s: no loader for tensor %q", ld.f.Path, s.Name)
			}
		default:
			v := ld.vectorOf(s)
			dst := map[string]*[]float32{
				"attn_norm.weight": &l.attnNorm, "ffn_norm.weight": &l.ffnNorm,
				"attn_q_norm.weight": &l.qNorm, "attn_k_norm.weight": &l.kNorm,
				"attn_q.bias": &l.qb, "attn_k.bias": &l.kb, "attn_v.bias": &l.vb, "attn_output.bias": &l.ob,
			}[s.Kind]
			if dst == nil {
				ld.err = fmt.Errorf("runtime: %s: no loader for tensor %q", ld.f.Path, s.Name)
				return
			}
			*dst = v
		}
	}
}
