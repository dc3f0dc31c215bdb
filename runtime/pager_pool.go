package runtime

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/q3m/q3m/sysmem"
)

// ExpertIO names how the pager brings a routed expert's weights into
// memory.
type ExpertIO int

const (
	// IOAuto chooses by the expert budget (AutoExpertIO): IOMmap when
	// every expert fits, IODirect when the cache is capped (IOPread where
	// the file system refuses uncached reads).
	IOAuto ExpertIO = iota
	// IOMmap reads experts through the file's shared mapping: the pager
	// advises the kernel to read them ahead (WillNeed) and to drop them
	// (DontNeed); page faults do the reading.
	IOMmap
	// IOPread reads each chosen expert's gate, up and down bytes with
	// pread into a slot of a fixed pool of anonymous memory, on
	// background goroutines; the matrix products read the slot. The
	// page cache the reads fill is dropped after each expert
	// (FADV_DONTNEED where the system has it), so that under a memory cap
	// that counts the page cache the process holds its slots and little
	// else.
	IOPread
	// IODirect is IOPread with O_DIRECT: the reads bypass the page cache,
	// so expert traffic neither fills it nor evicts other pages.
	IODirect
)

// ExpertIOs lists the names ParseExpertIO accepts, in ExpertIO order.
var ExpertIOs = []string{"auto", "mmap", "pread", "direct"}

// AutoExpertIO is the mechanism IOAuto uses under an expert budget (0: no
// cap). When every expert fits, the mapping: no copies, and the pages are
// shared with every other process reading the file. When the cache is
// capped, O_DIRECT reads into the slots: a cap that counts the page cache
// then charges the process its slots and nothing for the file's pages.
func AutoExpertIO(budget int64) ExpertIO {
	if budget > 0 {
		return IODirect
	}
	return IOMmap
}

func (x ExpertIO) String() string {
	if x >= 0 && int(x) < len(ExpertIOs) {
		return ExpertIOs[x]
	}
	return fmt.Sprintf("ExpertIO(%d)", int(x))
}

// ParseExpertIO returns the mechanism of the given name.
func ParseExpertIO(s string) (ExpertIO, error) {
	for i, n := range ExpertIOs {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return ExpertIO(i), nil
		}
	}
	return 0, fmt.Errorf("runtime: expert I/O %q: want one of %s", s, strings.Join(ExpertIOs, ", "))
}

// ioAlign is the alignment of O_DIRECT reads (offset, length and buffer):
// 4 KiB covers the logical block size of every common device.
const ioAlign = 4096

// readers is the number of goroutines reading experts: the requests a
// layer's misses put in flight at once (a token of Qwen3-30B-A3B misses
// up to 8 experts a layer, 24 ranges).
const readers = 8

// slotState is where a slot's expert is.
type slotState uint8

const (
	slotFree    slotState = iota
	slotLoading           // a reader is filling it
	slotReady             // it holds the expert's bytes
	slotFailed            // the read failed: the expert is read from the mapping
)

// slotPool is a fixed number of page-aligned slots of anonymous memory,
// each able to hold one expert's gate, up and down ranges, filled by
// reader goroutines with pread. Its fields other than mem, fd and the
// placements are guarded by the pager's mutex.
type slotPool struct {
	fd       *os.File
	direct   bool
	page     int // the system's page size
	mem      []byte
	unmap    func([]byte) error
	slotSize int
	at       [][3]int // per id: where each range's first byte is in its slot

	slotOf []int32 // per id: its slot, or -1
	idOf   []int32 // per slot: its expert, or -1
	state  []slotState
	refs   []int32 // per slot: sessions computing with it
	spec   []bool  // read ahead on a prediction and not chosen yet
	orphan []bool  // dropped while being read: freed when the read ends, unless chosen before
	free   []int32
	reqs   chan int32 // slots to fill
	done   *sync.Cond // on the pager's mutex: a read ended
	wg     sync.WaitGroup
	err    error // the first read error
}

// ioSpan returns the aligned file range [lo, hi) covering r.
func ioSpan(r byteRange) (lo, hi uint64) {
	return r.off &^ (ioAlign - 1), (r.off + r.n + ioAlign - 1) &^ (ioAlign - 1)
}

