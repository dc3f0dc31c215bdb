package runtime

import (
	"fmt"
	goruntime "runtime"
	"strings"

	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/ops/asm"
	"github.com/q3m/q3m/sysmem"
)

// MemoryPlan divides the memory a process may use between the weights that
// must stay resident, the KV cache and the routed-expert cache.
type MemoryPlan struct {
	Available int64  // bytes the process may use (the limit planned for)
	Source    string // where Available came from: a cgroup file, /proc/meminfo, or "given"

	NonExpertBytes  int64 // weights read by every token: attention, norms, routers, embeddings, dense MLPs
	ExpertBytes     int64 // all routed experts' weights
	Experts         int   // routed experts (layers × experts per layer)
	KVBytesPerToken int64 // KV cache (and rope tables) per position
	ContextLen      int   // positions planned for
	KVBytes         int64 // KVBytesPerToken · ContextLen
	ScratchBytes    int64 // one session's activations for a prefill batch
	Margin          int64 // left for the Go heap, tokenizer and page tables

	// ExpertCache is the bytes left for routed experts; Fits reports it
	// holds them all (then no budget is needed).
	ExpertCache int64
	Fits        bool
	// ResidentShare is the share of experts the cache holds, in [0, 1]:
	// under uniform routing also the expected hit rate.
	ResidentShare float64
	// WorkingSet is the bytes of one token's experts (every MoE layer's
	// experts_per_token experts, the largest of each layer); an expert
	// cache below it refetches nearly every expert of every token.
	WorkingSet int64
	// ExpertIO is how experts are read: AutoExpertIO of the plan's budget,
	// or, in a loaded model's plan, the mechanism its pager uses;
	// ExpertIONote says why that is not the one chosen ("" when it is).
	ExpertIO     ExpertIO
	ExpertIONote string
}

// UniformHitRate is the expected share of chosen experts found resident
// when every expert is equally likely: the share resident.
func (p MemoryPlan) UniformHitRate() float64 { return p.ResidentShare }

// Budget is the ExpertBudget the plan implies: 0 (no cap) when all experts
// fit, else ExpertCache (at least 1 byte: a cache of nothing still keeps
// the batch's experts resident).
func (p MemoryPlan) Budget() int64 {
	if p.Fits {
		return 0
	}
	return max(p.ExpertCache, 1)
}

// Warning says what goes wrong with this plan, or "" when nothing does.
func (p MemoryPlan) Warning() string {
	switch {
	case p.Available <= 0:
		return "the memory available is unknown: expert cache not sized"
	case p.ExpertCache < p.WorkingSet:
		return fmt.Sprintf("the expert cache (%s) is below one token's expert working set (%s): nearly every expert is read from disk for every token; expect a speed bound by the disk",
			sizeString(p.ExpertCache), sizeString(p.WorkingSet))
	}
	return ""
}

// String describes the plan on a few lines, as q3m info and run print it.
func (p MemoryPlan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "memory available:   %s (%s)\n", sizeString(p.Available), p.Source)
	fmt.Fprintf(&b, "non-expert weights: %s\n", sizeString(p.NonExpertBytes))
	fmt.Fprintf(&b, "KV cache:           %s per token, %s at %d tokens\n", sizeString(p.KVBytesPerToken), sizeString(p.KVBytes), p.ContextLen)
	fmt.Fprintf(&b, "scratch and margin: %s\n", sizeString(p.ScratchBytes+p.Margin))
	fit := "no cap: all experts fit"
	if !p.Fits {
		fit = fmt.Sprintf("%.1f%% of %d experts (%s) fit; expected hit rate under uniform routing %.1f%%",
			100*p.ResidentShare, p.Experts, sizeString(p.ExpertBytes), 100*p.UniformHitRate())
	}
	fmt.Fprintf(&b, "expert cache:       %s, %s\n", sizeString(p.ExpertCache), fit)
	fmt.Fprintf(&b, "expert reads:       %s\n", p.describeIO())
	if w := p.Warning(); w != "" {
		fmt.Fprintf(&b, "warning:            %s\n", w)
	}
	return b.String()
}

// describeIO says how experts are read and why.
func (p MemoryPlan) describeIO() string {
	var why string
	switch p.ExpertIO {
	case IOMmap:
		why = "through the file's mapping"
		if p.Fits {
			why += ": every expert fits, no copies, page cache shared"
		}
	case IOPread:
		why = "pread into a pool of slots, dropping the page cache it fills"
	case IODirect:
		why = "O_DIRECT into a pool of slots, bypassing the page cache"
		if !p.Fits {
			why += ": the expert cache is capped"
		}
	}
	s := p.ExpertIO.String()
	if why != "" {
		s += " (" + why + ")"
	}
	if p.ExpertIONote != "" {
		s += "; " + p.ExpertIONote
	}
	return s
}

