package tokenizer

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

func TestEncodeSpecialMatchesReference(t *testing.T) {
	tok := qwen(t)
	for i, c := range refCases(t) {
		if got := tok.EncodeSpecial(c.Text); !slices.Equal(got, c.IDs) {
			t.Errorf("case %d EncodeSpecial(%q)\n got %v\nwant %v", i, c.Text, got, c.IDs)
		}
	}
}

func TestEncodeTreatsAddedTokensAsText(t *testing.T) {
	tok := qwen(t)
	for i, c := range refCases(t) {
		got := tok.Encode(c.Text)
		if !slices.Equal(got, c.Plain) {
			t.Errorf("case %d Encode(%q)\n got %v\nwant %v", i, c.Text, got, c.Plain)
		}
		for _, id := range got {
			if tok.IsAdded(id) {
				t.Errorf("case %d Encode(%q) produced added token %d", i, c.Text, id)
			}
		}
		if !strings.Contains(c.Text, "<") && !slices.Equal(got, tok.EncodeSpecial(c.Text)) {
			t.Errorf("case %d: Encode and EncodeSpecial differ on %q, which has no added token", i, c.Text)
		}
	}
}

func TestDecodeMatchesReference(t *testing.T) {
	tok := qwen(t)
	for i, c := range refCases(t) {
		if got := tok.Decode(c.IDs); got != c.Decoded {
			t.Errorf("case %d Decode(%v) = %q, want %q", i, c.IDs, got, c.Decoded)
		}
		if got, want := tok.Decode(c.Plain), exactNFC(c.Text); got != want {
			t.Errorf("case %d Decode(Encode(%q)) = %q, want NFC %q", i, c.Text, got, want)
		}
	}
}

func TestDecodeReplacesInvalidUTF8LikeTheReference(t *testing.T) {
	tok := qwen(t)
	// Expected strings are what TextDecoder (WHATWG, as the JavaScript
	// reference decodes) gives for the same bytes.
	cases := []struct {
		bytes []byte
		want  string
	}{
		{[]byte{0xE2, 0x82, 'a'}, "\uFFFDa"},
		{[]byte{0xF0, 0x9F}, "\uFFFD"},
		{[]byte{0xC0, 0x80}, "\uFFFD\uFFFD"},
		{[]byte{0xED, 0xA0, 0x80}, "\uFFFD\uFFFD\uFFFD"},
		{[]byte{0xF4, 0x90, 0x80, 0x80}, "\uFFFD\uFFFD\uFFFD\uFFFD"},
		{[]byte{0xE0, 0x80, 0xAF}, "\uFFFD\uFFFD\uFFFD"},
		{[]byte{0xF0, 0x9F, 0x98, 'a'}, "\uFFFDa"},
		{[]byte{'a', 0xFF, 'b'}, "a\uFFFDb"},
		{[]byte{0xEF, 0xBB, 0xBF, 'a'}, "\uFEFFa"},
	}
	for _, c := range cases {
		ids := make([]int32, len(c.bytes))
		for i, b := range c.bytes {
			ids[i] = tok.byteID[b]
		}
		if got := tok.Decode(ids); got != c.want {
			t.Errorf("Decode(bytes % x) = %q, want %q", c.bytes, got, c.want)
		}
		d := tok.NewDecoder()
		var sb strings.Builder
		for _, id := range ids {
			sb.WriteString(d.Add(id))
		}
		sb.WriteString(d.Flush())
		if sb.String() != c.want {
			t.Errorf("streaming bytes % x = %q, want %q", c.bytes, sb.String(), c.want)
		}
	}
}

func TestDecoderStreamsCompleteUTF8(t *testing.T) {
	tok := qwen(t)
	for i, c := range refCases(t) {
		d := tok.NewDecoder()
		var sb strings.Builder
		for _, id := range c.IDs {
			s := d.Add(id)
			if !utf8.ValidString(s) {
				t.Errorf("case %d: Add(%d) = %q, not valid UTF-8", i, id, s)
			}
			sb.WriteString(s)
		}
		sb.WriteString(d.Flush())
		if sb.String() != c.Decoded {
			t.Errorf("case %d: streamed %q, want %q", i, sb.String(), c.Decoded)
		}
	}
}

