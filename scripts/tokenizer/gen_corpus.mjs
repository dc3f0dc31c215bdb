// gen_corpus.mjs writes the tokenizer test corpus: hand-written cases plus
// deterministic (seeded) mixtures of fragments, and an English prose text for
// the encoding benchmark.
//
// Re-run from the repository root (plain node, no packages needed):
//   node scripts/tokenizer/gen_corpus.mjs
// It writes testdata/tokenizer/corpus.jsonl and testdata/tokenizer/prose.txt.gz;
// then run expected.mjs to refresh the reference ids.
//
// The corpus avoids U+0085, U+FEFF and U+017F: the JavaScript reference's
// regex treats them differently from the Rust/Oniguruma one HF uses; the Go
// tests cover those by hand.
import { writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

let seed = 0x9e3779b9;
function rand() { // mulberry32
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rand() * a.length)];

const prose = [
  "The river had been rising for three days before anyone in the village thought to move the grain out of the lower barns.",
  "By the time the old miller walked down to the bank, the water was lapping at the second step of the footbridge, brown and quick and full of branches.",
  "He stood there for a long while, watching, and then he went back up the hill and rang the bell that nobody had rung since his father's time.",
  "People came out of their houses slowly at first, wiping their hands on their aprons, asking one another what the noise was for.",
  "When they understood, they worked through the night, carrying sacks on their shoulders and in wheelbarrows and, when the barrows ran out, in blankets held at the corners by two children each.",
  "In the morning the lower barns were under four feet of water, but the grain was dry in the church, stacked against the walls beneath the windows.",
  "Modern processors do not execute one instruction at a time; they look ahead, guess which way each branch will go, and run many operations in parallel.",
  "A cache miss can cost hundreds of cycles, which is why a program that walks memory in order often beats a cleverer one that jumps around.",
  "Most of the time, the fastest code is simply the code that does less work: fewer allocations, fewer copies, fewer passes over the same data.",
  "Measure first, then change one thing, then measure again; the profiler is usually right and intuition is usually wrong.",
  "She wrote to her brother every Sunday, even in the years when he did not write back, because she believed that a letter was a kind of promise.",
  "The letters were short, mostly about the weather, the garden, the neighbours' dog that would not stop digging under the fence.",
  "Years later he found them in a shoebox and read them all in one evening, and understood, too late, what she had been telling him all along.",
  "It's not that I don't like the idea; it's that we haven't tested it, and I'd rather not ship something we can't explain.",
  "They'll say it was obvious in hindsight, but nobody I've talked to saw it coming, and you'd be surprised how many experts were wrong.",
  "The committee met on Tuesday at 10:30 to review the budget, which had grown from $1.2 million to nearly $3 million in eighteen months.",
  "According to the report, 42% of respondents preferred the new design, 31% preferred the old one, and the rest had no opinion.",
  "Light travels about 299,792 kilometres per second, so a signal from the Moon takes a little over a second to reach us.",
  "The library closes at nine, but the reading room upstairs stays open until midnight during the examination period.",
  "If you are reading this, the experiment worked: the message was encoded, sent, received and decoded without a single error.",
  "Every language model sees text as a sequence of tokens, and the tokenizer decides where one token ends and the next begins.",
  "Whitespace matters more than you might think, because a space before a word usually becomes part of that word's token.",
  "The train was late again, so we sat on the platform and shared a bag of oranges while the pigeons argued over the peel.",
  "Nobody remembers who planted the oak in the middle of the square, but everyone agrees that the square would be nothing without it.",
  "In winter the lake freezes so thickly that the fishermen drive their trucks out onto the ice and cut holes with chainsaws.",
  "He was, by his own admission, a terrible cook, but he made one dish so well that people travelled across the county to eat it.",
  "The museum's newest exhibit features tools from the Bronze Age, including a sickle, a set of fishhooks and a remarkably well-preserved comb.",
  "Children learn to read faster when they are read to, and faster still when the books are ones they have chosen themselves.",
  "The storm knocked out power to half the city; by evening, candles flickered in windows up and down the street like a second set of stars.",
  "Quietly, without announcement, the bakery on the corner started opening an hour earlier, and within a month there was a queue at dawn.",
];

