// Package server serves a runtime.Model over OpenAI's HTTP API:
// /v1/chat/completions (streamed as server-sent events or not, with Qwen3's
// thinking returned as reasoning_content and its <tool_call> blocks as
// tool_calls), /v1/completions, /v1/models, and llama-server's /health,
// /tokenize, /detokenize and /metrics. Under Qwen3-Coder's template the
// tool calls are its XML form (<function=NAME> with one <parameter=P>
// block a parameter), whose values become JSON by the type the tool's
// parameter schema gives them (see xmlcall.go).
//
// An Engine owns the generation slots: a fixed number of runtime.Sessions
// sharing one Model, each keeping the tokens of its KV cache so that a
// request extending an earlier one reuses it. The busy slots decode
// together through a runtime.Engine, one batched forward pass per token for
// all of them (continuous batching: requests join and leave between
// steps). Requests beyond the slots wait in a bounded queue; beyond that
// they are refused (503). A Server wraps an Engine as an http.Handler.
// Every request's generation runs under its HTTP context, so a client that
// goes away leaves the batch and frees its slot at the next step.
//
// response_format json_object / json_schema and tool_choice required / a
// named function constrain decoding with package grammar: before each
// token the engine masks the logits the grammar forbids (Request.Constraint),
// so the answer is JSON matching the schema, or a tool call whose name is
// one of the tools and whose arguments match its parameters, even from
// random weights and when max_tokens cuts it short. Constrained requests
// do not think (the template's thinking is switched off). Qwen3-Coder's
// forced calls are constrained the same way in their XML form: a string
// parameter's value is free text holding no markup that would end it
// early (grammar.Text), any other one JSON valid for its schema.
package server
