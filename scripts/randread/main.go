// Command randread measures a disk's random-read bandwidth as an expert
// cache sees it: reads of one expert's size (3 MiB by default, a Q4_0
// Qwen3-30B-A3B expert is 3.4 MiB) at random page-aligned offsets of a file,
// with O_DIRECT so that the page cache neither helps nor is filled.
// capbench.sh uses it for the disk bound.
//
//	go run ./scripts/randread -size 3MiB -n 64 FILE
//
// It prints one line: "randread: N reads of B bytes, J at a time: X MB/s".
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"time"
)

func main() {
	size := flag.Int("size", 3<<20, "bytes per read (rounded up to 4096)")
	n := flag.Int("n", 64, "reads")
	jobs := flag.Int("j", 1, "reads in flight")
	seed := flag.Uint64("seed", 1, "seed of the offsets")
	flag.Parse()
	if flag.NArg() != 1 || *size <= 0 || *n <= 0 || *jobs <= 0 || *jobs > 64 || *size > 1<<30 {
		fmt.Fprintln(os.Stderr, "usage: randread [-size BYTES (≤1GiB)] [-n READS] [-j 1..64] FILE")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), (*size+4095)&^4095, *n, *jobs, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "randread:", err)
		os.Exit(1)
	}
}

func run(path string, size, n, jobs int, seed uint64) error {
	f, err := openDirect(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	pages := (st.Size() - int64(size)) / 4096
	if pages <= 0 {
		return fmt.Errorf("%s: %d bytes, smaller than one read of %d", path, st.Size(), size)
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	offs := make([]int64, n)
	for i := range offs {
		offs[i] = rng.Int64N(pages) * 4096
	}
	next := make(chan int64)
	errs := make(chan error, jobs)
	var wg sync.WaitGroup
	start := time.Now()
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := alignedBuffer(size)
			for off := range next {
				if _, err := f.ReadAt(buf, off); err != nil {
					errs <- fmt.Errorf("%s: read of %d bytes at %d: %w", path, size, off, err)
					return
				}
			}
		}()
	}
	for _, off := range offs {
		next <- off
	}
	close(next)
	wg.Wait()
	el := time.Since(start)
	select {
	case err := <-errs:
		return err
	default:
	}
	fmt.Printf("randread: %d reads of %d bytes, %d at a time: %.0f MB/s\n", n, size, jobs, float64(n)*float64(size)/el.Seconds()/1e6)
	return nil
}

// alignedBuffer returns size bytes starting on a 4096-byte boundary, as
// O_DIRECT requires.
func alignedBuffer(size int) []byte {
	b := make([]byte, size+4096)
	off := 0
	if r := int(uintptrOf(b) % 4096); r != 0 {
		off = 4096 - r
	}
	return b[off : off+size]
}
