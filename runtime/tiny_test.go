package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/quant"
)

// tinyConfig is a small model exercising every feature: GQA, nh·hd ≠ H,
// attention biases, a dense layer between MoE layers.
func tinyConfig() Config {
	return Config{
		Vocab: 96, Hidden: 64, Layers: 3, Heads: 4, KVHeads: 2, HeadDim: 32,
		FFN: 96, Experts: 8, ExpertsUsed: 3, ExpertFFN: 32, ContextLen: 64,
		RopeTheta: 10000, RMSEps: 1e-6, NormTopKProb: true, AttentionBias: true,
		DenseLayers: []int{1},
	}
}

// tensor is one tensor of a test file: GGUF dims and float values.
type tensor struct {
	name string
	typ  quant.Type
	dims []int
	data []float32 // after a quantization round trip: what the file holds
}

// tinyModel is a written test model and the weights it holds.
type tinyModel struct {
	path    string
	cfg     Config
	tensors map[string]*tensor
}

type buildOptions struct {
	typ      quant.Type // type of the big matrices (F32 when 0)
	llamaCpp bool       // write only llama.cpp's keys
	seed     uint64
	extraKV  map[string]any
	drop     map[string]bool // metadata keys left out
	skip     string          // tensor left out
	override map[string]quant.Type
}

// buildTiny writes a random model of config c to a temporary file.
func buildTiny(t testing.TB, c Config, o buildOptions) *tinyModel {
	t.Helper()
	r := rand.New(rand.NewPCG(o.seed+1, 99))
	m := &tinyModel{path: filepath.Join(t.TempDir(), "tiny.gguf"), cfg: c, tensors: map[string]*tensor{}}
	var order []*tensor
	add := func(name string, matrix bool, scale float64, dims ...int) {
		typ := quant.F32
		if matrix && o.typ != 0 {
			typ = o.typ
		}
		if ot, ok := o.override[name]; ok {
			typ = ot
		}
		n := 1
		for _, d := range dims {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64() * scale)
			if !matrix && scale == 0 {
				v[i] = float32(1 + 0.2*r.NormFloat64()) // norm weights near 1
			}
		}
		tn := &tensor{name: name, typ: typ, dims: dims, data: v}
		m.tensors[name] = tn
		order = append(order, tn)
	}
	H, q, kv := c.Hidden, c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	add("token_embd.weight", true, 1, H, c.Vocab)
	add("output_norm.weight", false, 0, H)
	if !c.Tied {
		add("output.weight", true, 0.2, H, c.Vocab)
	}
	for i := range c.Layers {
		p := fmt.Sprintf("blk.%d.", i)
		add(p+"attn_norm.weight", false, 0, H)
		add(p+"attn_q.weight", true, 0.2, H, q)
		add(p+"attn_k.weight", true, 0.2, H, kv)
		add(p+"attn_v.weight", true, 0.2, H, kv)
		add(p+"attn_output.weight", true, 0.15, q, H)
		add(p+"attn_q_norm.weight", false, 0, c.HeadDim)
		add(p+"attn_k_norm.weight", false, 0, c.HeadDim)
		add(p+"ffn_norm.weight", false, 0, H)
		if c.AttentionBias {
			add(p+"attn_q.bias", false, 0.1, q)
			add(p+"attn_k.bias", false, 0.1, kv)
			add(p+"attn_v.bias", false, 0.1, kv)
			add(p+"attn_output.bias", false, 0.1, H)
		}
		if c.MoE(i) {
			add(p+"ffn_gate_inp.weight", false, 0.3, H, c.Experts) // the router stays F32
			add(p+"ffn_gate_exps.weight", true, 0.2, H, c.ExpertFFN, c.Experts)
			add(p+"ffn_up_exps.weight", true, 0.2, H, c.ExpertFFN, c.Experts)
			add(p+"ffn_down_exps.weight", true, 0.2, c.ExpertFFN, H, c.Experts)
		} else {
			add(p+"ffn_gate.weight", true, 0.2, H, c.FFN)
			add(p+"ffn_up.weight", true, 0.2, H, c.FFN)
			add(p+"ffn_down.weight", true, 0.15, c.FFN, H)
		}
	}
	w, err := format.Create(m.path, 32)
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range metadata(c, o) {
		if err := w.AddKV(kv.Key, kv.Value); err != nil {
			t.Fatal(err)
		}
	}
	for _, tn := range order {
		if tn.name == o.skip {
			continue
		}
		dims := make([]uint64, len(tn.dims))
		for i, d := range tn.dims {
			dims[i] = uint64(d)
		}
		if err := w.AddTensor(tn.name, tn.typ, dims...); err != nil {
			t.Fatal(err)
		}
	}
	for _, tn := range order {
		if tn.name == o.skip {
			continue
		}
		n, _ := tn.typ.RowBytes(len(tn.data))
		buf := make([]byte, n)
		if tn.typ.Convertible() {
			if err := quant.Quantize(tn.typ, buf, tn.data); err != nil {
				t.Fatal(err)
			}
			if err := quant.Dequantize(tn.typ, tn.data, buf); err != nil {
				t.Fatal(err)
			}
		} else {
			// No quantizer for the type: random bytes below 0x3c, so that
			// every fp16 scale is finite and below 1 (tn.data does not
			// describe them).
			for i := range buf {
				buf[i] = byte(r.IntN(0x3c))
			}
		}
		if _, err := w.Write(buf); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return m
}

