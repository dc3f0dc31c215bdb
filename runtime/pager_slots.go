package runtime

import (
	"fmt"
	"time"

	"github.com/q3m/q3m/format"
)

// Slot values of expertUse.slot besides a slot number.
const (
	notChosen   = -1 // the batch did not choose the expert
	fromMapping = -2 // its weights are read through the file's mapping
)

// expertUse is what one session holds of the slot pool for the layer it
// computes: where each chosen expert's weights are, and the slots it
// pinned. It lives in the Session and is reused, layer after layer.
type expertUse struct {
	layer   int
	slot    []int32 // per expert of the layer: a slot, notChosen or fromMapping
	held    []int32 // slots pinned (refs) until release
	mapped  []int   // ids read through the mapping, dropped at release
	late    []bool  // per expert of the layer: its slot was being read at acquire
	pending bool    // some late slot is not known to be read yet
}

func newExpertUse(experts int) *expertUse {
	u := &expertUse{slot: make([]int32, experts), held: make([]int32, 0, experts), mapped: make([]int, 0, experts), late: make([]bool, experts)}
	for e := range u.slot {
		u.slot[e] = notChosen
	}
	return u
}

// startReaders starts the goroutines that fill the pool's slots.
func (p *Pager) startReaders() {
	p.slotPinnedFn = p.slotPinned
	for range readers {
		p.pool.wg.Go(p.reader)
	}
}

// reader fills the slots queued until the queue is closed.
func (p *Pager) reader() {
	q := p.pool
	for s := range q.reqs {
		p.mu.Lock()
		id := int(q.idOf[s])
		p.mu.Unlock()
		err := q.read(int(s), id, p.ranges[id])
		var uerr error
		if err == nil {
			uerr = q.uncache(p.ranges[id])
		}
		p.mu.Lock()
		if uerr != nil { // advice only: the slot holds the expert
			p.stats.Errors++
		}
		q.state[s] = slotReady
		if err != nil {
			q.state[s] = slotFailed
			p.stats.Errors++
			if q.err == nil {
				q.err = fmt.Errorf("runtime: %s: expert %d of layer %d: %w", p.f.Path, id%p.experts, id/p.experts, err)
			}
		}
		if q.orphan[s] {
			q.orphan[s] = false
			q.slotOf[id], q.idOf[s], q.state[s] = -1, -1, slotFree
			q.free = append(q.free, s)
		}
		q.done.Broadcast()
		p.mu.Unlock()
	}
}

// acquire makes the chosen experts of a layer available to the session
// that u belongs to: experts in a slot are pinned there; the others get a
// slot (a free one, or the policy's victim's) and a read on the readers,
// or, when every slot is pinned, are read through the mapping. Wrong
// predictions of the layer give their slots back. experts may repeat.
func (p *Pager) acquire(layer int, experts []int, u *expertUse) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for e := range u.slot {
		u.slot[e] = notChosen
	}
	clear(u.late)
	u.layer, u.held, u.mapped, u.pending = layer, u.held[:0], u.mapped[:0], false
	if layer < 0 || layer >= p.layers {
		return
	}
	now := p.tick(layer)
	q, base := p.pool, layer*p.experts
	var misses int
	for _, e := range experts {
		id := base + e
		if e < 0 || e >= p.experts || p.size[id] == 0 || p.stamp[id] == p.gen {
			continue
		}
		p.stamp[id] = p.gen
		if p.predicted[id] {
			p.stats.PrefetchHits++
		}
		p.policy.Access(id, now)
		s := q.slotOf[id]
		switch {
		case s < 0:
			p.stats.Misses++
			u.slot[e] = fromMapping // for now: given a slot below
			misses++
			continue
		case q.orphan[s]: // a dropped prediction still being read: taken over
			p.stats.Misses++
			q.orphan[s] = false
			p.hold(id)
		case q.spec[s]: // read ahead on a prediction: a miss the read covered
			p.stats.Misses++
			p.gate.useful += uint64(p.size[id])
			q.spec[s] = false
			p.hold(id)
		default:
			p.stats.Hits++
		}
		q.refs[s]++
		u.slot[e], u.held = s, append(u.held, s)
		u.late[e] = q.state[s] == slotLoading
		u.pending = u.pending || u.late[e]
	}
	p.dropPredictions(layer)
	for e := 0; misses > 0 && e < p.experts; e++ {
		if u.slot[e] != fromMapping {
			continue
		}
		misses--
		id := base + e
		p.stats.BytesIn += uint64(p.size[id])
		s := p.takeSlot()
		if s < 0 { // every slot is pinned: read it through the mapping this once
			p.policy.Evict(id)
			p.advise(id, format.WillNeed)
			u.mapped = append(u.mapped, id)
			continue
		}
		p.load(id, s, false)
		q.refs[s]++
		u.slot[e], u.held, u.late[e], u.pending = s, append(u.held, s), true, true
	}
}

