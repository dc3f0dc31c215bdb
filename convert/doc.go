// Package convert turns a Hugging Face Qwen3-MoE checkpoint directory
// (config.json, safetensors shards, tokenizer.json, tokenizer_config.json)
// into one q3m GGUF file, as docs/metadata.md specifies.
//
// Invariants: the source is read tensor by tensor and expert by expert with
// pread into reused buffers, so memory stays a few megabytes per thread
// whatever the checkpoint size; every source tensor must be consumed exactly
// once, so a missing, misshapen or unexpected tensor is an error; on any
// error no output file remains.
package convert
