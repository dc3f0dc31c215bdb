#!/usr/bin/env python3
"""Independent float64 reference for Qwen3-MoE (HF Qwen3MoeForCausalLM and,
with --task, the backbone, sequence/token classification and QA classes).

Written from the model's math (docs/model.md), not from transformers, and
sharing no code with q3m. It reads a Hugging Face checkpoint directory
(config.json + safetensors, single or sharded, per-expert or fused expert
names, F32/BF16/F16) with its own safetensors reader. With --gguf it takes
the weights from a GGUF file instead (own parser; F32, F16, BF16, Q8_0 and
Q4_0 dequantized with numpy; with --gguf-py, any block type through
llama.cpp's gguf-py), still reading the config from --hf, so that quantized
files are checked against the math on their dequantized weights.

Output in --out:
  logits.bin   float32 little-endian [rows, vocab]: the logits of every
               position of prompt + greedy[:-1] (rows = len(prompt)+steps-1)
  golden.json  prompt, greedy ids, per-row top-1/top-2 margins, and for every
               MoE layer and position the router's top-k experts, their
               weights and the gap between the k-th and (k+1)-th probability.

With --task: one pass over the prompt; head.bin (the class's own output),
hidden.bin [L+1, T, H], router.bin [MoE layers, T, E] and golden.json (aux
loss, pooled position). See task().

Usage: reference.py --hf DIR [--gguf FILE] --prompt 1,2,3 --steps 16 --out DIR
"""

import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
DT = torch.float64

# ---------------------------------------------------------------- safetensors


