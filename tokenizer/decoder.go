package tokenizer

// Decoder turns a stream of ids into text, emitting only complete UTF-8: the
// bytes of a character split across tokens are held back until it completes.
// A Decoder is not safe for concurrent use.
type Decoder struct {
	t       *Tokenizer
	pending []byte
	out     []byte
}

// NewDecoder returns a streaming decoder.
func (t *Tokenizer) NewDecoder() *Decoder {
	return &Decoder{t: t, pending: make([]byte, 0, 16)}
}

// Add returns the text that token id completes; it may be "". Added tokens
// give their literal text, so callers that hide control tokens check
// IsSpecial first.
func (d *Decoder) Add(id int32) string {
	if id < 0 || int(id) >= len(d.t.pieces) {
		return ""
	}
	p := d.t.pieces[id]
	if len(d.pending) == 0 && d.t.whole[id] {
		return p
	}
	d.pending = append(d.pending, p...)
	keep := incompleteTail(d.pending)
	emit := len(d.pending) - keep
	if emit == 0 {
		return ""
	}
	d.out = appendLossy(d.out[:0], d.pending[:emit])
	n := copy(d.pending, d.pending[emit:])
	d.pending = d.pending[:n]
	return string(d.out)
}

// Flush returns any held-back bytes (as U+FFFD, since they are incomplete)
// and resets the decoder.
func (d *Decoder) Flush() string {
	if len(d.pending) == 0 {
		return ""
	}
	s := string(appendLossy(nil, d.pending))
	d.pending = d.pending[:0]
	return s
}
