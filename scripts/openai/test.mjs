// test.mjs checks a running `q3m serve` with the official openai client
// (https://www.npmjs.com/package/openai). It starts nothing itself.
//
//   q3m demo --dir /tmp/q3m-demo            # writes a random demo model
//   q3m serve -m /tmp/q3m-demo/qwen3-moe-demo-random-Q8_0.gguf --api-key test &
//   cd scripts/openai && npm install && Q3M_API_KEY=test node test.mjs
//
// Q3M_URL is the server's base URL (default http://127.0.0.1:8080);
// Q3M_API_KEY the key it was started with, if any. The demo model's weights
// are random, so the checks are about the API's shape and consistency, not
// about what the model says. Exits 1 if any check fails.
import OpenAI from "openai";
import Ajv from "ajv";

const base = (process.env.Q3M_URL ?? "http://127.0.0.1:8080").replace(/\/$/, "");
const apiKey = process.env.Q3M_API_KEY ?? "none";
const client = new OpenAI({ baseURL: base + "/v1", apiKey, maxRetries: 0 });
const ajv = new Ajv({ strict: true });

let failures = 0;
function check(ok, what, detail = "") {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}${detail ? ": " + detail : ""}`);
  if (!ok) failures++;
}
async function expectError(what, status, fn) {
  try {
    await fn();
    check(false, what, "no error");
  } catch (e) {
    check(e instanceof OpenAI.APIError && e.status === status && typeof e.error?.message === "string",
      what, `${e.status} ${e.error?.message ?? e.message}`);
  }
}
// collect reads a chat stream back into one message.
async function collect(stream) {
  const out = { content: "", reasoning: "", calls: [], finish: null, usage: null, role: null };
  for await (const chunk of stream) {
    if (chunk.usage) out.usage = chunk.usage;
    for (const c of chunk.choices) {
      const d = c.delta;
      if (d.role) out.role = d.role;
      if (d.content) out.content += d.content;
      if (d.reasoning_content) out.reasoning += d.reasoning_content;
      for (const tc of d.tool_calls ?? []) {
        out.calls[tc.index] ??= { id: "", name: "", arguments: "" };
        const call = out.calls[tc.index];
        if (tc.id) call.id = tc.id;
        if (tc.function?.name) call.name += tc.function.name;
        if (tc.function?.arguments) call.arguments += tc.function.arguments;
      }
      if (c.finish_reason) out.finish = c.finish_reason;
    }
  }
  return out;
}
const user = (content) => [{ role: "user", content }];
const usageOK = (u) => u && u.total_tokens === u.prompt_tokens + u.completion_tokens &&
  u.prompt_tokens > 0 && typeof u.prompt_tokens_details?.cached_tokens === "number";

// Models.
const models = await client.models.list();
check(models.data.length === 1 && typeof models.data[0].id === "string", "models.list", models.data.map((m) => m.id).join(","));
const model = models.data[0].id;

// Non-streaming and streaming chat with the same seed give the same answer.
const req = { model, messages: user("Hello! Who are you?"), max_tokens: 12, seed: 7 };
const r = await client.chat.completions.create(req);
const msg = r.choices[0].message;
check(r.object === "chat.completion" && msg.role === "assistant" && typeof msg.content === "string", "chat: message shape");
check(["stop", "length"].includes(r.choices[0].finish_reason), "chat: finish_reason", r.choices[0].finish_reason);
check(usageOK(r.usage) && r.usage.completion_tokens <= 12, "chat: usage", JSON.stringify(r.usage));
check(!/<\/?think>/.test(msg.content ?? ""), "chat: no think tags in content");
const s = await collect(await client.chat.completions.create({ ...req, stream: true, stream_options: { include_usage: true } }));
check(s.role === "assistant" && s.content === (msg.content ?? "") && s.reasoning === (msg.reasoning_content ?? ""),
  "chat stream: same answer as non-streamed", JSON.stringify(s.content.slice(0, 40)));
check(s.finish === r.choices[0].finish_reason, "chat stream: finish_reason", s.finish);
check(usageOK(s.usage) && s.usage.completion_tokens === r.usage.completion_tokens, "chat stream: usage", JSON.stringify(s.usage));
check(s.usage.prompt_tokens_details.cached_tokens === s.usage.prompt_tokens - 1, "chat stream: the repeated prompt came from the cache",
  `${s.usage.prompt_tokens_details.cached_tokens} of ${s.usage.prompt_tokens}`);

// Thinking off: nothing in reasoning_content.
const off = await client.chat.completions.create({ model, messages: user("Hi"), max_tokens: 8, chat_template_kwargs: { enable_thinking: false } });
check(!off.choices[0].message.reasoning_content && !/<\/?think>/.test(off.choices[0].message.content ?? ""), "chat: enable_thinking false");
const none = await client.chat.completions.create({ model, messages: user("Hi"), max_tokens: 8, reasoning_effort: "none" });
check(!none.choices[0].message.reasoning_content, "chat: reasoning_effort none");

// Stop strings are never sent.
const stopped = await client.chat.completions.create({ model, messages: user("Tell me a story."), max_tokens: 64, stop: ["e", "a"], seed: 3 });
check(!/[ea]/.test(stopped.choices[0].message.content ?? ""), "chat: stop strings not in the content",
  `${stopped.choices[0].finish_reason}, ${stopped.usage.completion_tokens} tokens`);

// Tools: a conversation with a call and its result renders; required and a
// named choice constrain the call, so even random weights return a call
// whose arguments validate against the function's parameters (checked
// with ajv, independently of q3m). The shortest call is 52 bytes
// (get_weather", "arguments": {"city":""}}, a newline, </tool_call>), so
// 64 tokens always suffice.
const tools = [{ type: "function", function: { name: "get_weather", description: "Weather of a city",
  parameters: { type: "object", properties: { city: { type: "string", maxLength: 20 }, days: { type: "integer" } },
    required: ["city"], additionalProperties: false } } }];
const validArgs = ajv.compile(tools[0].function.parameters);
const history = [
  ...user("Weather in Paris?"),
  { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city": "Paris"}' } }] },
  { role: "tool", tool_call_id: "call_1", content: '{"temp": 21}' },
];
const after = await client.chat.completions.create({ model, messages: history, tools, max_tokens: 8 });
check(["stop", "length", "tool_calls"].includes(after.choices[0].finish_reason), "tools: a conversation with a tool result", after.choices[0].finish_reason);
const argsOK = (call) => {
  try { return validArgs(JSON.parse(call.arguments ?? call.function.arguments)); } catch { return false; }
};
for (const tool_choice of ["required", { type: "function", function: { name: "get_weather" } }]) {
  const name = typeof tool_choice === "string" ? tool_choice : "named";
  for (const seed of [1, 2, 3]) {
    const t = await client.chat.completions.create({ model, messages: user("Weather in Oslo?"), tools, tool_choice, max_tokens: 64, seed, temperature: 1.2 });
    const c = t.choices[0];
    const call = c.message.tool_calls?.[0];
    check(c.finish_reason === "tool_calls" && c.message.tool_calls.length === 1 && call.type === "function" &&
      call.function.name === "get_weather" && argsOK(call) && !c.message.reasoning_content,
      `tools ${name} seed ${seed}: a call whose arguments validate`, JSON.stringify(call?.function ?? c.message));
    const ts = await collect(await client.chat.completions.create({ model, messages: user("Weather in Oslo?"), tools, tool_choice, max_tokens: 64, seed, temperature: 1.2, stream: true }));
    check(ts.finish === "tool_calls" && ts.calls.length === 1 && ts.calls[0].id.startsWith("call_") && ts.calls[0].name === "get_weather" &&
      argsOK(ts.calls[0]) && ts.calls[0].arguments === call?.function.arguments,
      `tools ${name} seed ${seed} stream: the same call`, JSON.stringify(ts.calls[0]));
  }
}

// response_format: JSON that validates (ajv) whatever the weights, also
// when max_tokens cuts it short: the shortest instance of this schema,
// {"name":"","age":0,"unit":"cm","tags":[]}, is 41 bytes.
const person = { type: "object", additionalProperties: false, required: ["name", "age", "unit", "tags"], properties: {
  name: { type: "string", maxLength: 16 }, age: { type: "integer" }, unit: { enum: ["cm", "in"] },
  tags: { type: "array", items: { type: "string" }, maxItems: 3 }, nick: { anyOf: [{ type: "string" }, { type: "null" }] } } };
const validPerson = ajv.compile(person);
for (const max_tokens of [41, 48, 100]) {
  for (const stream of [false, true]) {
    const body = { model, messages: user("Describe someone as JSON."), max_tokens, seed: max_tokens, temperature: 1.3,
      response_format: { type: "json_schema", json_schema: { name: "person", strict: true, schema: person } } };
    let content, finish;
    if (stream) {
      const st = await collect(await client.chat.completions.create({ ...body, stream: true }));
      content = st.content; finish = st.finish;
    } else {
      const rr = await client.chat.completions.create(body);
      content = rr.choices[0].message.content; finish = rr.choices[0].finish_reason;
    }
    let v = null;
    try { v = JSON.parse(content); } catch {}
    check(v !== null && validPerson(v) && finish === "stop", `json_schema max_tokens ${max_tokens}${stream ? " stream" : ""}: validates`,
      `${finish} ${content.slice(0, 80)}${validPerson.errors ? " " + JSON.stringify(validPerson.errors) : ""}`);
  }
}
const jo = await client.chat.completions.create({ model, messages: user("JSON please"), max_tokens: 30, seed: 5, response_format: { type: "json_object" } });
let obj = null;
try { obj = JSON.parse(jo.choices[0].message.content); } catch {}
check(obj !== null && typeof obj === "object" && !Array.isArray(obj), "json_object: an object", jo.choices[0].message.content.slice(0, 60));
await expectError("an unsupported schema keyword is a 400", 400, () => client.chat.completions.create({ model, messages: user("x"),
  response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "string", pattern: "^a" } } } }));

// Completions, prompt as text and as ids.
const cr = { model, prompt: "The capital of France is", max_tokens: 8, temperature: 0 };
const c1 = await client.completions.create(cr);
check(c1.object === "text_completion" && typeof c1.choices[0].text === "string" && usageOK({ ...c1.usage, prompt_tokens_details: { cached_tokens: 0 } }),
  "completions", JSON.stringify(c1.choices[0].text));
let streamed = "";
for await (const chunk of await client.completions.create({ ...cr, stream: true })) streamed += chunk.choices[0]?.text ?? "";
check(streamed === c1.choices[0].text, "completions stream: same text");
const tok = await (await fetch(base + "/tokenize", { method: "POST", headers: { Authorization: `Bearer ${apiKey}` },
  body: JSON.stringify({ content: cr.prompt }) })).json();
const c2 = await client.completions.create({ ...cr, prompt: tok.tokens });
check(c2.choices[0].text === c1.choices[0].text, "completions: prompt as token ids", tok.tokens.join(","));
const detok = await (await fetch(base + "/detokenize", { method: "POST", headers: { Authorization: `Bearer ${apiKey}` },
  body: JSON.stringify({ tokens: tok.tokens }) })).json();
check(detok.content === cr.prompt, "tokenize/detokenize round trip");

// Errors in OpenAI's shape.
await expectError("n = 2 is a 400", 400, () => client.chat.completions.create({ model, messages: user("x"), n: 2 }));
await expectError("an unknown role is a 400", 400, () => client.chat.completions.create({ model, messages: [{ role: "wizard", content: "x" }] }));
await expectError("a wrong type is a 400", 400, () => client.chat.completions.create({ model, messages: user("x"), temperature: "hot" }));
if (process.env.Q3M_API_KEY) {
  const bad = new OpenAI({ baseURL: base + "/v1", apiKey: "wrong-key", maxRetries: 0 });
  await expectError("a wrong API key is a 401", 401, () => bad.models.list());
}
const health = await fetch(base + "/health");
check(health.status === 200, "/health");
const metrics = await (await fetch(base + "/metrics", { headers: { Authorization: `Bearer ${apiKey}` } })).text();
check(/q3m_generated_tokens_total \d+/.test(metrics), "/metrics");

console.log(failures ? `${failures} check(s) failed` : "all checks passed");
process.exit(failures ? 1 : 0);
