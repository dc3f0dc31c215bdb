package synth

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
)

// tensor is one safetensors entry: its hub name, shape, and the value
// streams (segments) that fill it in order.
type tensor struct {
	name  string
	shape []int
	segs  []segment
}

// segment is n values drawn uniformly with the given mean and standard
// deviation from the stream seeded by key. Keys are per-expert hub names, so
// a fused tensor holds the same values as the per-expert tensors it replaces.
type segment struct {
	key       string
	n         int64
	mean, std float32
}

func (t tensor) elems() int64 {
	n := int64(1)
	for _, d := range t.shape {
		n *= int64(d)
	}
	return n
}

// Value distributions of the non-matrix weights: norms near one (so that a
// reader using 1+w instead of w is caught) and biases large enough to matter.
const (
	normMean, normStd = 1, 0.1
	biasStd           = 0.2
	routerGain        = 3
	lmHeadGain        = 2
)

// tensors lists the checkpoint's tensors in file order.
func (s Spec) tensors() []tensor {
	h, hd := s.Hidden, s.HeadDimOrDefault()
	q, kv := s.Heads*hd, s.KVHeads*hd
	std := func(fanIn int, gain float32) float32 {
		if s.Std > 0 {
			return gain * s.Std
		}
		return gain / float32(math.Sqrt(float64(fanIn)))
	}
	var ts []tensor
	one := func(name string, shape []int, mean, sd float32) {
		n := int64(1)
		for _, d := range shape {
			n *= int64(d)
		}
		ts = append(ts, tensor{name, shape, []segment{{name, n, mean, sd}}})
	}
	matrix := func(name string, out, in int, gain float32) { one(name, []int{out, in}, 0, std(in, gain)) }
	norm := func(name string, n int) { one(name, []int{n}, normMean, normStd) }

	embStd := float32(1)
	if s.Std > 0 {
		embStd = s.Std
	}
	one("model.embed_tokens.weight", []int{s.Vocab, h}, 0, embStd)
	for i := range s.Layers {
		p := fmt.Sprintf("model.layers.%d.", i)
		norm(p+"input_layernorm.weight", h)
		for _, m := range []struct {
			name    string
			out, in int
		}{{"q_proj", q, h}, {"k_proj", kv, h}, {"v_proj", kv, h}, {"o_proj", h, q}} {
			matrix(p+"self_attn."+m.name+".weight", m.out, m.in, 1)
			if s.AttentionBias {
				one(p+"self_attn."+m.name+".bias", []int{m.out}, 0, biasStd)
			}
		}
		norm(p+"self_attn.q_norm.weight", hd)
		norm(p+"self_attn.k_norm.weight", hd)
		norm(p+"post_attention_layernorm.weight", h)
		if !s.Sparse(i) {
			matrix(p+"mlp.gate_proj.weight", s.FFN, h, 1)
			matrix(p+"mlp.up_proj.weight", s.FFN, h, 1)
			matrix(p+"mlp.down_proj.weight", h, s.FFN, 1)
			continue
		}
		matrix(p+"mlp.gate.weight", s.Experts, h, routerGain)
		ffn := s.ExpertFFN
		exp := func(e int, w string) string { return fmt.Sprintf("%smlp.experts.%d.%s.weight", p, e, w) }
		if !s.Fused {
			for e := range s.Experts {
				matrix(exp(e, "gate_proj"), ffn, h, 1)
				matrix(exp(e, "up_proj"), ffn, h, 1)
				matrix(exp(e, "down_proj"), h, ffn, 1)
			}
			continue
		}
		gateUp := tensor{name: p + "mlp.experts.gate_up_proj", shape: []int{s.Experts, 2 * ffn, h}}
		down := tensor{name: p + "mlp.experts.down_proj", shape: []int{s.Experts, h, ffn}}
		n := int64(ffn) * int64(h)
		for e := range s.Experts {
			gateUp.segs = append(gateUp.segs,
				segment{exp(e, "gate_proj"), n, 0, std(h, 1)},
				segment{exp(e, "up_proj"), n, 0, std(h, 1)})
			down.segs = append(down.segs, segment{exp(e, "down_proj"), n, 0, std(ffn, 1)})
		}
		ts = append(ts, gateUp, down)
	}
	norm("model.norm.weight", h)
	if !s.Tied {
		matrix("lm_head.weight", s.Vocab, h, lmHeadGain)
	}
	return s.Head.tensors(ts, h)
}

// stream draws a segment's values: four per 64-bit PCG output, each a
// 16-bit uniform integer mapped to [mean-√3·std, mean+√3·std].
type stream struct {
	pcg         *rand.PCG
	mean, scale float32
}

func newStream(seed uint64, seg segment) *stream {
	h := fnv.New64a()
	h.Write([]byte(seg.key))
	const levels = 1 << 16
	return &stream{
		pcg:   rand.NewPCG(seed, h.Sum64()),
		mean:  seg.mean,
		scale: seg.std * float32(math.Sqrt(3)) / (levels / 2),
	}
}

// fill writes the next len(dst) values of the stream. Calls with lengths
// that are multiples of four give the same values however they are split.
func (r *stream) fill(dst []float32) {
	const mid = 32767.5
	i := 0
	for ; i+4 <= len(dst); i += 4 {
		u := r.pcg.Uint64()
		dst[i] = r.mean + (float32(uint16(u))-mid)*r.scale
		dst[i+1] = r.mean + (float32(uint16(u>>16))-mid)*r.scale
		dst[i+2] = r.mean + (float32(uint16(u>>32))-mid)*r.scale
		dst[i+3] = r.mean + (float32(uint16(u>>48))-mid)*r.scale
	}
	if i < len(dst) {
		u := r.pcg.Uint64()
		for ; i < len(dst); i++ {
			dst[i] = r.mean + (float32(uint16(u))-mid)*r.scale
			u >>= 16
		}
	}
}