// newSlotPool makes a pool of slots for the experts of ranges: as many as
// budget bytes hold (all experts when budget is 0), at least minSlots. It
// opens its own descriptor of path (with O_DIRECT when direct) and starts
// the readers, which stop at close.
func newSlotPool(path string, ranges [][3]byteRange, budget int64, minSlots int, direct bool, mu *sync.Mutex) (*slotPool, error) {
	p := &slotPool{direct: direct, page: sysmem.PageSize(), at: make([][3]int, len(ranges)), slotOf: make([]int32, len(ranges))}
	experts := 0
	for id, rs := range ranges {
		p.slotOf[id] = -1
		pos := 0
		for j, r := range rs {
			if r.n == 0 {
				continue
			}
			lo, hi := ioSpan(r)
			p.at[id][j] = pos + int(r.off-lo)
			pos += int(hi - lo)
		}
		if pos > 0 {
			experts++
		}
		p.slotSize = max(p.slotSize, pos)
	}
	if p.slotSize == 0 {
		return nil, errors.New("pager: no routed experts to read")
	}
	n := experts
	if budget > 0 {
		n = min(n, max(int(budget/int64(p.slotSize)), minSlots, 1))
	}
	var err error
	if p.mem, p.unmap, err = anonymous(n * p.slotSize); err != nil {
		return nil, fmt.Errorf("pager: %d expert slots of %d bytes: %w", n, p.slotSize, err)
	}
	adviseHuge(p.mem)
	if p.fd, err = openForReads(path, direct); err == nil && direct {
		err = p.probe(ranges)
	}
	if err != nil {
		if p.fd != nil {
			p.fd.Close()
		}
		p.unmap(p.mem)
		return nil, fmt.Errorf("pager: %w", err)
	}
	p.idOf, p.state, p.refs = make([]int32, n), make([]slotState, n), make([]int32, n)
	p.spec, p.orphan, p.free = make([]bool, n), make([]bool, n), make([]int32, 0, n)
	for s := n - 1; s >= 0; s-- {
		p.idOf[s] = -1
		p.free = append(p.free, int32(s))
	}
	p.reqs = make(chan int32, n) // a slot is queued at most once: sends never block
	p.done = sync.NewCond(mu)
	return p, nil
}

// probe reads the first aligned block of the first expert into slot 0:
// some file systems accept O_DIRECT at open and refuse the reads.
func (p *slotPool) probe(ranges [][3]byteRange) error {
	for _, rs := range ranges {
		for _, r := range rs {
			if r.n == 0 {
				continue
			}
			lo, _ := ioSpan(r)
			if _, err := p.fd.ReadAt(p.mem[:ioAlign], int64(lo)); err != nil && !errors.Is(err, io.EOF) {
				return fmt.Errorf("uncached read [%d, %d): %w", lo, lo+ioAlign, err)
			}
			return nil
		}
	}
	return nil
}

// slots is the number of slots.
func (p *slotPool) slots() int { return len(p.idOf) }

// read fills slot s with the ranges rs of an expert, without locks: the
// slot is the caller's while it is loading.
func (p *slotPool) read(s int, id int, rs [3]byteRange) error {
	for j, r := range rs {
		if err := p.readRange(s, id, j, r); err != nil {
			return err
		}
	}
	return nil
}

// readRange fills range j of expert id's slot s with the file's bytes r.
func (p *slotPool) readRange(s, id, j int, r byteRange) error {
	if r.n == 0 {
		return nil
	}
	at := s*p.slotSize + p.at[id][j]
	if !p.direct {
		if _, err := p.fd.ReadAt(p.mem[at:at+int(r.n)], int64(r.off)); err != nil {
			return fmt.Errorf("read [%d, %d): %w", r.off, r.off+r.n, err)
		}
		return nil
	}
	lo, hi := ioSpan(r)
	start := at - int(r.off-lo)
	n, err := p.fd.ReadAt(p.mem[start:start+int(hi-lo)], int64(lo))
	if err != nil && !(errors.Is(err, io.EOF) && uint64(n) >= r.off+r.n-lo) {
		return fmt.Errorf("direct read [%d, %d): %w", lo, hi, err)
	}
	return nil
}

// uncache drops the page cache of the ranges rs that a plain read filled
// (nothing for uncached reads): the bytes are in the slot now, and under
// a memory cap that counts the page cache they would be charged twice.
// The ranges are widened to whole pages, for the kernel keeps partial
// ones; pages another reader still maps (the non-expert weights, experts
// read through the mapping) stay.
func (p *slotPool) uncache(rs [3]byteRange) error {
	for _, r := range rs {
		if err := p.uncacheRange(r); err != nil {
			return err
		}
	}
	return nil
}

// uncacheRange is uncache of one range.
func (p *slotPool) uncacheRange(r byteRange) error {
	if p.direct || r.n == 0 {
		return nil
	}
	page := uint64(p.page)
	lo, hi := r.off&^(page-1), (r.off+r.n+page-1)&^(page-1)
	if err := dropCached(p.fd, int64(lo), int64(hi-lo)); err != nil {
		return fmt.Errorf("drop the page cache of [%d, %d): %w", lo, hi, err)
	}
	return nil
}

// data returns the bytes of range j of expert id in slot s.
func (p *slotPool) data(s, id, j int, n uint64) []byte {
	at := s*p.slotSize + p.at[id][j]
	return p.mem[at : at+int(n) : at+int(n)]
}

// close stops the readers, then releases the memory and the descriptor.
func (p *slotPool) close() error {
	close(p.reqs)
	p.wg.Wait()
	err := p.fd.Close()
	if uerr := p.unmap(p.mem); err == nil {
		err = uerr
	}
	return err
}