// PlanMemory plans the memory of running the model in f with a context of
// ctxLen positions (0: the default a session takes) and the default KV cache
// type (KVF16) within available bytes (0: detected with sysmem.Detect).
func PlanMemory(f *format.File, ctxLen int, available int64) (MemoryPlan, error) {
	c, err := ConfigFromFile(f)
	if err != nil {
		return MemoryPlan{}, err
	}
	return planMemory(f, c, ctxLen, KVF16, available)
}

func planMemory(f *format.File, c Config, ctxLen int, kv KVType, available int64) (MemoryPlan, error) {
	if available < 0 || ctxLen < 0 {
		return MemoryPlan{}, fmt.Errorf("runtime: %s: memory plan for %d bytes and %d positions", f.Path, available, ctxLen)
	}
	p := MemoryPlan{Available: available, Source: "given"}
	if available == 0 {
		l, err := sysmem.Detect()
		if err != nil {
			return MemoryPlan{}, fmt.Errorf("runtime: %s: memory plan: %w", f.Path, err)
		}
		p.Available, p.Source = l.Available, l.Source
	}
	if ctxLen == 0 || ctxLen > c.ContextLen {
		ctxLen = min(c.ContextLen, DefaultContextLen)
	}
	p.ContextLen = ctxLen
	exps := expertTensors(c.Tensors(), c.Layers)
	isExpert := make(map[string]bool)
	for _, names := range exps {
		for _, n := range names {
			isExpert[n] = true
		}
	}
	for _, t := range f.Tensors {
		if !isExpert[t.Name] {
			p.NonExpertBytes += int64(t.Bytes())
		}
	}
	for li := range c.Layers {
		if len(exps[li]) == 0 {
			continue
		}
		var each int64
		for _, name := range exps[li] {
			t, ok := f.Tensor(name)
			if !ok {
				return MemoryPlan{}, fmt.Errorf("runtime: %s: no tensor %s", f.Path, name)
			}
			p.ExpertBytes += int64(t.Bytes())
			each += int64(t.Bytes()) / int64(max(c.Experts, 1))
		}
		p.Experts += c.Experts
		p.WorkingSet += int64(c.ExpertsUsed) * each
	}
	perToken, err := KVBytesPerToken(c, kv)
	if err != nil {
		return MemoryPlan{}, fmt.Errorf("runtime: %s: memory plan: %w", f.Path, err)
	}
	p.KVBytesPerToken = int64(perToken)
	p.KVBytes = p.KVBytesPerToken * int64(ctxLen)
	p.ScratchBytes = scratchBytes(c, ctxLen)
	p.Margin = 64<<20 + p.Available/32
	p.ExpertCache = max(p.Available-p.NonExpertBytes-p.KVBytes-p.ScratchBytes-p.Margin, 0)
	switch {
	case p.Available == 0: // unknown: do not cap
		p.ExpertCache, p.Fits, p.ResidentShare = 0, true, 1
	case p.ExpertCache >= p.ExpertBytes:
		p.Fits, p.ResidentShare = true, 1
	case p.ExpertBytes > 0:
		p.ResidentShare = float64(p.ExpertCache) / float64(p.ExpertBytes)
	}
	p.ExpertIO = AutoExpertIO(p.Budget())
	return p, nil
}

// scratchBytes estimates one session's activation buffers (session.go's
// scratch for a batch of maxBatch tokens, the most it grows to) and its
// attention scores and quantized activations.
func scratchBytes(c Config, ctxLen int) int64 {
	B, H, k := maxBatch, c.Hidden, max(c.ExpertsUsed, 1)
	q, kv := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	floats := B*(3*H+2*q+2*kv+2*max(c.FFN, k*c.ExpertFFN)+c.Experts+2*k*H+k) + c.Vocab
	ints := B*k*3 + 2*c.Experts
	scores := goruntime.NumCPU() * max(1, c.Heads/max(c.KVHeads, 1)) * ctxLen
	xq := B * k * asm.MaxActivationBytes(max(H, c.FFN, c.ExpertFFN, q))
	return int64(4*(floats+scores) + 8*ints + xq)
}

// sizeString writes a byte count in binary units.
func sizeString(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