func metadata(c Config, o buildOptions) []format.KV {
	a := Architecture + "."
	kv := []format.KV{
		{Key: "general.architecture", Value: Architecture},
		{Key: a + "block_count", Value: uint32(c.Layers)},
		{Key: a + "context_length", Value: uint32(c.ContextLen)},
		{Key: a + "embedding_length", Value: uint32(c.Hidden)},
		{Key: a + "feed_forward_length", Value: uint32(c.FFN)},
		{Key: a + "attention.head_count", Value: uint32(c.Heads)},
		{Key: a + "attention.head_count_kv", Value: uint32(c.KVHeads)},
		{Key: a + "attention.key_length", Value: uint32(c.HeadDim)},
		{Key: a + "attention.value_length", Value: uint32(c.HeadDim)},
		{Key: a + "rope.freq_base", Value: float32(c.RopeTheta)},
		{Key: a + "attention.layer_norm_rms_epsilon", Value: float32(c.RMSEps)},
		{Key: a + "expert_count", Value: uint32(c.Experts)},
		{Key: a + "expert_used_count", Value: uint32(c.ExpertsUsed)},
		{Key: a + "expert_feed_forward_length", Value: uint32(c.ExpertFFN)},
		{Key: a + "vocab_size", Value: uint32(c.Vocab)},
	}
	if c.RopeScaling == "yarn" {
		kv = append(kv,
			format.KV{Key: a + "rope.scaling.type", Value: "yarn"},
			format.KV{Key: a + "rope.scaling.factor", Value: float32(c.RopeFactor)},
			format.KV{Key: a + "rope.scaling.original_context_length", Value: uint32(c.RopeOrigCtx)})
	}
	if !o.llamaCpp {
		kv = append(kv, format.KV{Key: "q3m.norm_topk_prob", Value: c.NormTopKProb})
		if c.AttentionBias {
			kv = append(kv, format.KV{Key: "q3m.attention_bias", Value: true})
		}
		if len(c.DenseLayers) > 0 {
			dl := make([]int32, len(c.DenseLayers))
			for i, l := range c.DenseLayers {
				dl[i] = int32(l)
			}
			kv = append(kv, format.KV{Key: "q3m.dense_layers", Value: dl})
		}
		if c.SlidingWindow > 0 {
			kv = append(kv, format.KV{Key: "q3m.sliding_window", Value: uint32(c.SlidingWindow)})
		}
		if c.RopeScaling == "yarn" {
			kv = append(kv,
				format.KV{Key: "q3m.rope.yarn.beta_fast", Value: float32(c.YarnBetaFast)},
				format.KV{Key: "q3m.rope.yarn.beta_slow", Value: float32(c.YarnBetaSlow)},
				format.KV{Key: "q3m.rope.yarn.attention_factor", Value: float32(c.YarnAttnFactor)},
				format.KV{Key: "q3m.rope.yarn.truncate", Value: c.YarnTruncate})
		}
	}
	kv = slices.DeleteFunc(kv, func(p format.KV) bool { return o.drop[p.Key] || o.extraKV[p.Key] != nil })
	for k, v := range o.extraKV {
		kv = append(kv, format.KV{Key: k, Value: v})
	}
	return kv
}

