package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// maxLineBytes bounds one line of input read by tokenize --jsonl and by
// piped `run`: a longer line is answered with an error and skipped, and
// the lines after it are read as usual.
const maxLineBytes = 16 << 20

// lineTooLongError reports a line above the limit; the line was skipped.
type lineTooLongError struct {
	line  int
	limit int
}

func (e *lineTooLongError) Error() string {
	return fmt.Sprintf("line %d: longer than the limit of %d bytes (%s); skipped", e.line, e.limit, humanBytes(int64(e.limit)))
}

// lineReader reads lines of at most limit bytes (not counting the "\n";
// a "\r" before it counts, and is dropped) on a goroutine, so that a reader blocked on input gives way to
// the cancellation of ctx.
type lineReader struct {
	lines <-chan lineResult
}

type lineResult struct {
	line []byte
	err  error
}

func newLineReader(ctx context.Context, r io.Reader, limit int) *lineReader {
	ch := make(chan lineResult)
	go func() {
		defer close(ch)
		br := bufio.NewReaderSize(r, 64<<10)
		for n := 1; ; n++ {
			line, err := readLine(br, limit, n)
			if errors.Is(err, io.EOF) && line == nil {
				return
			}
			select {
			case ch <- lineResult{line, err}:
			case <-ctx.Done():
				return
			}
			if err != nil && !errors.Is(err, io.EOF) {
				var tooLong *lineTooLongError
				if !errors.As(err, &tooLong) {
					return
				}
			}
		}
	}()
	return &lineReader{lines: ch}
}

// next returns the next line; io.EOF at the end of the input, a
// *lineTooLongError for a line that was skipped (read on after it), the
// context's error once it is cancelled.
func (l *lineReader) next(ctx context.Context) ([]byte, error) {
	select {
	case r, ok := <-l.lines:
		if !ok {
			return nil, io.EOF
		}
		if errors.Is(r.err, io.EOF) {
			return r.line, nil
		}
		return r.line, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// readLine reads line n from br, holding at most limit bytes of it: the
// rest of a longer line is read and dropped. It returns (nil, io.EOF) at
// the end of the input, and (line, io.EOF) for a last line without "\n".
func readLine(br *bufio.Reader, limit, n int) ([]byte, error) {
	var buf []byte
	tooLong, read := false, 0
	for {
		chunk, err := br.ReadSlice('\n')
		read += len(chunk)
		if !tooLong {
			if len(buf)+len(bytes.TrimSuffix(chunk, []byte("\n"))) > limit {
				tooLong, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if tooLong {
			return nil, &lineTooLongError{line: n, limit: limit}
		}
		if err != nil && read == 0 {
			return nil, io.EOF
		}
		buf = bytes.TrimSuffix(bytes.TrimSuffix(buf, []byte("\n")), []byte("\r"))
		if buf == nil {
			buf = []byte{}
		}
		return buf, err
	}
}

// readMessage reads all of r as one message: at most maxMessageBytes, in
// UTF-8. name names r in errors.
func readMessage(r io.Reader, name string) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxMessageBytes+1))
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", name, err)
	}
	if len(b) > maxMessageBytes {
		return "", fmt.Errorf("%s: longer than the limit of %d bytes (%s) for one message", name, maxMessageBytes, humanBytes(maxMessageBytes))
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("%s: not UTF-8 text", name)
	}
	return string(b), nil
}
