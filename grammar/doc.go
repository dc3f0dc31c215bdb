// Package grammar constrains generated text to a grammar: a JSON schema,
// any JSON object, free text up to a delimiter, or literals and those in
// sequence (a tool call's markup around its arguments).
//
// A Grammar is compiled once (Schema, JSONObject, Literal, Text, Seq, Switch)
// into nodes matched by a pushdown automaton, byte by byte. A Vocab holds a
// tokenizer's vocabulary as a byte trie; a Matcher follows one generation
// and computes the mask of allowed tokens by walking the trie with the
// automaton, so that tokens sharing a prefix share its steps. Inside a
// JSON string every "plain" token (complete characters, no quote,
// backslash or control byte) is allowed at once from a precomputed set,
// and only the others are walked.
//
// Budget-aware closing: every state knows the length of its shortest
// completion (the open strings and containers closed, required properties
// filled with minimal values). Given the tokens left, a token is allowed
// only if that length after it still fits in the tokens then left (one byte
// a token at worst), so a generation cut by max_tokens still ends as a
// whole instance. Whitespace runs, number digits and nesting are bounded,
// so a model cannot stall in them.
package grammar
