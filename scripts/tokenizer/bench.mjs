// bench.mjs measures the JavaScript reference encoder's speed on the prose
// text that BenchmarkEncodeProse uses, for comparison with the Go encoder.
//
// Re-run from the repository root, after the npm install described in
// expected.mjs:
//   TOKREF=/tmp/tokref node scripts/tokenizer/bench.mjs
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { loadReference } from "./expected.mjs";

const tok = loadReference();
const text = gunzipSync(readFileSync("testdata/tokenizer/prose.txt.gz")).toString();
const bytes = Buffer.byteLength(text);
tok.encode(text); // warm the word cache and the JIT, as the Go benchmark's loop does

let runs = 0;
const start = process.hrtime.bigint();
let elapsed = 0;
while (elapsed < 5) {
  tok.encode(text);
  runs++;
  elapsed = Number(process.hrtime.bigint() - start) / 1e9;
}
console.log(`JS reference: ${runs} runs of ${bytes} bytes, ${(elapsed / runs * 1e3).toFixed(2)} ms/op, ${(bytes * runs / elapsed / 1e6).toFixed(2)} MB/s`);
