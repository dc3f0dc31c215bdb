package ops

import (
	"fmt"
	"testing"
)

func TestSum64AddsEveryWord(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 63, 1000} {
		b := make([]uint64, n)
		want := uint64(0)
		for i := range b {
			b[i] = uint64(i)*0x9e3779b97f4a7c15 + 1
			want += b[i]
		}
		if got := sum64(b); got != want {
			t.Errorf("n=%d: %#x, want %#x", n, got, want)
		}
	}
}

func TestMeasureReadBandwidthRejectsBadArguments(t *testing.T) {
	for _, c := range []struct{ threads, size int }{
		{0, 1 << 20}, {MaxThreads + 1, 1 << 20}, {1, 1 << 19}, {1, MaxBandwidthBytes + 1},
	} {
		if _, err := MeasureReadBandwidth(c.threads, c.size); err == nil {
			t.Errorf("threads=%d size=%d: accepted", c.threads, c.size)
		}
	}
	bw, err := MeasureReadBandwidth(2, 1<<20)
	if err != nil || bw <= 0 {
		t.Errorf("1 MiB on 2 threads: %v, %v", bw, err)
	}
}

// BenchmarkReadBandwidth is the bandwidth baseline decode figures are
// compared with: a read-only sum over 1 GiB (far beyond the caches) on 1
// and 2 goroutines; MB/s is the read bandwidth.
func BenchmarkReadBandwidth(b *testing.B) {
	const size = 1 << 30
	buf := make([]uint64, size/8)
	for i := range buf {
		buf[i] = uint64(i)
	}
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				readAll(buf, threads)
			}
		})
	}
}