const code = [
  "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfor i := 0; i < 10; i++ {\n\t\tfmt.Println(i)\n\t}\n}\n",
  "func (t *Tokenizer) Encode(s string) []int32 {\n\tvar sc bpeScratch\n\treturn t.appendText(nil, s, &sc)\n}\n",
  "\tif err != nil {\n\t\treturn nil, fmt.Errorf(\"format: tensor %q: %w\", name, err)\n\t}\n",
  "type Config struct {\n\tHidden  int `json:\"hidden_size\"`\n\tLayers  int `json:\"num_hidden_layers\"`\n}\n",
  "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
  "class Node:\n    def __init__(self, value, next=None):\n        self.value = value\n        self.next = next\n\n    def __repr__(self):\n        return f\"Node({self.value!r})\"\n",
  "import numpy as np\n\nx = np.arange(12).reshape(3, 4)\nprint(x.sum(axis=0))  # [12 15 18 21]\n",
  "    for k, v in sorted(d.items(), key=lambda kv: -kv[1]):\n        print(f\"{k:>10} {v:6.2f}\")\n",
  "#include <stdio.h>\nint main(void) {\n    printf(\"hello, world\\n\");\n    return 0;\n}\n",
  "const add = (a, b) => a + b;\nconsole.log([1, 2, 3].map((x) => add(x, 1)));\n",
  "SELECT id, name FROM users WHERE created_at >= '2024-01-01' ORDER BY name DESC LIMIT 50;",
  "fn main() {\n    let v: Vec<u32> = (0..10).filter(|x| x % 2 == 0).collect();\n    println!(\"{:?}\", v);\n}\n",
  "if [ -z \"$HOME\" ]; then\n  echo 'no home' >&2\n  exit 1\nfi\n",
  "\t\t\t// deeply indented comment\n\t\t\tx += y<<2 | z&0xff\n",
];

