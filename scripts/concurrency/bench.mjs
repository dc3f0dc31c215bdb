// bench.mjs measures the aggregate completion tokens/s of N concurrent
// streaming chat requests against an OpenAI-compatible server, with the
// official openai client. It starts nothing itself; run it against
// `q3m serve --parallel 8` and against llama-server -np 8 on the same file:
//
//   q3m serve -m FILE --parallel 8 --port 8080 &
//   /work/peers/build-native/bin/llama-server -m FILE -np 8 -t 2 --port 8081 &
//   cd scripts/concurrency && npm install
//   node bench.mjs --url http://127.0.0.1:8080 --n 1,2,4,8
//   node bench.mjs --url http://127.0.0.1:8081 --n 1,2,4,8
//
// (llama-server divides its context among its slots: give it -c N·ctx.)
//
// Every request asks for --max-tokens tokens with ignore_eos set (both
// servers honour it), so each stream generates the same number whatever
// the model says; the prompts differ per stream and per round so that no
// request reuses another's cached prompt. For each N it prints the
// completion tokens of all streams, the wall time from the first request
// sent to the last stream's end, their ratio (the aggregate rate, prompt
// evaluation included), the mean time to first token and the mean rate of
// a stream after its first token. Against q3m it also prints the average
// number of sequences per batched forward pass, read from /metrics.
//
// Flags: --url (default http://127.0.0.1:8080; env Q3M_URL), --key (env
// Q3M_API_KEY), --n (default 1,2,4,8), --max-tokens (default 128),
// --rounds (runs per N, the best kept; default 1), --prompt-words (words
// of each prompt, default 40), --api (chat, the default, or completions:
// /v1/completions with the same prompts as raw text; llama-server's chat
// endpoint refuses the output of random-weight models that does not parse
// as its template's format, so use completions with those).
import OpenAI from "openai";

function flags(argv) {
  const out = {
    url: process.env.Q3M_URL ?? "http://127.0.0.1:8080",
    key: process.env.Q3M_API_KEY ?? "none",
    n: "1,2,4,8",
    "max-tokens": "128",
    rounds: "1",
    "prompt-words": "40",
    api: "chat",
  };
  for (let i = 2; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, "");
    if (!(name in out) || i + 1 >= argv.length) {
      console.error(`bench.mjs: unknown flag or missing value: ${argv[i]}`);
      process.exit(2);
    }
    out[name] = argv[++i];
  }
  const ints = (s, what) => {
    const v = s.split(",").map(Number);
    if (v.some((x) => !Number.isInteger(x) || x < 1)) {
      console.error(`bench.mjs: --${what} wants positive integers, got ${s}`);
      process.exit(2);
    }
    return v;
  };
  if (out.api !== "chat" && out.api !== "completions") {
    console.error(`bench.mjs: --api wants chat or completions, got ${out.api}`);
    process.exit(2);
  }
  return {
    api: out.api,
    base: out.url.replace(/\/$/, ""),
    key: out.key,
    ns: ints(out.n, "n"),
    maxTokens: ints(out["max-tokens"], "max-tokens")[0],
    rounds: ints(out.rounds, "rounds")[0],
    words: ints(out["prompt-words"], "prompt-words")[0],
  };
}

const opt = flags(process.argv);
const client = new OpenAI({ baseURL: opt.base + "/v1", apiKey: opt.key, maxRetries: 0, timeout: 3600_000 });

const topics = ["a lighthouse keeper", "a lost satellite", "an old clock", "a river town", "a chess match",
  "a desert caravan", "a winter garden", "a night train", "a robot gardener", "a mountain library"];

// prompt returns a distinct prompt of about opt.words words for stream i of
// run tag.
function prompt(tag, i) {
  const head = `Run ${tag}, stream ${i}: tell a long story about ${topics[i % topics.length]}.`;
  const filler = [];
  for (let w = 0; filler.length < opt.words; w++) filler.push(`detail${(w * 7 + i * 13) % 97}`);
  return `${head} Mention ${filler.join(" ")}.`;
}

