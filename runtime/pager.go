package runtime

import (
	"fmt"
	"sync"
	"time"

	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/routing"
	"github.com/q3m/q3m/sysmem"
)

// LoadOptions configures LoadWith. The zero value is what Load uses: the
// pager on, its budget sized by the memory plan, prefetch on.
type LoadOptions struct {
	// ExpertBudget caps the bytes of routed-expert weights the pager keeps
	// in the process's resident set; beyond it, experts the policy picks
	// are dropped (they are read again from the page cache or disk when next
	// chosen). The experts one batch needs stay resident even when they
	// exceed it. 0 means the budget of the memory plan (MemoryPlan.Budget:
	// no cap when all experts fit the memory available), or no cap at all
	// with NoAutoBudget.
	ExpertBudget int64
	// MemoryLimit is the bytes the process may use, which the memory plan
	// divides; 0 means detected (sysmem.Detect: the cgroup's limit less its
	// usage, or MemAvailable).
	MemoryLimit int64
	// ContextLen is the context the memory plan reserves a KV cache for;
	// 0 means the default a session takes (DefaultContextLen, at most the
	// model's).
	ContextLen int
	// KVType is the KV cache type the memory plan reserves for (the
	// sessions' SessionOptions.KVType; the zero value is KVF16, their default).
	KVType KVType
	// NoAutoBudget leaves the experts uncapped when ExpertBudget is 0: the
	// pager only tracks use and prefetches.
	NoAutoBudget bool
	// NoPager leaves residency wholly to the operating system: no advice,
	// no tracking, no prediction of the next layer's experts.
	NoPager bool
	// NoPrefetch turns off predicting and reading ahead the next layer's
	// experts.
	NoPrefetch bool
	// Policy names the rule that picks the experts to drop when over
	// budget, one of routing.Policies; "" means routing.DefaultPolicy.
	Policy string
	// ExpertIO is how experts are read: through the mapping (IOMmap) or
	// into a pool of slots (IOPread, IODirect) of ExpertBudget bytes (all
	// experts without a budget; at least one token's experts of a layer).
	// The zero value, IOAuto, picks by the budget (AutoExpertIO); the
	// memory plan (Model.MemoryPlan) says what was used and why.
	ExpertIO ExpertIO
	// NoLock leaves the weights other than routed experts unlocked. By
	// default, under an expert budget, they are locked in memory (mlock)
	// as far as the system permits, so that expert traffic never evicts
	// them; PagerStats says how far.
	NoLock bool
}

