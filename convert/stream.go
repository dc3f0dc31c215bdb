package convert

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/quant"
)

// chunkBytes bounds the source bytes read and converted at once.
const chunkBytes = 4 << 20

// maxThreads caps Options.Threads as llama.cpp caps its threads (ggml's
// GGML_MAX_N_THREADS): each thread holds a row of scratch.
const maxThreads = 512

// inFlight is the number of chunks in the pipeline: one being read, one
// converted, one written.
const inFlight = 3

// streamer converts the source rows of the output tensors and writes them
// in order. A reader goroutine, the converting goroutine (which splits each
// chunk's rows across threads) and a writer goroutine overlap, passing
// at most inFlight reused chunks, so memory stays a few chunks whatever the
// checkpoint size.
type streamer struct {
	w        *format.Writer
	tensors  []outTensor
	threads  int
	progress func(Progress)
	start    time.Time
	last     time.Time
	done     int64
	total    int64
	scratch  [][]float32 // one row of float32 per thread
}

// chunk is a run of whole rows of one segment.
type chunk struct {
	t        *outTensor
	src      *srcTensor
	rows     int
	rowLen   int
	in, out  []byte
	srcBytes int64
}

func newStreamer(w *format.Writer, opt Options, tensors []outTensor) *streamer {
	n := opt.Threads
	if n <= 0 {
		n = runtime.NumCPU()
	}
	n = min(n, maxThreads)
	s := &streamer{w: w, tensors: tensors, threads: n, progress: opt.Progress, start: time.Now(), scratch: make([][]float32, n)}
	for i := range tensors {
		s.total += tensors[i].srcBytes()
	}
	return s
}

// run streams every tensor; it stops at the first error or when ctx ends.
func (s *streamer) run(parent context.Context) error {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	s.report("", true)
	free := make(chan *chunk, inFlight)
	for range inFlight {
		free <- &chunk{}
	}
	toConvert := make(chan *chunk)
	toWrite := make(chan *chunk)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer close(toConvert)
		if err := s.read(ctx, free, toConvert); err != nil {
			cancel(err)
		}
	}()
	go func() {
		defer wg.Done()
		for c := range toWrite {
			if ctx.Err() != nil {
				continue // drain after an error
			}
			if _, err := s.w.Write(c.out); err != nil {
				cancel(fmt.Errorf("convert: writing %s: %w", c.t.Name, err))
				continue
			}
			s.done += c.srcBytes
			s.report(c.t.Name, false)
			free <- c
		}
	}()
	for c := range toConvert {
		if ctx.Err() != nil {
			break
		}
		if err := s.convert(c); err != nil {
			cancel(fmt.Errorf("convert: tensor %s from %q in %s: %w", c.t.Name, c.src.Name, c.src.shard.path, err))
			break
		}
		toWrite <- c
	}
	close(toWrite)
	wg.Wait()
	if ctx.Err() != nil {
		err := context.Cause(ctx)
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("convert: %w", err) // the caller's context; ours say "convert:" already
		}
		return err
	}
	s.report("", true)
	return nil
}

// read fills chunks with source rows, in output order.
func (s *streamer) read(ctx context.Context, free <-chan *chunk, out chan<- *chunk) error {
	for i := range s.tensors {
		t := &s.tensors[i]
		for _, seg := range t.Segs {
			src := seg.Src
			elem := int64(src.Type.BlockBytes())
			rowSrc := seg.RowLength * elem
			dstRow, err := t.Type.RowBytes(int(seg.RowLength))
			if err != nil {
				return fmt.Errorf("convert: tensor %s: %w", t.Name, err)
			}
			rows := seg.Len / seg.RowLength
			per := max(1, chunkBytes/rowSrc)
			for r := int64(0); r < rows; r += per {
				var c *chunk
				select {
				case c = <-free:
				case <-ctx.Done():
					return nil
				}
				n := min(per, rows-r)
				*c = chunk{t: t, src: src, rows: int(n), rowLen: int(seg.RowLength),
					in: grow(c.in, n*rowSrc), out: grow(c.out, n*int64(dstRow)), srcBytes: n * rowSrc}
				if err := src.shard.ReadAt(c.in, src.Off+(seg.Off+r*seg.RowLength)*elem); err != nil {
					return fmt.Errorf("%w (tensor %q)", err, src.Name)
				}
				select {
				case out <- c:
				case <-ctx.Done():
					return nil
				}
			}
		}
	}
	return nil
}

// report sends progress if forced or if 100 ms have passed since the last.
func (s *streamer) report(tensor string, force bool) {
	if s.progress == nil {
		return
	}
	now := time.Now()
	if !force && now.Sub(s.last) < 100*time.Millisecond {
		return
	}
	s.last = now
	s.progress(Progress{Done: s.done, Total: s.total, Tensor: tensor, Elapsed: now.Sub(s.start)})
}

// convert converts c's rows from the source type to the output type,
// rows split evenly across the threads.
func (s *streamer) convert(c *chunk) error {
	st, dt := c.src.Type, c.t.Type
	if st == dt {
		copy(c.out, c.in)
		return nil
	}
	n := c.rows
	rs, rd := len(c.in)/n, len(c.out)/n
	workers := min(s.threads, n)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		if cap(s.scratch[w]) < c.rowLen {
			s.scratch[w] = make([]float32, c.rowLen)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := s.scratch[w][:c.rowLen]
			for r := w * n / workers; r < (w+1)*n/workers; r++ {
				if err := quant.Dequantize(st, f, c.in[r*rs:(r+1)*rs]); err != nil {
					errs[w] = err
					return
				}
				if err := quant.Quantize(dt, c.out[r*rd:(r+1)*rd], f); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// grow returns buf[:n], reallocating only when it is too small.
func grow(buf []byte, n int64) []byte {
	if int64(cap(buf)) < n {
		return make([]byte, n)
	}
	return buf[:n]
}
