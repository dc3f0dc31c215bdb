package convert

import (
	"fmt"
	"slices"
	"strings"

	"github.com/q3m/q3m/quant"
)

// outTensor is one tensor of the output file: its GGUF name, type and dims
// (Dims[0] fastest), and the source ranges whose concatenation is its data.
type outTensor struct {
	Name string
	Type quant.Type
	Dims []uint64
	Segs []segment
	// quantizable marks the weight matrices, whose type the preset
	// chooses; the other tensors (norms, biases, the router) stay F32.
	quantizable bool
}

// segment is a contiguous range of whole rows of a source tensor.
type segment struct {
	Src       *srcTensor
	Off, Len  int64 // in elements
	RowLength int64
}

// srcBytes returns the number of source bytes read for t.
func (t *outTensor) srcBytes() int64 {
	var n int64
	for _, s := range t.Segs {
		n += s.Len * int64(s.Src.Type.BlockBytes())
	}
	return n
}

// plan maps the checkpoint's tensors onto the output tensors.
type plan struct {
	cfg      *HFConfig
	ck       *checkpoint
	preset   Preset
	pure     bool
	tensors  []outTensor
	fallback []fallback // tensors whose rows are not whole blocks of their rule's type
	err      error      // the first planning error; later steps are skipped
}

// makePlan checks every source tensor's presence and shape, fails on
// tensors left over and gives each tensor its type under the preset (every
// weight matrix the preset's base type when pure).
func makePlan(cfg *HFConfig, ck *checkpoint, preset Preset, pure bool) (*plan, error) {
	p := &plan{cfg: cfg, ck: ck, preset: preset, pure: pure}
	H, V := int64(cfg.HiddenSize), int64(cfg.VocabSize)
	p.matrix("token_embd.weight", "model.embed_tokens.weight", V, H)
	for i := 0; i < cfg.NumLayers && p.err == nil; i++ {
		p.layer(i)
	}
	p.vector("output_norm.weight", "model.norm.weight", H)
	switch {
	case p.head(): // a task head instead of lm_head (heads.go)
	case cfg.TieWordEmbeddings:
		ck.take("lm_head.weight") // the embedding is the output matrix
	default:
		p.matrix("output.weight", "lm_head.weight", V, H)
	}
	if p.err != nil {
		return nil, p.err
	}
	if left := ck.unused(); len(left) > 0 {
		t := ck.tensors[left[0]]
		return nil, fmt.Errorf("convert: %s: unexpected tensor %q (%d unexpected in all) for this config.json", t.shard.path, left[0], len(left))
	}
	p.assignTypes(preset, pure)
	return p, nil
}

func (p *plan) layer(i int) {
	c := p.cfg
	H, hd := int64(c.HiddenSize), int64(c.HeadDim)
	q, kv := int64(c.NumHeads)*hd, int64(c.NumKVHeads)*hd
	hf := fmt.Sprintf("model.layers.%d.", i)
	gg := fmt.Sprintf("blk.%d.", i)
	p.vector(gg+"attn_norm.weight", hf+"input_layernorm.weight", H)
	p.matrix(gg+"attn_q.weight", hf+"self_attn.q_proj.weight", q, H)
	p.matrix(gg+"attn_k.weight", hf+"self_attn.k_proj.weight", kv, H)
	p.matrix(gg+"attn_v.weight", hf+"self_attn.v_proj.weight", kv, H)
	p.matrix(gg+"attn_output.weight", hf+"self_attn.o_proj.weight", H, q)
	if c.AttentionBias {
		p.vector(gg+"attn_q.bias", hf+"self_attn.q_proj.bias", q)
		p.vector(gg+"attn_k.bias", hf+"self_attn.k_proj.bias", kv)
		p.vector(gg+"attn_v.bias", hf+"self_attn.v_proj.bias", kv)
		p.vector(gg+"attn_output.bias", hf+"self_attn.o_proj.bias", H)
	}
	p.vector(gg+"attn_q_norm.weight", hf+"self_attn.q_norm.weight", hd)
	p.vector(gg+"attn_k_norm.weight", hf+"self_attn.k_norm.weight", hd)
	p.vector(gg+"ffn_norm.weight", hf+"post_attention_layernorm.weight", H)
	if !c.Sparse(i) {
		I := int64(c.IntermediateSize)
		p.matrix(gg+"ffn_gate.weight", hf+"mlp.gate_proj.weight", I, H)
		p.matrix(gg+"ffn_up.weight", hf+"mlp.up_proj.weight", I, H)
		p.matrix(gg+"ffn_down.weight", hf+"mlp.down_proj.weight", H, I)
		return
	}
	E, I := int64(c.NumExperts), int64(c.MoEIntermediateSize)
	if t := p.src(hf+"mlp.gate.weight", E, H); t != nil {
		p.add(gg+"ffn_gate_inp.weight", quant.F32, []uint64{uint64(H), uint64(E)}, segment{t, 0, E * H, H})
	}
	gate := outTensor{Name: gg + "ffn_gate_exps.weight", Dims: []uint64{uint64(H), uint64(I), uint64(E)}}
	up := outTensor{Name: gg + "ffn_up_exps.weight", Dims: []uint64{uint64(H), uint64(I), uint64(E)}}
	down := outTensor{Name: gg + "ffn_down_exps.weight", Dims: []uint64{uint64(I), uint64(H), uint64(E)}}
	fusedGateUp := p.fusedName(hf + "mlp.experts.gate_up_proj")
	if p.ck.has(hf+"mlp.experts.0.gate_proj.weight") || !p.ck.has(fusedGateUp) {
		for e := int64(0); e < E && p.err == nil; e++ {
			ex := fmt.Sprintf("%smlp.experts.%d.", hf, e)
			if t := p.src(ex+"gate_proj.weight", I, H); t != nil {
				gate.Segs = append(gate.Segs, segment{t, 0, I * H, H})
			}
			if t := p.src(ex+"up_proj.weight", I, H); t != nil {
				up.Segs = append(up.Segs, segment{t, 0, I * H, H})
			}
			if t := p.src(ex+"down_proj.weight", H, I); t != nil {
				down.Segs = append(down.Segs, segment{t, 0, H * I, I})
			}
		}
	} else {
		// transformers v5 fuses the experts: gate_up_proj [E, 2I, H] (gate
		// rows first) and down_proj [E, H, I], with or without ".weight".
		gu := p.src(fusedGateUp, E, 2*I, H)
		dn := p.src(p.fusedName(hf+"mlp.experts.down_proj"), E, H, I)
		for e := range E {
			if gu != nil {
				gate.Segs = append(gate.Segs, segment{gu, e * 2 * I * H, I * H, H})
				up.Segs = append(up.Segs, segment{gu, e*2*I*H + I*H, I * H, H})
			}
			if dn != nil {
				down.Segs = append(down.Segs, segment{dn, e * H * I, H * I, I})
			}
		}
	}
	for _, t := range []outTensor{gate, up, down} {
		p.add(t.Name, p.preset.Base, t.Dims, t.Segs...)
		p.markQuantizable()
	}
}

