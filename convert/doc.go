// Package convert turns a Hugging Face Qwen3-MoE checkpoint directory
// (config.json, safetensors shards, tokenizer.json, tokenizer_config.json)
// into one q3m GGUF file, as docs/metadata.md specifies.
//
// The weight types follow one of llama-quantize's presets (Q4_K_M, Q6_K,
// IQ4_XS, Q8_0, BF16...): the preset's base type for most matrices and
// llama.cpp's per-tensor rules (one table, in presets.go) for the output
// matrix, attn_v, attn_k, attn_output and ffn_down, with its fallbacks for
// rows that are not whole blocks. Without an importance matrix the tensors
// are byte-identical to llama-quantize's output of the same weights;
// testdata/presets holds llama-quantize's results that the tests check and
// scripts/presets regenerates them.
//
// Invariants: the source is read tensor by tensor and expert by expert with
// pread into reused buffers, so memory stays a few megabytes per thread
// whatever the checkpoint size; every source tensor must be consumed exactly
// once, so a missing, misshapen or unexpected tensor is an error; on any
// error no output file remains.
package convert