// ref64 is the model's forward pass written from the definition in float64,
// sharing no code with the package.
type ref64 struct {
	m *tinyModel
	// actQ8 rounds the input of every Q8_0/Q4_0 matrix to Q8_0 first, as
	// the runtime does (ggml's quantize_row_q8_0, here in float64).
	actQ8 bool
	// kv rounds the stored keys and values as a KV cache of that type does
	// (F16: to the nearest half; Q8_0: as q8 does); 0 (F32) keeps them.
	kv quant.Type
	// route records, per layer and position, the chosen experts.
	route map[[2]int][]int
}

func (r *ref64) w(name string) []float64 {
	tn, ok := r.m.tensors[name]
	if !ok {
		panic("reference: no tensor " + name)
	}
	out := make([]float64, len(tn.data))
	for i, v := range tn.data {
		out[i] = float64(v)
	}
	return out
}

// linear returns W·x for W stored GGUF-style (dims {in, out}: row o at o·in).
func linear(w []float64, x []float64) []float64 {
	in := len(x)
	out := make([]float64, len(w)/in)
	for o := range out {
		for i, v := range x {
			out[o] += w[o*in+i] * v
		}
	}
	return out
}

// lin is linear with the named weight, rounding x to Q8_0 first when the
// reference simulates quantized activations and the weight is quantized.
func (r *ref64) lin(name string, w, x []float64) []float64 {
	if r.actQ8 && r.m.tensors[name].typ.BlockSize() == 32 {
		x = q8(x)
	}
	return linear(w, x)
}

// roundKV rounds a key or value row as the KV cache type r.kv stores it.
func (r *ref64) roundKV(x []float64) []float64 {
	switch r.kv {
	case quant.F16:
		for i, v := range x {
			x[i] = float64(quant.FromF16(quant.ToF16(float32(v))))
		}
	case quant.Q8_0:
		return q8(x)
	}
	return x
}

// q8 rounds x to Q8_0: per 32 values d = amax/127 (stored as fp16),
// q = round(x/d) half away from zero.
func q8(x []float64) []float64 {
	out := make([]float64, len(x))
	for b := 0; b < len(x); b += 32 {
		var amax float64
		for _, v := range x[b : b+32] {
			amax = math.Max(amax, math.Abs(v))
		}
		d := float64(float32(amax / 127))
		d16 := float64(quant.FromF16(quant.ToF16(float32(d))))
		for j, v := range x[b : b+32] {
			if d != 0 {
				out[b+j] = math.Round(v/d) * d16
			}
		}
	}
	return out
}

func rmsnorm(x, w []float64, eps float64) []float64 {
	var ss float64
	for _, v := range x {
		ss += v * v
	}
	s := 1 / math.Sqrt(ss/float64(len(x))+eps)
	out := make([]float64, len(x))
	for i := range x {
		out[i] = x[i] * s * w[i]
	}
	return out
}

func silu(x float64) float64 { return x / (1 + math.Exp(-x)) }

