/**
 * What `--tokenizer-path` costs: loading, counting a finished request (in the counting worker,
 * and what stays on the main thread), the token-length filter, and making `random` prompts.
 * Prints a Markdown table for `docs/performance.md`.
 *
 * Run: `deno run -A bench/tokenizer_cost.ts [tokenizer-folder]` (default: the Qwen3 test fixture).
 *
 * @module
 */
import { fixtureTokenizerDir } from "../tests/helpers/tokenizer_fixtures.ts";
import { loadTokenizer } from "../src/tokenizer/load.ts";
import {
  InlineCounter,
  type TokenCounter,
  WorkerCounter,
} from "../src/tokenizer/token_counters.ts";
import { finishRequest } from "../src/records/finish_request.ts";
import { newRecord, type RequestRecord } from "../src/records/record.ts";
import { resolveConfig } from "../src/config.ts";
import OpenAIApi from "../plugins/api/openai.ts";
import { tokenPrompts } from "../plugins/datasets/random.ts";
import { planReply } from "../src/mock/generator.ts";

const dir = Deno.args[0] ?? await fixtureTokenizerDir("qwen3");
const rows: string[][] = [];
const row = (...cells: string[]) => rows.push(cells);

let t0 = performance.now();
const tok = await loadTokenizer(dir);
row("load the tokenizer (main thread)", `${(performance.now() - t0).toFixed(0)} ms`, "once");
t0 = performance.now();
const worker = await WorkerCounter.start(dir, false);
row("start the counting worker", `${(performance.now() - t0).toFixed(0)} ms`, "once");

const cfg = resolveConfig({ model: "m", stream: true });
const api = new OpenAIApi(cfg);
/** A prompt of exactly `n` tokens: English prose (this repository's README) or random tokens. */
const readme = tok.encode(await Deno.readTextFile(new URL("../README.md", import.meta.url)));
function promptOf(kind: "prose" | "random", n: number, variant = 0): string {
  if (kind === "random") return tokenPrompts(tok, n, n, 0, n * 1000 + variant)();
  const start = (variant * 37) % Math.max(1, readme.length - n);
  return tok.decode(readme.slice(start, start + n));
}

/** Streamed records like the mock's: one payload per generated word, no usage; own prompts. */
function records(kind: "prose" | "random", promptTokens: number, words: number, n: number) {
  const out: Array<{ rec: RequestRecord; body: string }> = [];
  for (let r = 0; r < n; r++) {
    const prompt = promptOf(kind, promptTokens, r);
    const plan = planReply(`${r}`, words, { outputTokens: words, seed: r });
    const body = JSON.stringify(api.buildRequest([{ role: "user", content: prompt }], cfg));
    const rec = newRecord(r, true);
    rec.payloads = [JSON.stringify({ choices: [{ index: 0, delta: { role: "assistant" } }] })];
    for (let i = 0; i < plan.tokens; i++) {
      rec.payloads.push(
        JSON.stringify({ choices: [{ index: 0, delta: { content: plan.token(i, 0) } }] }),
      );
    }
    rec.chunkTimesMs = rec.payloads.map((_, i) => i);
    rec.endMs = rec.payloads.length;
    rec.success = true;
    rec.status = 200;
    out.push({ rec, body });
  }
  return out;
}

/** Finish every record of a batch with `tokens` counting, as a sending thread does. */
function finishAll(raw: Array<{ rec: RequestRecord; body: string }>, tokens: TokenCounter) {
  return Promise.all(
    raw.map((r) => finishRequest({ api, tokens, needs: {} }, structuredClone(r.rec), r.body)),
  );
}

/** A counter that answers at once: what finishing costs the sending thread by itself. */
const nullCounter: TokenCounter = {
  count: () => Promise.resolve({ promptTokens: 1, completionTokens: 1 }),
  close: () => Promise.resolve(),
};

const BATCH = 100;
const cases: Array<["prose" | "random", number, number]> = [
  ["prose", 128, 128],
  ["prose", 1024, 256],
  ["random", 1024, 256],
  ["random", 4096, 1024],
];
for (const [kind, p, w] of cases) {
  const raw = records(kind, p, w, BATCH);
  const completion = tok.encode(
    raw[0].rec.payloads.slice(1).map((x) => JSON.parse(x).choices[0].delta.content).join(""),
  ).length;
  const label = `${p}-token ${kind} prompt, ${completion}-token reply in ${w} chunks`;

  // Tokenizer work per request on one thread (fresh counters: no prompt seen before).
  await finishAll(raw, new InlineCounter(tok)); // warm-up
  const inline = new InlineCounter(tok);
  await finishAll(raw, inline);
  row(`count: ${label}`, `${(inline.stats.micros / BATCH).toFixed(0)} µs`, "worker");
  // The same prompts again: remembered.
  inline.stats.micros = 0;
  await finishAll(raw, inline);
  row(
    `  same prompts again (\`--prompt\`, a cycled dataset)`,
    `${(inline.stats.micros / BATCH).toFixed(0)} µs`,
    "worker",
  );

  // What stays on the sending thread: parsing, reading the generated texts and queueing them.
  await finishAll(raw, nullCounter);
  t0 = performance.now();
  await finishAll(raw, nullCounter);
  row(
    `  sending thread's share (parse, texts from payloads, queueing)`,
    `${((performance.now() - t0) * 1000 / BATCH).toFixed(0)} µs`,
    "transport worker",
  );
}
// Through the worker: the wall time of a batch, per request.
{
  const raw = records("prose", 1024, 256, BATCH);
  t0 = performance.now();
  await finishAll(raw, worker);
  const wall = (performance.now() - t0) * 1000 / BATCH;
  const own = worker.stats.micros / worker.stats.requests;
  row(
    `worker round trip, batch of ${BATCH} (1024-token prose prompts)`,
    `${wall.toFixed(0)} µs wall per request (${own.toFixed(0)} µs of it in the worker)`,
    "worker",
  );
}
await worker.close();

// The --min/--max-prompt-length filter in tokens, per prompt (on the main thread, before sending).
for (const n of [100, 1000]) {
  const m = [{ role: "user", content: promptOf("prose", n) }];
  for (let i = 0; i < 20; i++) tok.promptLength(m);
  t0 = performance.now();
  for (let i = 0; i < 100; i++) tok.promptLength(m);
  row(
    `length filter: ${n}-token prose prompt`,
    `${((performance.now() - t0) * 10).toFixed(0)} µs`,
    "main, before sending",
  );
}

// Making random prompts of exact lengths (all made before the first request is sent).
for (const n of [128, 1024, 4096]) {
  const make = tokenPrompts(tok, n, n, 0, 3);
  make();
  t0 = performance.now();
  const k = n >= 4096 ? 5 : 20;
  for (let i = 0; i < k; i++) make();
  row(
    `random: one ${n}-token prompt`,
    `${((performance.now() - t0) / k).toFixed(1)} ms`,
    "main, before the run",
  );
}

console.log(`tokenizer: ${dir}\n`);
console.log("| what | cost | where |\n|---|---|---|");
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
