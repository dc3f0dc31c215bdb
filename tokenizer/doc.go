// Package tokenizer turns text into Qwen3 token ids and back.
//
// It implements the byte-level BPE of Qwen2/Qwen3 exactly as the Hugging Face
// tokenizer does it: NFC normalization, the Qwen2 split pattern (written as a
// hand-made scanner with the regex's leftmost-first semantics), the GPT-2
// byte↔unicode mapping, then BPE merges by rank. A Tokenizer is built from the
// tokenizer.ggml.* metadata of a GGUF file (New) or from an HF tokenizer.json
// (FromHF); both give the same tokenizer.
//
// Invariants: for every valid UTF-8 string s, Decode(Encode(s)) == NFC(s).
// Encode treats all text as text, so a user cannot inject control tokens;
// EncodeSpecial recognizes added tokens written in the text, as HF does by
// default. A Tokenizer is safe for concurrent use.
//
// Chat templates (Template) are run by the jinja subpackage byte for byte as
// transformers' apply_chat_template renders them; ParseTemplate names the
// Qwen3 templates it recognises (release, 2507 Instruct and Thinking,
// Coder). Messages read from JSON accept OpenAI's shape for tool calls.
package tokenizer