def read_safetensors(path):
    """Returns {name: float64 numpy array} for one safetensors file."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    data = memoryview(raw)[8 + n :]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        buf = data[a:b]
        dt = info["dtype"]
        if dt == "F32":
            arr = np.frombuffer(buf, dtype="<f4").astype(np.float64)
        elif dt == "F16":
            arr = np.frombuffer(buf, dtype="<f2").astype(np.float64)
        elif dt == "BF16":
            u = np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16
            arr = u.view(np.float32).astype(np.float64)
        else:
            raise ValueError(f"{path}: {name}: unsupported dtype {dt}")
        out[name] = arr.reshape(info["shape"])
    return out


def read_hf_weights(d):
    idx = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(idx):
        with open(idx) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    w = {}
    for fn in files:
        w.update(read_safetensors(os.path.join(d, fn)))
    return w


# ----------------------------------------------------------------------- GGUF

GGUF_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


class Reader:
    def __init__(self, raw):
        self.raw, self.pos = raw, 0

    def take(self, fmt):
        (v,) = struct.unpack_from(fmt, self.raw, self.pos)
        self.pos += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take("<Q")
        s = self.raw[self.pos : self.pos + n].decode("utf-8")
        self.pos += n
        return s

    def value(self, t):
        if t in GGUF_SCALARS:
            return self.take(GGUF_SCALARS[t])
        if t == 8:
            return self.string()
        if t == 9:
            et, n = self.take("<I"), self.take("<Q")
            return [self.value(et) for _ in range(n)]
        raise ValueError(f"gguf: unknown value type {t}")


def dequant(t, buf, n):
    """Dequantizes n values of GGUF type t from buf into float64."""
    if t == 0:
        return np.frombuffer(buf, dtype="<f4", count=n).astype(np.float64)
    if t == 1:
        return np.frombuffer(buf, dtype="<f2", count=n).astype(np.float64)
    if t == 30:
        u = np.frombuffer(buf, dtype="<u2", count=n).astype(np.uint32) << 16
        return u.view(np.float32).astype(np.float64)
    nb = n // 32
    if t == 8:  # Q8_0: fp16 d, int8 q[32]
        blk = np.frombuffer(buf, dtype=np.uint8, count=nb * 34).reshape(nb, 34)
        d = blk[:, :2].copy().view("<f2").astype(np.float64)
        q = blk[:, 2:].copy().view(np.int8).astype(np.float64)
        return (q * d).reshape(n)
    if t == 2:  # Q4_0: fp16 d, 16 bytes: low nibbles values 0..15, high 16..31
        blk = np.frombuffer(buf, dtype=np.uint8, count=nb * 18).reshape(nb, 18)
        d = blk[:, :2].copy().view("<f2").astype(np.float64)
        qs = blk[:, 2:]
        q = np.concatenate([(qs & 0x0F), (qs >> 4)], axis=1).astype(np.float64) - 8
        return (q * d).reshape(n)
    raise ValueError(f"gguf: unsupported tensor type {t}")


BLOCK = {0: (1, 4), 1: (1, 2), 30: (1, 2), 8: (32, 34), 2: (32, 18)}


def read_gguf(path):
    """Returns {gguf name: float64 array shaped like torch (dims reversed)}."""
    with open(path, "rb") as f:
        raw = f.read()
    r = Reader(raw)
    if raw[:4] != b"GGUF":
        raise ValueError(f"{path}: not a GGUF file")
    r.pos = 4
    version, nt, nkv = r.take("<I"), r.take("<Q"), r.take("<Q")
    if version != 3:
        raise ValueError(f"{path}: GGUF version {version}")
    kv = {}
    for _ in range(nkv):
        k = r.string()
        kv[k] = r.value(r.take("<I"))
    infos = []
    for _ in range(nt):
        name = r.string()
        nd = r.take("<I")
        dims = [r.take("<Q") for _ in range(nd)]
        t, off = r.take("<I"), r.take("<Q")
        infos.append((name, dims, t, off))
    align = kv.get("general.alignment", 32)
    base = (r.pos + align - 1) // align * align
    out = {}
    for name, dims, t, off in infos:
        n = int(np.prod(dims))
        bs, bb = BLOCK[t]
        start = base + off
        out[name] = dequant(t, raw[start : start + n // bs * bb], n).reshape(list(reversed(dims)))
    return out, kv, {name for name, _, t, _ in infos if t in (2, 8)}


GGUF_LAYER = {
    "attn_norm": "input_layernorm.weight", "ffn_norm": "post_attention_layernorm.weight",
    "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj", "attn_q_norm": "self_attn.q_norm.weight",
    "attn_k_norm": "self_attn.k_norm.weight", "ffn_gate_inp": "mlp.gate.weight",
    "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj",
}


def read_gguf_py(path, gguf_py):
    """Like read_gguf, but through llama.cpp's gguf-py (imported from the
    directory gguf_py): its reader and its numpy dequantizers, which cover
    every block type (K-quants, IQ4_NL, IQ4_XS, Q4_1, Q5_0, Q5_1, ...).
    Returns the tensors as float64 arrays shaped like torch, the metadata
    and the names of the quantized tensors."""
    sys.path.insert(0, gguf_py)
    import gguf  # noqa: E402 (the path is known only now)
    from gguf.quants import dequantize

    r = gguf.GGUFReader(path)
    out, quantized = {}, set()
    for t in r.tensors:
        typ = gguf.GGMLQuantizationType(int(t.tensor_type))
        a = dequantize(t.data, typ).astype(np.float64)
        out[t.name] = a.reshape(list(reversed([int(d) for d in t.shape])))
        if typ not in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16, gguf.GGMLQuantizationType.BF16):
            quantized.add(t.name)
    return out, {}, quantized


def gguf_name(name):
    """Returns the HF name of a GGUF tensor; stacked experts stay stacked."""
    if name == "token_embd.weight":
        return "model.embed_tokens.weight"
    if name == "output.weight":
        return "lm_head.weight"
    if name == "output_norm.weight":
        return "model.norm.weight"
    if name in ("cls.output.weight", "cls.output.bias"):  # any class's head
        return "head." + name.rsplit(".", 1)[1]
    if name.startswith("blk."):
        _, i, rest = name.split(".", 2)
        base, suffix = rest.rsplit(".", 1)
        p = f"model.layers.{i}."
        if base in ("ffn_gate_exps", "ffn_up_exps", "ffn_down_exps"):
            return p + "mlp.experts." + base
        if base in GGUF_LAYER:
            hf = GGUF_LAYER[base]
            return p + hf if hf.endswith(".weight") else p + hf + "." + suffix
    raise ValueError(f"gguf: unexpected tensor {name}")


def gguf_to_hf(g):
    return {gguf_name(name): a for name, a in g.items()}


# --------------------------------------------------------------------- config


class Config:
    def __init__(self, c):
        if c.get("model_type") != "qwen3_moe":
            raise ValueError(f"model_type {c.get('model_type')!r} is not qwen3_moe")
        self.V, self.H, self.L = c["vocab_size"], c["hidden_size"], c["num_hidden_layers"]
        self.nh = c["num_attention_heads"]
        self.nkv = c.get("num_key_value_heads") or self.nh
        self.hd = c.get("head_dim") or self.H // self.nh
        self.E = c.get("num_experts", c.get("num_local_experts", 0)) or 0
        self.k = c.get("num_experts_per_tok", 0)
        self.norm_topk = c.get("norm_topk_prob", False)
        self.step = c.get("decoder_sparse_step", 1) or 1
        self.mlp_only = set(c.get("mlp_only_layers") or [])
        self.eps = c.get("rms_norm_eps", 1e-6)
        self.tied = c.get("tie_word_embeddings", False)
        self.bias = c.get("attention_bias", False)
        self.window = c.get("sliding_window") if c.get("use_sliding_window") else None
        self.maxpos = c["max_position_embeddings"]
        self.cls = (c.get("architectures") or ["Qwen3MoeForCausalLM"])[0]
        self.pad = c.get("pad_token_id")
        rp = c.get("rope_parameters")
        if rp is None:
            rp = dict(c.get("rope_scaling") or {})
            rp["rope_theta"] = c.get("rope_theta", 10000.0)
        self.rope = rp

    def sparse(self, i):
        return i not in self.mlp_only and self.E > 0 and (i + 1) % self.step == 0

    def inv_freq(self):
        """Per-frequency inverse wavelengths and the cos/sin multiplier."""
        rp, hd = self.rope, self.hd
        theta = rp["rope_theta"]
        pos_freqs = theta ** (torch.arange(0, hd, 2, dtype=DT) / hd)
        inv = 1.0 / pos_freqs
        typ = rp.get("rope_type", rp.get("type", "default"))
        if typ == "default":
            return inv, 1.0
        if typ != "yarn":
            raise ValueError(f"rope type {typ} not supported")
        orig = rp.get("original_max_position_embeddings") or self.maxpos
        # transformers v5: an explicit factor wins over the ratio; attention_factor
        # defaults to mscale(factor), or mscale(factor, mscale)/mscale(factor,
        # mscale_all_dim) when both are given and nonzero.
        factor = rp.get("factor") or self.maxpos / orig

        def mscale(scale, m=1.0):
            return 0.1 * m * math.log(scale) + 1.0 if scale > 1 else 1.0

        af = rp.get("attention_factor")
        if af is None:
            m, m_all = rp.get("mscale"), rp.get("mscale_all_dim")
            af = mscale(factor, m) / mscale(factor, m_all) if m and m_all else mscale(factor)
        beta_fast, beta_slow = rp.get("beta_fast") or 32, rp.get("beta_slow") or 1

        def corr_dim(rot):
            return hd * math.log(orig / (rot * 2 * math.pi)) / (2 * math.log(theta))

        low, high = corr_dim(beta_fast), corr_dim(beta_slow)
        if rp.get("truncate", True):
            low, high = math.floor(low), math.ceil(high)
        low, high = max(low, 0), min(high, hd - 1)
        if low == high:
            high += 0.001
        ramp = ((torch.arange(hd // 2, dtype=DT) - low) / (high - low)).clamp(0, 1)
        extrap = 1 - ramp  # weight of the extrapolated (unscaled) frequency
        return (inv / factor) * (1 - extrap) + inv * extrap, af


# ---------------------------------------------------------------------- model


def load(hf_dir, gguf, act_q8=False, gguf_py=None):
    """Returns the config and the weights under HF names, experts stacked as
    mlp.experts.{gate,up,down} [E, out, in]. With act_q8, cfg.act_q8 holds
    the names of the Q8_0/Q4_0 matrices whose inputs are to be quantized."""
    with open(os.path.join(hf_dir, "config.json")) as f:
        cfg = Config(json.load(f))
    cfg.act_q8 = set()
    if gguf:
        if gguf_py:
            if act_q8:
                raise ValueError("--act-q8 rounds Q8_0/Q4_0 inputs only; it does not combine with --gguf-py")
            g, _, quantized = read_gguf_py(gguf, gguf_py)
        else:
            g, _, quantized = read_gguf(gguf)
        w = gguf_to_hf(g)
        if act_q8:
            cfg.act_q8 = {gguf_name(n) for n in quantized}
            for a in ("gate", "up", "down"):
                cfg.act_q8 |= {n.replace(f"ffn_{a}_exps", a) for n in cfg.act_q8 if n.endswith(f"ffn_{a}_exps")}
    else:
        w = read_hf_weights(hf_dir)
        if cfg.cls == "Qwen3MoeModel" and "model.embed_tokens.weight" not in w:
            w = {"model." + k: v for k, v in w.items()}  # a bare backbone's keys
        if cfg.cls == "Qwen3MoeForQuestionAnswering" and "transformer.embed_tokens.weight" in w:
            # base_model_prefix "transformer", inherited from LlamaForQuestionAnswering
            w = {"model." + k[len("transformer."):] if k.startswith("transformer.") else k: v for k, v in w.items()}
        for hf in ("score", "qa_outputs"):  # the heads of modeling_layers.py
            for s in ("weight", "bias"):
                if f"{hf}.{s}" in w:
                    w[f"head.{s}"] = w.pop(f"{hf}.{s}")
    w = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in w.items()}
    for i in range(cfg.L):
        p = f"model.layers.{i}.mlp."
        if not cfg.sparse(i):
            continue
        if p + "experts.gate_up_proj" in w:  # transformers v5 fused: [E, 2I, H]
            gu = w.pop(p + "experts.gate_up_proj")
            I = gu.shape[1] // 2
            w[p + "experts.gate"], w[p + "experts.up"] = gu[:, :I], gu[:, I:]
            w[p + "experts.down"] = w.pop(p + "experts.down_proj")
        elif p + "experts.ffn_gate_exps" in w:  # GGUF stacked: [E, I, H], [E, H, I]
            for a, b in (("gate", "ffn_gate_exps"), ("up", "ffn_up_exps"), ("down", "ffn_down_exps")):
                w[p + "experts." + a] = w.pop(p + "experts." + b)
        else:  # per-expert hub names
            for a in ("gate", "up", "down"):
                w[p + "experts." + a] = torch.stack(
                    [w.pop(f"{p}experts.{e}.{a}_proj.weight") for e in range(cfg.E)])
    if "lm_head.weight" not in w:
        w["lm_head.weight"] = w["model.embed_tokens.weight"]
        if "model.embed_tokens.weight" in cfg.act_q8:
            cfg.act_q8.add("lm_head.weight")
    return cfg, w


def q8(x):
    """Rounds x to Q8_0 along its last axis as q3m quantizes the input of
    every Q8_0/Q4_0 matrix product, following llama.cpp's x86
    quantize_row_q8_0: in float32, d = amax/127 (stored as fp16),
    q = round(x * (127/amax)) with ties to even."""
    shape = x.shape
    b = x.reshape(-1, 32).to(torch.float32)
    amax = b.abs().max(dim=-1, keepdim=True).values
    d = amax / 127
    inv = torch.where(amax > 0, 127 / amax, torch.zeros_like(amax))
    q = torch.round(b * inv)  # float32 product; torch.round ties to even
    return (q.to(DT) * d.to(torch.float16).to(DT)).reshape(shape)


def act(cfg, name, x):
    return q8(x) if name in cfg.act_q8 else x


def rms_norm(x, weight, eps):
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * weight


def linear(cfg, x, w, p):
    y = act(cfg, p + ".weight", x) @ w[p + ".weight"].T
    b = w.get(p + ".bias")
    return y if b is None else y + b


def rotate(x, cos, sin):
    """RoPE in the rotate-half layout: element j pairs with j + hd/2."""
    h = x.shape[-1] // 2
    x1, x2 = x[..., :h], x[..., h:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


def attention(cfg, w, p, x, cos, sin):
    T = x.shape[0]
    q = linear(cfg, x, w, p + "q_proj").view(T, cfg.nh, cfg.hd)
    k = linear(cfg, x, w, p + "k_proj").view(T, cfg.nkv, cfg.hd)
    v = linear(cfg, x, w, p + "v_proj").view(T, cfg.nkv, cfg.hd)
    q = rotate(rms_norm(q, w[p + "q_norm.weight"], cfg.eps), cos[:, None], sin[:, None])
    k = rotate(rms_norm(k, w[p + "k_norm.weight"], cfg.eps), cos[:, None], sin[:, None])
    group = cfg.nh // cfg.nkv
    i = torch.arange(T)[:, None]
    j = torch.arange(T)[None, :]
    masked = j > i
    if cfg.window:
        masked = masked | (i - j >= cfg.window)
    out = torch.empty(T, cfg.nh, cfg.hd, dtype=DT)
    for h in range(cfg.nh):
        kv = h // group
        s = (q[:, h] @ k[:, kv].T) / math.sqrt(cfg.hd)
        s = s.masked_fill(masked, -math.inf)
        out[:, h] = torch.softmax(s, dim=-1) @ v[:, kv]
    return linear(cfg, out.reshape(T, cfg.nh * cfg.hd), w, p + "o_proj")


def swiglu(cfg, names, x, gate, up, down):
    """down(silu(gate(x)) * up(x)); names are the three matrices' names."""
    g = act(cfg, names[0], x) @ gate.T
    u = act(cfg, names[1], x) @ up.T
    return act(cfg, names[2], torch.nn.functional.silu(g) * u) @ down.T


