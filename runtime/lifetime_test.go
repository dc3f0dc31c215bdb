package runtime

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestCloseWhileChatsStreamThenUseAfterClose runs chats that stream
// answers (some cancelling their own answers midway) and a session that
// evaluates long prompts, all on one model; closes the model while they
// run; and uses everything after Close. Run under -race (CI does): there
// must be no race, no panic and no error other than ErrClosed,
// cancellation or a full context.
func TestCloseWhileChatsStreamThenUseAfterClose(t *testing.T) {
	m, _ := chatModel(t)
	const chats = 4
	var wg sync.WaitGroup
	running := make(chan struct{}, chats+1)
	errs := make(chan error, chats+1)
	ended := make([]*Chat, chats)
	for i := range chats {
		chat, err := m.NewChat(ChatOptions{Threads: 2, ContextLen: 256,
			Sampling: &SamplerOptions{Temperature: 1, Seed: uint64(i)}})
		if err != nil {
			t.Fatal(err)
		}
		ended[i] = chat
		wg.Add(1)
		go func() {
			defer wg.Done()
			signalled := false
			for {
				ctx, cancel := context.WithCancel(context.Background())
				n := 0
				var last error
				for _, err := range chat.Stream(ctx, "tell me a long story") {
					if err != nil {
						last = err
						break
					}
					if n++; !signalled {
						running <- struct{}{}
						signalled = true
					}
					if i%2 == 1 && n == 3 {
						cancel() // this chat cancels its own answers
					}
				}
				cancel()
				switch {
				case errors.Is(last, ErrClosed):
					errs <- nil
					return
				case last == nil, errors.Is(last, context.Canceled):
				case errors.Is(last, ErrContextFull):
					chat.Reset()
				default:
					errs <- last
					return
				}
			}
		}()
	}
	sess, err := m.NewSession(SessionOptions{Threads: 2, ContextLen: 512})
	if err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		ids := randIDs(50, 200, m.Config().Vocab)
		for k := 0; ; k++ {
			sess.Reset()
			_, err := sess.Eval(ids, k%2 == 0)
			if k == 0 {
				running <- struct{}{}
			}
			if errors.Is(err, ErrClosed) && sess.Pos() != 0 {
				err = errors.New("an Eval stopped by Close moved the session")
			} else if errors.Is(err, ErrClosed) {
				errs <- nil
				return
			}
			if err != nil {
				errs <- err
				return
			}
		}
	}()
	for range chats + 1 {
		<-running
	}
	closed := make(chan error, 2)
	for range 2 { // two Closes at once: both return, the second with nothing to do
		go func() { closed <- m.Close() }()
	}
	for range 2 {
		if err := <-closed; err != nil {
			t.Errorf("Close: %v", err)
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("chats still running 60 s after Close")
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}

	// Everything after Close fails with ErrClosed.
	if _, err := m.NewChat(ChatOptions{}); !errors.Is(err, ErrClosed) {
		t.Errorf("NewChat after Close: %v", err)
	}
	if _, err := m.NewSession(SessionOptions{}); !errors.Is(err, ErrClosed) {
		t.Errorf("NewSession after Close: %v", err)
	}
	if _, err := sess.Eval([]int32{1, 2}, false); !errors.Is(err, ErrClosed) {
		t.Errorf("Eval after Close: %v", err)
	}
	if _, err := ended[0].Send(context.Background(), "hi", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close: %v", err)
	}
	var last error
	for _, err := range ended[1].Stream(context.Background(), "hi") {
		last = err
	}
	if !errors.Is(last, ErrClosed) {
		t.Errorf("Stream after Close ended with %v", last)
	}
	if err := m.Close(); err != nil {
		t.Errorf("a third Close: %v", err)
	}
}