// fusedName returns name or name+".weight", whichever the checkpoint has.
func (p *plan) fusedName(name string) string {
	if !p.ck.has(name) && p.ck.has(name+".weight") {
		return name + ".weight"
	}
	return name
}

func (p *plan) setErr(err error) {
	if p.err == nil {
		p.err = err
	}
}

// src takes a source tensor and checks its shape; nil after an error.
func (p *plan) src(name string, shape ...int64) *srcTensor {
	if p.err != nil {
		return nil
	}
	t, ok := p.ck.take(name)
	if !ok {
		p.setErr(fmt.Errorf("convert: tensor %q missing from the checkpoint (shards: %s)", name, strings.Join(p.ck.paths(), ", ")))
		return nil
	}
	if !slices.Equal(t.Shape, shape) {
		p.setErr(fmt.Errorf("convert: %s: tensor %q has shape %v, config.json implies %v", t.shard.path, name, t.Shape, shape))
		return nil
	}
	return t
}

// vector adds a 1-D F32 tensor.
func (p *plan) vector(name, hf string, n int64) {
	if t := p.src(hf, n); t != nil {
		p.add(name, quant.F32, []uint64{uint64(n)}, segment{t, 0, n, n})
	}
}

// matrix adds HF [out, in] as GGUF {in, out} of the asked type.
func (p *plan) matrix(name, hf string, out, in int64) {
	if t := p.src(hf, out, in); t != nil {
		p.add(name, p.preset.Base, []uint64{uint64(in), uint64(out)}, segment{t, 0, out * in, in})
		p.markQuantizable()
	}
}

// markQuantizable marks the tensor just added as a weight matrix.
func (p *plan) markQuantizable() {
	if p.err == nil {
		p.tensors[len(p.tensors)-1].quantizable = true
	}
}

func (p *plan) add(name string, typ quant.Type, dims []uint64, segs ...segment) {
	if p.err != nil {
		return
	}
	p.tensors = append(p.tensors, outTensor{Name: name, Type: typ, Dims: dims, Segs: segs})
}

// quantization returns the q3m.quantization value: the preset ("pure"
// added when every matrix has its base type), then, per fallback type, the
// tensors whose rows are not whole blocks of the type their rule chose,
// such as "q4_k_m; q5_0: blk.0.ffn_down_exps.weight,...".
func (p *plan) quantization() string {
	s := p.preset.Name
	if p.pure {
		s += " pure"
	}
	var types []quant.Type
	byType := map[quant.Type][]string{}
	for _, f := range p.fallback {
		if byType[f.typ] == nil {
			types = append(types, f.typ)
		}
		byType[f.typ] = append(byType[f.typ], f.name)
	}
	for _, t := range types {
		s += "; " + strings.ToLower(t.String()) + ": " + strings.Join(byType[t], ",")
	}
	return s
}