def moe(cfg, w, p, x, trace, rec=None):
    logits = x @ w[p + "gate.weight"].T
    if rec is not None:
        rec["router"].append(logits)
    probs = torch.softmax(logits, dim=-1)  # [T, E] over all experts
    order = torch.argsort(probs, dim=-1, descending=True, stable=True)
    top = order[:, : cfg.k]
    out = torch.zeros_like(x)
    names = [p + "experts." + a for a in ("gate", "up", "down")]
    gate, up, down = (w[n] for n in names)
    for t in range(x.shape[0]):
        pw = probs[t, top[t]]
        if cfg.norm_topk:
            pw = pw / pw.sum()
        for j, e in enumerate(top[t].tolist()):
            out[t] += pw[j] * swiglu(cfg, names, x[t], gate[e], up[e], down[e])
        kth = probs[t, order[t, cfg.k - 1]].item()
        nxt = probs[t, order[t, cfg.k]].item() if cfg.k < cfg.E else 0.0
        trace.append((top[t].tolist(), pw.tolist(), kth - nxt))
    return out


def forward(cfg, w, ids):
    """Logits [T, V] of every position of ids, and per MoE layer its routing."""
    x, routing = backbone(cfg, w, ids)
    return act(cfg, "lm_head.weight", x) @ w["lm_head.weight"].T, routing