// stream runs one streaming chat and times it.
async function stream(model, text, seed) {
  const sent = performance.now();
  const body = {
    model,
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: opt.maxTokens,
    temperature: 0.7,
    seed,
    ignore_eos: true,
  };
  const s = opt.api === "chat"
    ? await client.chat.completions.create({ ...body, messages: [{ role: "user", content: text }] })
    : await client.completions.create({ ...body, prompt: text });
  let first = null, last = sent, chunks = 0, usage = null, error = null;
  try {
    for await (const chunk of s) {
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices ?? []) {
        const d = c.delta ?? { content: c.text };
        if (d.content || d.reasoning_content || d.tool_calls) {
          chunks++;
          last = performance.now();
          first ??= last;
        }
      }
    }
  } catch (e) {
    // llama-server ends a stream with an error when a random-weight
    // model's text does not parse (an incomplete UTF-8 sequence): count
    // what came, and say so.
    error = e.message ?? String(e);
  }
  const tokens = usage?.completion_tokens ?? chunks;
  return { sent, first: first ?? last, end: performance.now(), last, tokens, counted: usage != null, error };
}

// metrics reads q3m's batch counters, or null from another server.
async function metrics() {
  try {
    const r = await fetch(opt.base + "/metrics", { headers: { Authorization: `Bearer ${opt.key}` } });
    if (!r.ok) return null;
    const text = await r.text();
    const get = (name) => Number(text.match(new RegExp(`^q3m_${name} (\\S+)$`, "m"))?.[1]);
    const steps = get("batch_steps_total"), seqs = get("batch_sequences_total");
    return Number.isFinite(steps) && Number.isFinite(seqs) ? { steps, seqs } : null;
  } catch {
    return null;
  }
}

async function run(model, n, tag) {
  const before = await metrics();
  const t0 = performance.now();
  const rs = await Promise.all(Array.from({ length: n }, (_, i) => stream(model, prompt(tag, i), i + 1)));
  const wall = (performance.now() - t0) / 1000;
  const after = await metrics();
  const tokens = rs.reduce((a, r) => a + r.tokens, 0);
  const ttft = rs.reduce((a, r) => a + (r.first - r.sent), 0) / n / 1000;
  const perStream = rs.reduce((a, r) => a + (r.tokens > 1 && r.last > r.first ? (r.tokens - 1) / ((r.last - r.first) / 1000) : 0), 0) / n;
  const batch = before && after && after.steps > before.steps ? (after.seqs - before.seqs) / (after.steps - before.steps) : null;
  const errors = rs.filter((r) => r.error);
  if (errors.length) console.error(`# ${n} streams: ${errors.length} ended early with an error: ${errors[0].error}`);
  return { n, tokens, wall, rate: tokens / wall, ttft, perStream, batch, counted: rs.every((r) => r.counted), errors: errors.length };
}

const models = await client.models.list();
const model = models.data[0]?.id;
if (!model) {
  console.error(`bench.mjs: ${opt.base}/v1/models lists no model`);
  process.exit(1);
}
console.log(`# ${opt.base} /v1/${opt.api === "chat" ? "chat/completions" : "completions"}, model ${model}, ${opt.maxTokens} tokens per stream, best of ${opt.rounds}`);
await stream(model, prompt("warmup", 0), 0); // loads pages, fills caches
console.log("| streams | tokens | wall s | aggregate tok/s | × one stream | mean TTFT s | per-stream tok/s | seqs/step |");
console.log("|---:|---:|---:|---:|---:|---:|---:|---:|");
let one = null;
for (const n of opt.ns) {
  let best = null;
  for (let r = 0; r < opt.rounds; r++) {
    const res = await run(model, n, `${n}.${r}`);
    if (!best || res.rate > best.rate) best = res;
  }
  if (n === 1) one = best.rate;
  const ratio = one ? (best.rate / one).toFixed(2) + "×" : "";
  const note = (best.counted ? "" : " (chunks)") + (best.errors ? ` (${best.errors} cut)` : "");
  console.log(`| ${n} | ${best.tokens}${note} | ${best.wall.toFixed(2)} | ${best.rate.toFixed(2)} | ${ratio} | ${best.ttft.toFixed(2)} | ${best.perStream.toFixed(2)} | ${best.batch?.toFixed(2) ?? ""} |`);
}