// refInvFreq is RoPE's per-pair frequencies and cos/sin factor, from
// transformers' _compute_default_rope_parameters and
// _compute_yarn_parameters.
func refInvFreq(c Config) ([]float64, float64) {
	d := float64(c.HeadDim)
	inv := make([]float64, c.HeadDim/2)
	for j := range inv {
		inv[j] = 1 / math.Pow(c.RopeTheta, float64(2*j)/d)
	}
	if c.RopeScaling != "yarn" {
		return inv, 1
	}
	dim := func(rot float64) float64 {
		return d * math.Log(float64(c.RopeOrigCtx)/(rot*2*math.Pi)) / (2 * math.Log(c.RopeTheta))
	}
	lo, hi := dim(c.YarnBetaFast), dim(c.YarnBetaSlow)
	if c.YarnTruncate {
		lo, hi = math.Floor(lo), math.Ceil(hi)
	}
	lo, hi = math.Max(lo, 0), math.Min(hi, d-1)
	if lo == hi {
		hi += 0.001
	}
	out := make([]float64, len(inv))
	for j := range inv {
		ramp := (float64(j) - lo) / (hi - lo)
		ramp = math.Max(0, math.Min(1, ramp))
		extra := 1 - ramp
		out[j] = inv[j]/c.RopeFactor*(1-extra) + inv[j]*extra
	}
	return out, c.YarnAttnFactor
}

func rope(x []float64, pos int, inv []float64, f float64) {
	h := len(inv)
	for j := range h {
		c, s := math.Cos(float64(pos)*inv[j])*f, math.Sin(float64(pos)*inv[j])*f
		a, b := x[j], x[j+h]
		x[j], x[j+h] = a*c-b*s, b*c+a*s
	}
}

// logits returns the logits of every position of ids, evaluated from 0.
func (r *ref64) logits(ids []int32) [][]float64 {
	c := r.m.cfg
	H, hd := c.Hidden, c.HeadDim
	inv, f := refInvFreq(c)
	r.route = map[[2]int][]int{}
	xs := make([][]float64, len(ids))
	emb := r.w("token_embd.weight")
	for t, id := range ids {
		xs[t] = append([]float64(nil), emb[int(id)*H:(int(id)+1)*H]...)
	}
	for li := range c.Layers {
		p := fmt.Sprintf("blk.%d.", li)
		qs, ks, vs := make([][]float64, len(ids)), make([][]float64, len(ids)), make([][]float64, len(ids))
		for t := range ids {
			xn := rmsnorm(xs[t], r.w(p+"attn_norm.weight"), c.RMSEps)
			q, k, v := r.lin(p+"attn_q.weight", r.w(p+"attn_q.weight"), xn), r.lin(p+"attn_k.weight", r.w(p+"attn_k.weight"), xn), r.lin(p+"attn_v.weight", r.w(p+"attn_v.weight"), xn)
			if c.AttentionBias {
				for i, b := range r.w(p + "attn_q.bias") {
					q[i] += b
				}
				for i, b := range r.w(p + "attn_k.bias") {
					k[i] += b
				}
				for i, b := range r.w(p + "attn_v.bias") {
					v[i] += b
				}
			}
			for h := 0; h < len(q)/hd; h++ {
				copy(q[h*hd:], rmsnorm(q[h*hd:(h+1)*hd], r.w(p+"attn_q_norm.weight"), c.RMSEps))
				rope(q[h*hd:(h+1)*hd], t, inv, f)
			}
			for h := 0; h < len(k)/hd; h++ {
				copy(k[h*hd:], rmsnorm(k[h*hd:(h+1)*hd], r.w(p+"attn_k_norm.weight"), c.RMSEps))
				rope(k[h*hd:(h+1)*hd], t, inv, f)
			}
			qs[t], ks[t], vs[t] = q, r.roundKV(k), r.roundKV(v)
		}
		for t := range ids {
			att := make([]float64, c.Heads*hd)
			for h := range c.Heads {
				kh := h / (c.Heads / c.KVHeads)
				var keys []int
				for j := 0; j <= t; j++ {
					if c.SlidingWindow == 0 || t-j < c.SlidingWindow {
						keys = append(keys, j)
					}
				}
				sc := make([]float64, len(keys))
				var mx = math.Inf(-1)
				for i, j := range keys {
					for d := range hd {
						sc[i] += qs[t][h*hd+d] * ks[j][kh*hd+d]
					}
					sc[i] /= math.Sqrt(float64(hd))
					mx = math.Max(mx, sc[i])
				}
				var sum float64
				for i := range sc {
					sc[i] = math.Exp(sc[i] - mx)
					sum += sc[i]
				}
				for i, j := range keys {
					for d := range hd {
						att[h*hd+d] += sc[i] / sum * vs[j][kh*hd+d]
					}
				}
			}
			o := r.lin(p+"attn_output.weight", r.w(p+"attn_output.weight"), att)
			if c.AttentionBias {
				for i, b := range r.w(p + "attn_output.bias") {
					o[i] += b
				}
			}
			for i := range o {
				xs[t][i] += o[i]
			}
			xn := rmsnorm(xs[t], r.w(p+"ffn_norm.weight"), c.RMSEps)
			var y []float64
			if c.MoE(li) {
				y = r.moe(p, li, t, xn)
			} else {
				y = r.mlp(p+"ffn_gate.weight", p+"ffn_up.weight", p+"ffn_down.weight", r.w(p+"ffn_gate.weight"), r.w(p+"ffn_up.weight"), r.w(p+"ffn_down.weight"), xn)
			}
			for i := range y {
				xs[t][i] += y[i]
			}
		}
	}
	out := make([][]float64, len(ids))
	head := "output.weight"
	if c.Tied {
		head = "token_embd.weight"
	}
	for t := range ids {
		out[t] = r.lin(head, r.w(head), rmsnorm(xs[t], r.w("output_norm.weight"), c.RMSEps))
	}
	return out
}