def backbone(cfg, w, ids, rec=None):
    """The final-normed hidden states [T, H] and per MoE layer its routing.
    With rec, rec["inputs"] gets every layer's input and rec["router"] every
    MoE layer's router logits."""
    T = len(ids)
    x = w["model.embed_tokens.weight"][torch.tensor(ids)]
    inv, af = cfg.inv_freq()
    ang = torch.arange(T, dtype=DT)[:, None] * inv[None, :]
    cos, sin = torch.cos(ang) * af, torch.sin(ang) * af
    routing = {}
    for i in range(cfg.L):
        p = f"model.layers.{i}."
        if rec is not None:
            rec["inputs"].append(x)
        h = rms_norm(x, w[p + "input_layernorm.weight"], cfg.eps)
        x = x + attention(cfg, w, p + "self_attn.", h, cos, sin)
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], cfg.eps)
        if cfg.sparse(i):
            trace = []
            x = x + moe(cfg, w, p + "mlp.", h, trace, rec)
            routing[i] = trace
        else:
            m = p + "mlp."
            names = [f"{m}{a}_proj.weight" for a in ("gate", "up", "down")]
            x = x + swiglu(cfg, names, h, *(w[n] for n in names))
    return rms_norm(x, w["model.norm.weight"], cfg.eps), routing