// hold enters id in the books as resident.
func (p *Pager) hold(id int) {
	p.resident[id] = true
	p.layerResident[id/p.experts]++
	p.stats.Resident++
	p.stats.ResidentBytes += p.size[id]
}

// load gives slot s to expert id and queues its read.
func (p *Pager) load(id int, s int32, spec bool) {
	q := p.pool
	q.slotOf[id], q.idOf[s], q.state[s], q.spec[s] = s, int32(id), slotLoading, spec
	if !spec {
		p.hold(id)
	}
	q.reqs <- s
}

// takeSlot returns a free slot, or frees the slot of the expert the policy
// drops first among those no session is computing with; -1 if none.
func (p *Pager) takeSlot() int32 {
	q := p.pool
	if n := len(q.free); n > 0 {
		s := q.free[n-1]
		q.free = q.free[:n-1]
		return s
	}
	id := p.policy.Victim(p.slotPinnedFn)
	if id < 0 || q.slotOf[id] < 0 {
		return -1
	}
	s := q.slotOf[id]
	p.policy.Evict(id)
	q.slotOf[id], q.idOf[s], q.state[s] = -1, -1, slotFree
	p.resident[id] = false
	p.layerResident[id/p.experts]--
	p.stats.Resident--
	p.stats.ResidentBytes -= p.size[id]
	p.stats.BytesOut += uint64(p.size[id])
	p.stats.Evictions++
	return s
}

// slotPinned reports whether an expert may not lose its slot: chosen by
// the current batch, in use by a session, or without a slot at all.
func (p *Pager) slotPinned(id int) bool {
	s := p.pool.slotOf[id]
	return p.stamp[id] == p.gen || s < 0 || p.pool.refs[s] > 0 || p.pool.orphan[s]
}

// dropPredictions gives back the slots read ahead for a layer whose
// experts were not chosen, and forgets the layer's predictions.
func (p *Pager) dropPredictions(layer int) {
	q, base := p.pool, layer*p.experts
	for id := base; id < base+p.experts; id++ {
		if s := q.slotOf[id]; s >= 0 && q.spec[s] {
			p.gate.wasted += uint64(p.size[id])
			q.spec[s] = false
			if q.state[s] == slotLoading {
				// The slot stays the expert's until its read ends: a
				// later choice of it takes the read over instead of
				// another slot (with no spare slot, an eviction).
				q.orphan[s] = true
			} else {
				q.slotOf[id], q.idOf[s], q.state[s] = -1, -1, slotFree
				q.free = append(q.free, s)
			}
		}
	}
	clear(p.predicted[base : base+p.experts])
	p.judgePrefetch()
}

// prefetchSlots reads ahead the experts predicted for a layer into slots
// (free ones, or the policy's victims'), as speculations the layer's
// acquire keeps or gives back.
func (p *Pager) prefetchSlots(layer int, experts []int) {
	q, base := p.pool, layer*p.experts
	for _, e := range experts {
		id := base + e
		if e < 0 || e >= p.experts || p.size[id] == 0 || p.predicted[id] {
			continue
		}
		p.predicted[id] = true
		p.stats.Predicted++
		if q.slotOf[id] >= 0 {
			continue
		}
		s := p.takeSlot()
		if s < 0 {
			return
		}
		p.load(id, s, true)
		p.stats.BytesIn += uint64(p.size[id])
		p.stats.BytesPrefetched += uint64(p.size[id])
	}
}

// await waits for the reads of u's slots and sends the experts whose read
// failed to the mapping.
func (p *Pager) await(u *expertUse) {
	if !u.pending {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	q := p.pool
	var start time.Time
	for e, s := range u.slot {
		if s < 0 {
			continue
		}
		for q.state[s] == slotLoading {
			if start.IsZero() {
				start = time.Now()
			}
			q.done.Wait()
		}
		if q.state[s] == slotFailed {
			u.slot[e] = fromMapping
		}
	}
	if !start.IsZero() {
		p.stats.ReadWait += time.Since(start)
	}
	u.pending = false
}

// release unpins u's slots and drops the experts read through the mapping.
func (p *Pager) release(u *expertUse) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range u.held {
		p.pool.refs[s]--
	}
	for _, id := range u.mapped {
		p.advise(id, format.DontNeed)
	}
	u.held, u.mapped = u.held[:0], u.mapped[:0]
}
