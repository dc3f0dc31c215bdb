package runtime

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/q3m/q3m/sysmem"
)

// lockWeights locks the pages of the weights other than routed experts in
// memory (mlock), tensor by tensor in file order, until the system refuses
// (RLIMIT_MEMLOCK without the privilege to exceed it): expert traffic
// then cannot evict them. What is not locked stays as it is: read by every
// token's forward pass, those pages are the page cache's most recently used
// and the last the kernel reclaims. The stats say how far locking went.
func (p *Pager) lockWeights() {
	page := uint64(sysmem.PageSize())
	data := p.f.Mapping()
	var spans [][2]uint64
	for _, t := range p.f.Tensors {
		if strings.HasSuffix(t.Name, "_exps.weight") {
			continue
		}
		off := p.f.DataOffset + t.Offset
		lo, hi := off&^(page-1), min((off+t.Bytes()+page-1)&^(page-1), uint64(len(data)))
		if lo < hi {
			spans = append(spans, [2]uint64{lo, hi})
		}
	}
	slices.SortFunc(spans, func(a, b [2]uint64) int { return cmp.Compare(a[0], b[0]) })
	var locked uint64
	var err error
	for i := 0; i < len(spans) && err == nil; i++ {
		lo, hi := spans[i][0], spans[i][1]
		for i+1 < len(spans) && spans[i+1][0] <= hi { // touching or sharing a page
			hi = max(hi, spans[i+1][1])
			i++
		}
		if err = sysmem.Lock(data[lo:hi]); err == nil {
			locked += hi - lo
		}
	}
	p.stats.LockedBytes = int64(locked)
	if err != nil {
		limit, lerr := sysmem.LockLimit()
		if lerr == nil {
			err = fmt.Errorf("%w (RLIMIT_MEMLOCK %s)", err, sizeString(int64(min(limit, 1<<62))))
		}
		p.stats.LockError = err.Error()
	}
}
