//go:build unix

package runtime

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/q3m/q3m/format"
	"github.com/q3m/q3m/quant"
)

// TestEvalReturnsAnErrorWhenTheModelFileIsTruncated truncates the file of
// a loaded model to its header: reading the weights faults (SIGBUS), on
// the session's goroutine and on the pool's workers alike, and each Eval
// must return an error wrapping ErrModelFault, leave the session where it
// was, and leave the process running.
func TestEvalReturnsAnErrorWhenTheModelFileIsTruncated(t *testing.T) {
	skipUnderQEMU(t, "SIGBUS arrives with address 0")
	c := tinyConfig()
	tm := buildTiny(t, c, buildOptions{typ: quant.Q8_0, seed: 40})
	model := openTiny(t, tm)
	sessions := []*Session{newSession(t, model, 1), newSession(t, model, 4)}
	ids := randIDs(40, 40, c.Vocab) // more than one batch
	for _, s := range sessions {
		if _, err := s.Eval(ids[:3], false); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Truncate(tm.path, int64(model.File().DataOffset)); err != nil {
		t.Fatal(err)
	}
	for i, s := range sessions {
		for _, n := range []int{1, len(ids)} {
			_, err := s.Eval(ids[:n], n > 1)
			if !errors.Is(err, ErrModelFault) {
				t.Fatalf("session %d, %d tokens: Eval after truncation returned %v, want ErrModelFault", i, n, err)
			}
			if s.Pos() != 3 {
				t.Errorf("session %d: position %d after the failed Eval, want 3", i, s.Pos())
			}
		}
	}
	if err := model.Close(); err != nil {
		t.Errorf("Close after faults: %v", err)
	}
}

func TestChatStreamEndsWithAnErrorWhenTheModelFileIsTruncated(t *testing.T) {
	skipUnderQEMU(t, "SIGBUS arrives with address 0")
	model, _ := chatModel(t)
	chat := newTestChat(t, model, ChatOptions{MaxTokens: 4})
	if _, err := chat.Send(context.Background(), "hello", nil); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(model.File().Path, int64(model.File().DataOffset)); err != nil {
		t.Fatal(err)
	}
	var last error
	for _, err := range chat.Stream(context.Background(), "again") {
		last = err
	}
	if !errors.Is(last, ErrModelFault) {
		t.Errorf("the stream ended with %v, want ErrModelFault", last)
	}
}

// TestLoadingATruncatedMappingIsAnError truncates the file between mapping
// and reading the weights (which copies the norms and biases).
func TestLoadingATruncatedMappingIsAnError(t *testing.T) {
	skipUnderQEMU(t, "SIGBUS arrives with address 0")
	tm := buildTiny(t, tinyConfig(), buildOptions{seed: 41})
	f, err := format.Open(tm.path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := os.Truncate(tm.path, int64(f.DataOffset)); err != nil {
		t.Fatal(err)
	}
	if _, err := newModel(f); !errors.Is(err, ErrModelFault) {
		t.Errorf("reading the weights of a truncated mapping: %v, want ErrModelFault", err)
	}
}

// TestChatRefusesLogitsThatAreNotNumbers writes a NaN scale into the first
// block of the output matrix's row 0 (read in place from the mapping): the
// logit of token 0 becomes NaN, and the answer must end with an error
// wrapping ErrBadLogits rather than go on sampling around it.
func TestChatRefusesLogitsThatAreNotNumbers(t *testing.T) {
	model, _ := chatModel(t)
	f := model.File()
	out, ok := f.Tensor("output.weight")
	if !ok {
		out, _ = f.Tensor("token_embd.weight")
	}
	if out.Type != quant.Q8_0 {
		t.Fatalf("output matrix is %s, want Q8_0", out.Type)
	}
	w, err := os.OpenFile(f.Path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.WriteAt([]byte{0x00, 0x7e}, int64(f.DataOffset+out.Offset)) // float16 NaN
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	chat := newTestChat(t, model, ChatOptions{MaxTokens: 4})
	reply, err := chat.Send(context.Background(), "hello", nil)
	if !errors.Is(err, ErrBadLogits) {
		t.Errorf("answer %q ended with %v, want ErrBadLogits", reply.Content, err)
	}
}