const hand = [
  "", " ", "  ", "\t", "\n", "\r", "\r\n", "\n\n", "\r\n\r\n", " \n", "\n ", " \n ", "\t\n", "a", "A", "1", "!", ".",
  "Hello, world!", "hello world", "Hello World", "HELLO WORLD", "hello  world", "hello   world", "hello\tworld", "hello\nworld",
  "trailing space ", "trailing spaces   ", "   leading spaces", "  both  ", "x \n\n y", "x\n\n\ny", "a\r\nb\r\nc", "lone\rcarriage\rreturn",
  "tabs\t\tand\t \tspaces", " \t \n \t ", "end with newline\n", "end with spaces and newline   \n", "many\n\n\n\n\nnewlines",
  "I'm", "I'M", "i'm", "you're", "YOU'RE", "we've", "WE'VE", "he'll", "they'LL", "THEY'LL", "she'd", "SHE'D", "don't", "DON'T", "Don't",
  "it's", "IT'S", "It'S", "can't", "won't", "o'clock", "rock 'n' roll", "'s", "'S", "'", "''", "'''", "'re'", "' s", "'sx", "'llama", "'dd", "'reed",
  "the cat's whiskers", "the dogs' bowls", "'quoted'", "\"double quoted\"", "l'homme qu'il aimait", "Rock'N'Roll",
  "0", "7", "42", "123", "1234567890", "3.14159", "1,000,000", "-273.15", "1e-9", "0x1F", "v1.2.3", "2024-05-17T12:34:56Z", "+1 (555) 010-9999",
  "٣٤٥", "١٢٣", "२०२४", "Ⅻ", "½", "①②③", "x²", "10⁶",
  "你好，世界！", "我们今天去公园散步吧。", "日本語のテキストを処理する。", "東京は日本の首都です。", "カタカナとひらがな", "한국어 텍스트도 처리합니다.", "中文English混合text",
  "مرحبا بالعالم", "السلام عليكم ورحمة الله", "العربية: ١٢٣ كتاب",
  "नमस्ते दुनिया", "हिन्दी में लिखा गया वाक्य।", "क्षत्रिय",
  "Привет, мир!", "Ελληνικά γράμματα", "שלום עולם", "ไทย ภาษา", "Tiếng Việt có dấu", "Ærøskøbing", "straße", "İstanbul",
  "😀", "👍🏽", "👩‍💻", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇯🇵🇫🇷", "❤️", "I ❤️ Go 🐹!", "emoji😀inside", "😀😀😀", "🧑🏿‍🚀 to the moon 🚀",
  "e\u0301", "cafe\u0301", "Cafe\u0301 au lait", "A\u030a", "n\u0303o", "o\u0308\u0304", "\u0301", " \u0301", "x\u0301", "\u1100\u1161\u11a8",
  "a" + "\u0301".repeat(35), "e" + "\u0301".repeat(31) + "x", "a" + "\u0323\u0301".repeat(20), "\u1100\u1161" + "\u0301".repeat(32),
  "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349\u035a\u032f\u031e\u0320\u034da\u036b\u0357\u0334\u0362\u0335\u031c\u0330\u0354l\u0368\u0367\u0369\u0352\u0360\u0361g\u0302\u0300\u0301\u0308\u0307o" + "\u0316\u0317\u0318\u0319\u031c\u031d\u031e\u031f\u0320\u0324\u0325\u0326\u0329\u032a\u032b\u032c\u032d\u032e\u032f\u0330\u0331\u0332\u0333\u0339\u033a\u033b\u033c\u0345\u0347\u0348\u0349\u034d\u034e\u0353\u0354\u0355\u0356",
  "\u212b", "\u2126", "ﬁ", "Å", "é", "ǅ",
  "\u00a0", "a\u00a0b", "\u3000", "中\u3000文", "\u2003em space", "a\u2028b", "\u200b", "zero\u200bwidth", "\u200d",
  "https://example.com/path?q=1&r=two#frag", "http://localhost:8080/api/v1/users/42", "mailto:someone@example.org", "ftp://files.example.net/pub/",
  "{\"name\": \"q3m\", \"version\": [1, 2, 3], \"ok\": true, \"nested\": {\"x\": null}}", "[{\"a\":1},{\"b\":2}]", "{\n  \"key\": \"value\",\n  \"n\": 3\n}",
  "# Title\n\n## Section\n\n- item one\n- item two\n\n```go\nfmt.Println(1)\n```\n", "**bold** and _italic_ and `code`", "> quoted\n> text", "| a | b |\n|---|---|\n| 1 | 2 |",
  "<think>", "</think>", "<think>\n\n</think>\n\n", "<think>\nLet me think about this.\n</think>\n\nThe answer is 4.",
  "<think>reasoning</think>answer", "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>",
  "<tool_response>\n{\"temp\": 21}\n</tool_response>", "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n",
  "<|im_start|>user\n<|im_start|> typed by a user<|im_end|>\n", "<|endoftext|>", "text<|endoftext|>more", "<|im_end|><|im_end|>", "<<|im_end|>>", "<|im_end", "im_end|>",
  "<think><think></think></think>", " <think> ", "x<think>y", "<think>\u0338", "<|im_start|>\u0301", "e<|im_end|>\u0301", "<|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|>",
  "<|repo_name|>q3m<|file_sep|>main.go", "<|vision_start|><|image_pad|><|vision_end|>", "<|object_ref_start|>cat<|object_ref_end|><|box_start|>(1,2)<|box_end|>",
  "<|quad_start|><|quad_end|><|vision_pad|><|video_pad|><|fim_pad|>", "<think> and </think> mentioned in prose", "<|im_start|> spaced <|im_end|>",
  "!!!", "???", "...", "—", "–", "…", "«guillemets»", "(parenthetical)", "[brackets]", "{braces}", "a+b=c", "x*y/z", "a_b_c", "snake_case_name",
  "camelCaseName", "PascalCaseName", "SCREAMING_CASE", "kebab-case-name", "path/to/file.go", "C:\\Windows\\System32", "~/.config/q3m.toml",
  "@mention #hashtag $dollar %percent ^caret &amp", "!!\n\n", "?\r\n", ";\n\n\n", " !\n", " !!! \n", "a!\n\nb", ".\r\r\n",
  "    indented four", "\tindented tab", "\t\t\tthree tabs", "        eight spaces then text", "x    \ty", "x \t y", "x\t y", "x \ty",
  "word ", "word  ", "word \n", " word", "  word", "   word", " \tword", "\t word", "\n word", " \nword",
  "1 2 3", "12 34", " 5", "  6", "a1b2c3", "abc123def", "3rd", "4th", "100%", "$5", "€20", "£30", "¥40",
];