def pool(ids, pad):
    """The position GenericForSequenceClassification pools (modeling_layers.py):
    the rightmost token that is not pad_token_id, found there as the argmax of
    index * (id != pad), hence 0 when every token is pad; the last token when
    the config has no pad_token_id."""
    if pad is None:
        return len(ids) - 1
    kept = [i for i, t in enumerate(ids) if t != pad]
    return kept[-1] if kept else 0


def aux_loss(cfg, router):
    """load_balancing_loss_func without attention mask, before the
    coefficient: over all layers' rows, E * sum over experts of (fraction of
    rows with the expert among their top k) * (mean routing probability)."""
    probs = torch.softmax(torch.cat(router, dim=0), dim=-1)  # [layers*T, E]
    top = torch.topk(probs, cfg.k, dim=-1).indices
    share = torch.zeros(cfg.E, dtype=DT)
    for e in top.reshape(-1).tolist():
        share[e] += 1
    share /= probs.shape[0]
    return float((share * probs.mean(dim=0)).sum() * cfg.E)


def task(cfg, w, ids, out):
    """One forward pass over ids; writes the class's own head output
    (head.bin), every hidden state as transformers v5 records them
    (hidden.bin [L+1, T, H]: each layer's input, then the final-normed last
    layer output), the router logits (router.bin [MoE layers, T, E]) and
    golden.json with the aux loss and the pooled position."""
    rec = {"inputs": [], "router": []}
    x, _ = backbone(cfg, w, ids, rec)
    T = len(ids)
    golden = {"class": cfg.cls, "prompt": ids, "tokens": T, "hidden_size": cfg.H}
    if cfg.cls == "Qwen3MoeForCausalLM":
        head = act(cfg, "lm_head.weight", x) @ w["lm_head.weight"].T
    elif cfg.cls == "Qwen3MoeModel":
        head = x
    elif cfg.cls == "Qwen3MoeForSequenceClassification":  # score: no bias
        p = pool(ids, cfg.pad)
        golden["pooled"] = p
        head = x[p] @ w["head.weight"].T
    elif cfg.cls in ("Qwen3MoeForTokenClassification", "Qwen3MoeForQuestionAnswering"):
        head = x @ w["head.weight"].T + w["head.bias"]  # [T, labels] or [T, (start, end)]
    else:
        raise ValueError(f"class {cfg.cls} unknown")
    golden["head_shape"] = list(head.shape)
    golden["head_std"] = head.std().item() if head.numel() > 1 else abs(head.item())
    golden["router_layers"] = [i for i in range(cfg.L) if cfg.sparse(i)]
    golden["aux_loss"] = aux_loss(cfg, rec["router"])
    os.makedirs(out, exist_ok=True)
    for name, t in (("head", head), ("hidden", torch.stack(rec["inputs"] + [x])),
                    ("router", torch.stack(rec["router"]))):
        t.to(torch.float32).numpy().astype("<f4").tofile(os.path.join(out, name + ".bin"))
    with open(os.path.join(out, "golden.json"), "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hf", required=True, help="Hugging Face checkpoint directory (config.json, weights)")
    ap.add_argument("--gguf", help="take the weights from this GGUF file instead, dequantized")
    ap.add_argument("--act-q8", action="store_true",
                    help="with --gguf: round the inputs of Q8_0/Q4_0 matrices to Q8_0, as q3m does")
    ap.add_argument("--gguf-py", metavar="DIR",
                    help="with --gguf: read and dequantize through llama.cpp's gguf-py in DIR (every block type)")
    ap.add_argument("--prompt", required=True, help="comma-separated token ids")
    ap.add_argument("--steps", type=int, default=16, help="greedy steps")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--task", action="store_true",
                    help="one pass over the prompt: the class's head output, hidden states, router logits, aux loss")
    a = ap.parse_args()
    cfg, w = load(a.hf, a.gguf, a.act_q8, a.gguf_py)
    prompt = [int(s) for s in a.prompt.split(",")]
    if a.task:
        return task(cfg, w, prompt, a.out)
    seq, greedy = list(prompt), []
    for _ in range(a.steps):
        logits, routing = forward(cfg, w, seq)
        nxt = int(torch.argmax(logits[-1]).item())
        greedy.append(nxt)
        seq.append(nxt)
    # logits and routing now cover prompt + greedy[:-1]
    top2 = torch.topk(logits, 2, dim=-1).values
    golden = {
        "prompt": prompt,
        "greedy": greedy,
        "vocab": cfg.V,
        "rows": logits.shape[0],
        "logit_std": logits.std().item(),
        "margins": (top2[:, 0] - top2[:, 1]).tolist(),
        "router": [
            {"layer": i, "experts": [t[0] for t in tr], "weights": [t[1] for t in tr], "gaps": [t[2] for t in tr]}
            for i, tr in sorted(routing.items())
        ],
    }
    os.makedirs(a.out, exist_ok=True)
    logits.to(torch.float32).numpy().astype("<f4").tofile(os.path.join(a.out, "logits.bin"))
    with open(os.path.join(a.out, "golden.json"), "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
