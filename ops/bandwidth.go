package ops

import (
	"fmt"
	"runtime/debug"
	"sync"
	"time"
	"unsafe"
)

// MaxBandwidthBytes bounds the buffer MeasureReadBandwidth allocates.
const MaxBandwidthBytes = 1 << 34

// MeasureReadBandwidth returns the machine's read bandwidth in bytes per
// second as threads goroutines see it: a STREAM-like read-only sum over a
// buffer of size bytes (make it much larger than the last-level cache;
// 1 GiB is a good size), each goroutine summing its own contiguous part.
// The buffer is written once, so that its pages are mapped, then read
// three times; the best pass is returned, as STREAM does.
func MeasureReadBandwidth(threads, size int) (float64, error) {
	if threads < 1 || threads > MaxThreads {
		return 0, fmt.Errorf("ops: read bandwidth: %d threads, want 1..%d", threads, MaxThreads)
	}
	if size < 1<<20 || size > MaxBandwidthBytes {
		return 0, fmt.Errorf("ops: read bandwidth: buffer of %d bytes, want 1 MiB..%d", size, MaxBandwidthBytes)
	}
	buf := make([]uint64, size/8)
	for i := range buf {
		buf[i] = uint64(i)
	}
	// Collect and return to the system what earlier work left, so that
	// neither the collector nor the scavenger runs beside the passes.
	debug.FreeOSMemory()
	best := 0.0
	for range 3 {
		start := time.Now()
		readAll(buf, threads)
		if bw := float64(8*len(buf)) / time.Since(start).Seconds(); bw > best {
			best = bw
		}
	}
	return best, nil
}

// sink keeps the sums of readAll observable, so that the loads are not
// removed.
var sink struct {
	sync.Mutex
	v uint64
}

// readAll sums buf on threads goroutines, each over a contiguous part.
func readAll(buf []uint64, threads int) {
	var wg sync.WaitGroup
	part := (len(buf)/threads + 7) &^ 7
	for t := range threads {
		lo := min(t*part, len(buf))
		hi := min(lo+part, len(buf))
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := sum64(buf[lo:hi])
			sink.Lock()
			sink.v += s
			sink.Unlock()
		}()
	}
	wg.Wait()
}

// sum64 returns the wrapping sum of b, in eight independent chains so that
// the loop is bound by the loads, not by the additions.
func sum64(b []uint64) uint64 {
	var s0, s1, s2, s3, s4, s5, s6, s7 uint64
	n := len(b) &^ 7
	for i := 0; i < n; i += 8 {
		v := (*[8]uint64)(unsafe.Pointer(&b[i]))
		s0 += v[0]
		s1 += v[1]
		s2 += v[2]
		s3 += v[3]
		s4 += v[4]
		s5 += v[5]
		s6 += v[6]
		s7 += v[7]
	}
	for _, v := range b[n:] {
		s0 += v
	}
	return s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7
}
