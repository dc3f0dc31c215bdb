package main

import (
	"bufio"
	"context"
	"fmt"
	"io"

	"github.com/q3m/q3m/runtime"
)

// logitBatch is the number of positions whose logits the logits command
// holds at once: it evaluates the prompt this many tokens at a time (the
// session's prefill batch, so the results are those of one Eval of the
// whole prompt, bit for bit) and hands each row on before the next batch.
const logitBatch = 32

// logitRows runs ids through s in batches of logitBatch tokens and calls
// row with each position's logits (V values), in order. The slice is valid
// only during the call. Memory holds logitBatch rows, whatever len(ids).
// The ids and the room left in the context are checked before the first
// row, so that nothing is printed for a prompt that cannot be evaluated.
func logitRows(ctx context.Context, s *runtime.Session, V int, ids []int32, row func(t int, logits []float32) error) error {
	for i, id := range ids {
		if id < 0 || int(id) >= V {
			return fmt.Errorf("token %d (index %d) outside vocabulary [0, %d)", id, i, V)
		}
	}
	if s.Pos()+len(ids) > s.ContextLen() {
		return fmt.Errorf("%d tokens at position %d exceed the context of %d: %w", len(ids), s.Pos(), s.ContextLen(), runtime.ErrContextFull)
	}
	for done := 0; done < len(ids); done += logitBatch {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch := ids[done:min(done+logitBatch, len(ids))]
		logits, err := s.Eval(batch, true)
		if err != nil {
			return err
		}
		for i := range batch {
			if err := row(done+i, logits[i*V:(i+1)*V]); err != nil {
				return err
			}
		}
	}
	return nil
}

// printTopLogits prints, for each position of ids, its five largest
// logits as "pos T (id ID): I:V …", taking the rows from rows (logitRows,
// or logits already computed) one at a time.
func printTopLogits(w io.Writer, ids []int32, rows func(row func(t int, logits []float32) error) error) error {
	bw := bufio.NewWriter(w)
	var top [5]int
	err := rows(func(t int, row []float32) error {
		fmt.Fprintf(bw, "pos %d (id %d):", t, ids[t])
		for _, i := range topK(top[:], row) {
			fmt.Fprintf(bw, " %d:%.4f", i, row[i])
		}
		_, err := fmt.Fprintln(bw)
		return err
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

// topK fills idx with the indices of the len(idx) largest values of row,
// largest first (the lower index first among equal values), and returns
// the filled part; it allocates nothing.
func topK(idx []int, row []float32) []int {
	n := 0
	for i, v := range row {
		if n == len(idx) && v <= row[idx[n-1]] {
			continue
		}
		j := min(n, len(idx)-1)
		for j > 0 && v > row[idx[j-1]] {
			idx[j] = idx[j-1]
			j--
		}
		idx[j] = i
		if n < len(idx) {
			n++
		}
	}
	return idx[:n]
}