func TestDecoderHoldsBackSplitCharacter(t *testing.T) {
	tok := qwen(t)
	d := tok.NewDecoder()
	emoji := "😀" // F0 9F 98 80, fed one byte token at a time
	for k := 0; k < 3; k++ {
		if s := d.Add(tok.byteID[emoji[k]]); s != "" {
			t.Fatalf("byte %d of %q: Add returned %q before the character was complete", k, emoji, s)
		}
	}
	if s := d.Add(tok.byteID[emoji[3]]); s != emoji {
		t.Fatalf("last byte: Add = %q, want %q", s, emoji)
	}
	if s := d.Flush(); s != "" {
		t.Fatalf("Flush after a complete character = %q", s)
	}
}

func TestDecoderAddAllocatesNothing(t *testing.T) {
	tok := qwen(t)
	ids := tok.Encode("The quick brown fox jumps over the lazy dog, 你好 😀.")
	d := tok.NewDecoder()
	allocs := testing.AllocsPerRun(100, func() {
		for _, id := range ids {
			d.Add(id)
		}
	})
	if allocs != 0 {
		t.Errorf("Decoder.Add allocated %.1f times per stream of whole-character tokens", allocs)
	}
}

func TestEncodeIsSafeForConcurrentUse(t *testing.T) {
	tok := qwen(t)
	cases := refCases(t)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(cases); i += 2 {
				if got := tok.EncodeSpecial(cases[i].Text); !slices.Equal(got, cases[i].IDs) {
					t.Errorf("goroutine %d case %d: EncodeSpecial(%q) = %v, want %v", g, i, cases[i].Text, got, cases[i].IDs)
				}
			}
		}()
	}
	wg.Wait()
}

func TestSpecialTokensAndLookup(t *testing.T) {
	tok := qwen(t)
	if got := tok.VocabSize(); got != qwen3VocabSize {
		t.Errorf("VocabSize = %d, want %d", got, qwen3VocabSize)
	}
	cases := []struct {
		text           string
		id             int32
		special, added bool
	}{
		{"<|endoftext|>", 151643, true, true},
		{"<|im_start|>", 151644, true, true},
		{"<|im_end|>", 151645, true, true},
		{"<tool_call>", 151657, false, true},
		{"<|fim_prefix|>", 151659, false, true},
		{"<think>", 151667, false, true},
		{"</think>", 151668, false, true},
		{"Ġthe", 279, false, false},
		{"[PAD151700]", 151700, false, false},
	}
	for _, c := range cases {
		id, ok := tok.Lookup(c.text)
		if !ok || id != c.id {
			t.Errorf("Lookup(%q) = %d, %v; want %d", c.text, id, ok, c.id)
		}
		if tok.Token(c.id) != c.text || tok.IsSpecial(c.id) != c.special || tok.IsAdded(c.id) != c.added {
			t.Errorf("id %d: Token %q IsSpecial %v IsAdded %v; want %q %v %v", c.id,
				tok.Token(c.id), tok.IsSpecial(c.id), tok.IsAdded(c.id), c.text, c.special, c.added)
		}
	}
	if tok.BOS() != 151643 || tok.EOS() != 151645 || tok.PAD() != 151643 {
		t.Errorf("BOS, EOS, PAD = %d, %d, %d; want 151643, 151645, 151643", tok.BOS(), tok.EOS(), tok.PAD())
	}
	if s := tok.Decode([]int32{151700, -1, 1 << 30}); s != "" {
		t.Errorf("Decode of padding and out-of-range ids = %q, want empty", s)
	}
	if tok.Token(-1) != "" || tok.Token(1<<30) != "" || tok.IsSpecial(-5) {
		t.Error("out-of-range ids must give empty tokens and no special flag")
	}
}

func TestPieceIsTheBytesATokenDecodesTo(t *testing.T) {
	tok := qwen(t)
	end, _ := tok.Lookup("<|im_end|>")
	for _, c := range []struct {
		id   int32
		want string
	}{
		{tok.Encode("hello")[0], "hello"},
		{tok.Encode(" world")[0], " world"},
		{end, "<|im_end|>"},
		{tok.Encode("\xe6")[0], "\xe6"}, // a byte token that is not UTF-8
		{-1, ""},
		{151935, ""}, // padding past the tokenizer's tokens
	} {
		if got := tok.Piece(c.id); got != c.want {
			t.Errorf("Piece(%d) = %q, want %q", c.id, got, c.want)
		}
	}
}