func (r *ref64) mlp(gn, un, dn string, gate, up, down, x []float64) []float64 {
	g, u := r.lin(gn, gate, x), r.lin(un, up, x)
	for i := range g {
		g[i] = silu(g[i]) * u[i]
	}
	return r.lin(dn, down, g)
}

func (r *ref64) moe(p string, li, pos int, x []float64) []float64 {
	c := r.m.cfg
	H, I, E := c.Hidden, c.ExpertFFN, c.Experts
	logits := linear(r.w(p+"ffn_gate_inp.weight"), x)
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = math.Max(mx, v)
	}
	var sum float64
	prob := make([]float64, E)
	for e, v := range logits {
		prob[e] = math.Exp(v - mx)
		sum += prob[e]
	}
	used := make([]bool, E)
	var chosen []int
	var weights []float64
	var wsum float64
	for range c.ExpertsUsed {
		best := -1
		for e := range E {
			if !used[e] && (best < 0 || prob[e] > prob[best]) {
				best = e
			}
		}
		used[best] = true
		chosen = append(chosen, best)
		weights = append(weights, prob[best]/sum)
		wsum += prob[best] / sum
	}
	r.route[[2]int{li, pos}] = chosen
	gate, up, down := r.w(p+"ffn_gate_exps.weight"), r.w(p+"ffn_up_exps.weight"), r.w(p+"ffn_down_exps.weight")
	out := make([]float64, H)
	for i, e := range chosen {
		w := weights[i]
		if c.NormTopKProb {
			w /= wsum
		}
		y := r.mlp(p+"ffn_gate_exps.weight", p+"ffn_up_exps.weight", p+"ffn_down_exps.weight", gate[e*I*H:(e+1)*I*H], up[e*I*H:(e+1)*I*H], down[e*I*H:(e+1)*I*H], x)
		for j := range out {
			out[j] += w * y[j]
		}
	}
	return out
}