const frags = [
  ...prose.flatMap((p) => p.split(/(?<=[,.;:])\s/)),
  "I'M", "they'LL", "DON'T", "we'D", "You'Re", "it'S", "    ", "\t\t", "\n", "\r\n", "\r", " ", "  \n", "\n\n  ", "   ",
  "1234", "98765432", "3.5", "2^10", "x1y2", "你好", "世界", "日本", "한국", "مرحبا", "नमस्ते", "Привет", "😀", "👍🏿", "👩‍👩‍👧", "🇩🇪",
  "e\u0301", "a\u0308", "o\u0302", "\u0327c", "{\"k\": [1, 2]}", "https://q3m.dev/docs?x=1", "**", "`x`", "##", "-", "—", "...", "?!", "'", "\"",
  "fmt.Println(x)", "def f(x):", "\treturn x", "    pass", "if x:\n        y()", "</s>", "<s>", "<unk>", "[PAD]", "<|", "|>", "<think", "think>",
];
const added = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>", "<|box_end|>",
  "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>",
  "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>", "<tool_response>",
  "</tool_response>", "<think>", "</think>"];

const corpus = [...hand, ...prose, ...code];
for (const a of added) corpus.push(a, `before ${a} after`, `x${a}y`, `\n${a}\n`);
for (let i = 0; i < 260; i++) {
  const n = 1 + Math.floor(rand() * 6);
  let s = "";
  for (let k = 0; k < n; k++) {
    s += pick(frags);
    if (rand() < 0.1) s += pick(added);
    const r = rand();
    s += r < 0.5 ? " " : r < 0.6 ? "" : r < 0.7 ? "\n" : r < 0.8 ? "  " : r < 0.9 ? "\t" : "\r\n";
  }
  corpus.push(rand() < 0.5 ? s : s.trimEnd());
}
for (const s of corpus) {
  if (/[\u0085\ufeff\u017f]/.test(s)) throw new Error("corpus holds a character the references disagree on: " + JSON.stringify(s));
}
writeFileSync("testdata/tokenizer/corpus.jsonl", corpus.map((text) => JSON.stringify({ text })).join("\n") + "\n");

// Benchmark prose: a seeded word-bigram walk over the prose sentences, ~100 KB.
const words = prose.join(" ").split(" ");
const follow = new Map();
for (let i = 0; i + 1 < words.length; i++) {
  if (!follow.has(words[i])) follow.set(words[i], []);
  follow.get(words[i]).push(words[i + 1]);
}
let out = [], w = words[0], size = 0, line = 0;
while (size < 100 * 1024) {
  out.push(w);
  size += w.length + 1;
  line += w.length + 1;
  if (line > 70 && /[.;]$/.test(w)) { out.push(rand() < 0.3 ? "\n\n" : "\n"); line = 0; }
  const next = follow.get(w);
  w = next ? pick(next) : pick(words);
}
const text = out.join(" ").replace(/ ?(\n+) /g, "$1");
writeFileSync("testdata/tokenizer/prose.txt.gz", gzipSync(Buffer.from(text), { level: 9 }));
console.log(`corpus: ${corpus.length} strings; prose: ${text.length} bytes`);
