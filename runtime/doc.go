// Package runtime runs Qwen3-MoE models from q3m (GGUF) files on the CPU.
//
// Load maps a file and builds views of its weights (matrices are never
// copied; norms and biases are). A Model is shared read-only by any number
// of Sessions; each Session owns a position, a KV cache (f16 by default,
// q8_0 or f32: SessionOptions.KVType) and all the scratch memory of the
// forward pass, so decoding a token allocates nothing. Session.Generate is
// the token loop; a Chat renders a conversation with the model's template
// and shifts its context (drops the oldest turns) when it fills. Config.Tensors
// is the one table of the tensors a model's forward pass reads.
// Sessions of one Model with the same thread count share one worker pool.
// An Engine advances many Sessions together, one forward pass per step for
// the tokens of all of them (continuous batching: sequences join and leave
// between steps), so that concurrent sequences share the reads of the
// weights; each sequence's logits are bit-identical to its Session's alone.
// A Chat runs on an Engine with ChatOptions.Engine.
//
// The arithmetic follows Hugging Face transformers' Qwen3MoeForCausalLM
// (docs/model.md); for quantized weights the inputs of each matrix product
// are first quantized to the activation type llama.cpp pairs with the
// weight type (Q8_0, Q8_1 or Q8_K), as llama.cpp does. Prefill runs up to
// maxBatch tokens through each layer together, grouping them by expert in
// MoE layers; its logits are bit-identical to decoding the same tokens one
// at a time, under every KV cache type.
//
// Failure is an error, not a crash: a file truncated while mapped makes
// Eval fail with ErrModelFault (the fault is recovered on the session's
// goroutine and on the pool's workers); NaN or infinite hyperparameters are
// refused at load, and NaN logits end a chat with ErrBadLogits. Model.Close
// waits for evaluations in progress, which stop at their next batch, and
// every use after it fails with ErrClosed. The KV cache and the RoPE
// tables (shared by the Model's sessions) grow with the positions used, so
// a long context costs nothing until it is filled.
package runtime