// LoadWith opens the model file at path and prepares its weights and its
// expert pager as opt says.
func LoadWith(path string, opt LoadOptions) (*Model, error) {
	if opt.ExpertBudget < 0 || opt.MemoryLimit < 0 || opt.ContextLen < 0 {
		return nil, fmt.Errorf("runtime: %s: negative expert budget %d, memory limit %d or context length %d", path, opt.ExpertBudget, opt.MemoryLimit, opt.ContextLen)
	}
	f, err := format.Open(path)
	if err != nil {
		return nil, err
	}
	m, err := newModel(f)
	if err == nil && !opt.NoPager {
		plan, planErr := planMemory(f, m.cfg, opt.ContextLen, opt.KVType, opt.MemoryLimit)
		if opt.ExpertBudget == 0 && !opt.NoAutoBudget && planErr == nil {
			opt.ExpertBudget = plan.Budget()
		}
		m.pager, err = newPager(m, opt)
		if err == nil {
			plan.ExpertIO = m.pager.io
			plan.ExpertIONote = m.pager.ioNote
			m.pager.plan, m.pager.planErr = plan, planErr
			if opt.ExpertBudget > 0 && !opt.NoLock {
				m.pager.lockWeights()
			}
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return m, nil
}

// PagerStats counts the expert pager's work since the model was loaded.
type PagerStats struct {
	Hits, Misses    uint64 // chosen experts that were resident / were not
	Predicted       uint64 // experts predicted for the next layer
	PrefetchHits    uint64 // predicted experts that were then chosen
	Evictions       uint64 // experts dropped to stay within the budget
	BytesIn         uint64 // bytes advised WillNeed (on demand and prefetched)
	BytesPrefetched uint64 // of BytesIn, read ahead on a prediction
	BytesOut        uint64 // bytes of evicted experts, advised DontNeed
	Resident        int    // experts the pager holds within its budget now (its books)
	ResidentBytes   int64  // their bytes
	// InMemory and InMemoryBytes are what is really in memory now, asked
	// of the kernel (mincore) expert by expert when the stats are taken:
	// the experts whose pages are all in the page cache and the expert
	// bytes that are, whoever touched them. What a memory cgroup charges;
	// it can be below ResidentBytes under a cap, and above it when the
	// kernel keeps pages the pager dropped. -1 where the system cannot
	// tell (not Linux).
	InMemory      int
	InMemoryBytes int64
	Budget        int64  // ExpertBudget (0: none)
	Errors        uint64 // failed madvise calls (advice is only a hint) and failed reads

	ExpertIO string // the mechanism: mmap, pread or direct
	Slots    int    // with pread or direct: the pool's slots, each one expert
	// PrefetchUseful and PrefetchWasted are the bytes read ahead on a
	// prediction (not resident before) that the layer then chose, and
	// did not; PrefetchOff counts the times prediction switched itself
	// off for a while because too little of what it read was used.
	PrefetchUseful, PrefetchWasted uint64
	PrefetchOff                    uint64
	// ReadWait is the time forward passes waited for slots' reads (with
	// pread or direct): the disk time computation did not hide.
	ReadWait time.Duration
	// LockedBytes is the bytes of non-expert weights locked in memory;
	// LockError why the rest (if any) is not.
	LockedBytes int64
	LockError   string
	// MajorFaults counts the process's major page faults since the model
	// was loaded (getrusage; 0 where unknown).
	MajorFaults uint64
}

// MemoryPlan returns the plan of the model's memory: the one its pager's
// budget was sized from, or (without a pager) one made now for the
// default context and the memory detected.
func (m *Model) MemoryPlan() (MemoryPlan, error) {
	if m.pager != nil {
		return m.pager.plan, m.pager.planErr
	}
	return planMemory(m.file, m.cfg, 0, KVF16, 0)
}

// PagerStats returns the counters of the model's expert pager (all zero
// without one).
func (m *Model) PagerStats() PagerStats {
	if m.pager == nil {
		return PagerStats{}
	}
	return m.pager.Stats()
}

// Pager decides which routed experts' weights stay in RAM. It tracks each
// (layer, expert) that a batch has chosen; makes a chosen expert resident
// by advising the kernel to read its gate, up and down ranges before the
// matrix products touch them; drops the experts its policy picks
// (routing.Policy; by default routing.DefaultPolicy) with DontNeed when
// their bytes exceed the budget; and reads ahead the experts predicted for
// the next layer. Advice never changes
// data, so the model computes the same logits under any budget. A Pager is
// shared by all Sessions of a Model and safe for concurrent use; one
// session may evict experts another is reading, which costs time, never
// correctness.
type Pager struct {
	f        *format.File
	experts  int            // E; expert e of layer l has id l·E+e
	ranges   [][3]byteRange // per id: gate, up and down byte ranges (none for dense layers)
	size     []int64        // per id: bytes of the three ranges
	budget   int64          // 0: no cap
	prefetch bool
	plan     MemoryPlan // what the budget was sized from
	planErr  error

	pool          *slotPool         // nil with IOMmap
	io            ExpertIO          // how experts are read (never IOAuto)
	ioNote        string            // why io is not the one chosen, if so
	slotPinnedFn  func(id int) bool // p.slotPinned, made once
	faults0       uint64            // major faults at load
	mu            sync.Mutex
	gate          prefetchGate
	resident      []bool
	layerResident []int // per layer: resident experts
	predicted     []bool
	stamp         []uint64 // per id: the Ensure call that last chose it
	gen           uint64
	policy        routing.Policy
	pinned        func(id int) bool // chosen by the current Ensure call
	layers        int
	clock         int64 // passes through the layers so far (a policy's tokens)
	lastLayer     int   // of the last Ensure call
	stats         PagerStats
}

// byteRange is an absolute file byte range.
type byteRange struct{ off, n uint64 }

func newPager(m *Model, opt LoadOptions) (*Pager, error) {
	c, f := m.cfg, m.file
	p, err := makePager(f, len(m.layers), max(c.Experts, 1), opt)
	if err != nil {
		return nil, fmt.Errorf("runtime: %s: %w", f.Path, err)
	}
	E := p.experts
	exps := expertTensors(c.Tensors(), len(m.layers))
	for li := range m.layers {
		if !m.layers[li].moe {
			continue
		}
		if len(exps[li]) != 3 {
			return nil, fmt.Errorf("runtime: %s: layer %d has %d expert tensors in the table, want gate, up and down", f.Path, li, len(exps[li]))
		}
		for j, tn := range exps[li] {
			t, ok := f.Tensor(tn)
			if !ok {
				return nil, fmt.Errorf("runtime: %s: no tensor %q", f.Path, tn)
			}
			for e := range c.Experts {
				off, n, err := f.ExpertRange(t, e)
				if err != nil {
					return nil, fmt.Errorf("runtime: pager: %w", err)
				}
				id := li*E + e
				p.ranges[id][j] = byteRange{off, n}
				p.size[id] += int64(n)
			}
		}
	}
	mech := opt.ExpertIO
	if mech == IOAuto {
		mech = AutoExpertIO(p.budget)
	}
	if mech != IOMmap {
		if mech != IOPread && mech != IODirect {
			return nil, fmt.Errorf("runtime: %s: unknown expert I/O %v", f.Path, mech)
		}
		slots := max(c.ExpertsUsed, 1)
		p.pool, err = newSlotPool(f.Path, p.ranges, p.budget, slots, mech == IODirect, &p.mu)
		if err != nil && opt.ExpertIO == IOAuto && mech == IODirect {
			// Chosen, not asked for: plain reads, which drop the page cache they fill, come closest.
			p.ioNote = fmt.Sprintf("uncached reads refused (%v): pread instead", err)
			mech = IOPread
			p.pool, err = newSlotPool(f.Path, p.ranges, p.budget, slots, false, &p.mu)
		}
		if err != nil {
			return nil, fmt.Errorf("runtime: %s: %s: %w", f.Path, mech, err)
		}
		p.stats.Slots = p.pool.slots()
		p.startReaders()
	}
	p.io, p.stats.ExpertIO = mech, mech.String()
	p.faults0, _ = sysmem.MajorFaults()
	return p, nil
}

// close stops the pager's readers and frees its slots.
func (p *Pager) close() error {
	if p.pool == nil {
		return nil
	}
	return p.pool.close()
}

// tick starts a routing decision of layer at the pager's clock and
// returns its time (passes through the layers so far · layers + layer).
func (p *Pager) tick(layer int) int64 {
	p.gen++
	if layer <= p.lastLayer { // a new pass through the layers: the next token
		p.clock++
	}
	p.lastLayer = layer
	return p.clock*int64(p.layers) + int64(layer)
}

// makePager returns a pager of layers·experts experts without byte ranges.
func makePager(f *format.File, layers, experts int, opt LoadOptions) (*Pager, error) {
	name := opt.Policy
	if name == "" {
		name = routing.DefaultPolicy
	}
	policy, err := routing.NewPolicy(name, layers, experts)
	if err != nil {
		return nil, err
	}
	ids := layers * experts
	p := &Pager{
		f: f, experts: experts, budget: opt.ExpertBudget, prefetch: !opt.NoPrefetch,
		ranges: make([][3]byteRange, ids), size: make([]int64, ids),
		resident: make([]bool, ids), layerResident: make([]int, layers), predicted: make([]bool, ids), stamp: make([]uint64, ids),
		policy: policy, layers: layers, clock: -1, lastLayer: layers,
	}
	p.pinned = func(id int) bool { return p.stamp[id] == p.gen }
	p.stats.Budget = p.budget
	return p, nil
}

// Ensure makes the experts of a layer resident before a batch reads them:
// experts not resident are advised WillNeed; the policy records the use of
// all; then, over budget, experts not in experts are dropped as the policy
// picks them. experts may repeat (one entry per token and rank). With a
// slot pool (IOPread, IODirect) it gives the experts slots and starts
// their reads, holding none of them.
func (p *Pager) Ensure(layer int, experts []int) {
	if p.pool != nil {
		u := newExpertUse(p.experts)
		p.acquire(layer, experts, u)
		p.release(u)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if layer < 0 || layer >= p.layers {
		return
	}
	now := p.tick(layer)
	base := layer * p.experts
	for _, e := range experts {
		id := base + e
		if e < 0 || e >= p.experts || id < 0 || id >= len(p.size) || p.stamp[id] == p.gen {
			continue
		}
		p.stamp[id] = p.gen
		if p.predicted[id] {
			p.stats.PrefetchHits++
		}
		if p.resident[id] {
			p.stats.Hits++
		} else {
			p.stats.Misses++
			if p.predicted[id] {
				p.gate.useful += uint64(p.size[id])
			} else { // predicted experts were advised already
				p.advise(id, format.WillNeed)
				p.stats.BytesIn += uint64(p.size[id])
			}
			p.resident[id] = true
			p.layerResident[layer]++
			p.stats.Resident++
			p.stats.ResidentBytes += p.size[id]
		}
		p.policy.Access(id, now)
	}
	for id := base; id < base+p.experts; id++ {
		if p.predicted[id] && p.stamp[id] != p.gen && !p.resident[id] {
			p.gate.wasted += uint64(p.size[id])
		}
	}
	clear(p.predicted[base : base+p.experts])
	p.judgePrefetch()
	p.evict()
}

// Prefetch reads ahead the experts predicted for a layer, so that the
// reading overlaps the computation until Ensure. It changes neither the
// resident set nor the policy's records: read-ahead pages enter the page cache,
// not the process, until touched.
func (p *Pager) Prefetch(layer int, experts []int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if layer < 0 || layer >= p.layers {
		return
	}
	if p.pool != nil {
		p.prefetchSlots(layer, experts)
		return
	}
	base := layer * p.experts
	for _, e := range experts {
		id := base + e
		if e < 0 || e >= p.experts || id < 0 || id >= len(p.size) || p.predicted[id] {
			continue
		}
		p.predicted[id] = true
		p.stats.Predicted++
		if !p.resident[id] {
			p.advise(id, format.WillNeed)
			p.stats.BytesIn += uint64(p.size[id])
			p.stats.BytesPrefetched += uint64(p.size[id])
		}
	}
}

// evict drops the experts the policy picks until the resident bytes fit
// the budget or only the current batch's experts are left.
func (p *Pager) evict() {
	for p.budget > 0 && p.stats.ResidentBytes > p.budget {
		id := p.policy.Victim(p.pinned)
		if id < 0 || !p.resident[id] {
			return // everything left is in use by this batch
		}
		p.policy.Evict(id)
		p.resident[id] = false
		p.layerResident[id/p.experts]--
		p.dropNeighbourhood(id)
		p.stats.Resident--
		p.stats.ResidentBytes -= p.size[id]
		p.stats.BytesOut += uint64(p.size[id])
		p.stats.Evictions++
	}
}

// mapReach is how far around a touched page the kernel may map other
// pages of the file: the fault-around window (64 KiB), or a whole large
// page-cache folio, at most a PMD (2 MiB on x86-64 and 4 KiB-page arm64).
const mapReach = 2 << 20

// dropNeighbourhood advises DontNeed on an evicted expert's ranges, each
// widened over neighbouring experts of the tensor that are not resident
// either, up to mapReach each way: touching an expert maps pages around
// it too, and those must go for the resident set to stay near the budget.
func (p *Pager) dropNeighbourhood(id int) {
	e := id % p.experts
	for j, r := range p.ranges[id] {
		lo, hi := r.off, r.off+r.n
		for d := 1; e-d >= 0 && !p.resident[id-d] && r.off-lo < mapReach; d++ {
			lo = p.ranges[id-d][j].off
		}
		for d := 1; e+d < p.experts && !p.resident[id+d] && hi-(r.off+r.n) < mapReach; d++ {
			hi = p.ranges[id+d][j].off + p.ranges[id+d][j].n
		}
		if hi == lo {
			continue
		}
		if err := p.f.Advise(lo, hi-lo, format.DontNeed); err != nil {
			p.stats.Errors++
		}
	}
}

func (p *Pager) advise(id int, a format.Advice) {
	for _, s := range p.ranges[id] {
		if s.n == 0 {
			continue
		}
		if err := p.f.Advise(s.off, s.n, a); err != nil {
			p.stats.Errors++
		}
	}
}

// Stats returns the pager's counters, with what is in memory measured now.
func (p *Pager) Stats() PagerStats {
	p.mu.Lock()
	st := p.stats
	p.mu.Unlock()
	if p.f == nil { // a pager without a file (tests) has nothing to measure
		return st
	}
	if n, err := sysmem.MajorFaults(); err == nil {
		st.MajorFaults = n - min(n, p.faults0)
	}
	if p.pool != nil { // in memory: the slots read
		p.mu.Lock()
		for s, id := range p.pool.idOf {
			if id >= 0 && p.pool.state[s] == slotReady {
				st.InMemory++
				st.InMemoryBytes += p.size[id]
			}
		}
		p.mu.Unlock()
		return st
	}
	for id, rs := range p.ranges {
		if p.size[id] == 0 {
			continue
		}
		var in uint64
		for _, r := range rs {
			n, err := p.f.Resident(r.off, r.n)
			if err != nil {
				st.InMemory, st.InMemoryBytes = -1, -1
				return st
			}
			in += n
		}
		st.InMemoryBytes += int64(in)
		if int64(in) == p.size[id] {
			st.InMemory++
		}
	}
	return st
}
