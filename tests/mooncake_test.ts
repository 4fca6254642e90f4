/**
 * The `mooncake` dataset: a Mooncake trace (`{timestamp ms, input_length, output_length,
 * hash_ids}`) replayed end to end. From the trace file alone: the send times, each prompt's
 * length (4 characters a token without a tokenizer, 512-token blocks), equal hash ids giving
 * equal text and different ones different text, and the output length asked for exactly
 * (`max_tokens` = `min_tokens` = output_length, `ignore_eos`), which the mock then generates.
 */
import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import { chatStub, firstContent } from "./helpers/chat_stub.ts";
import { tempDir } from "./helpers/cli.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { assertOnSchedule } from "./helpers/on_schedule.ts";
import { fixtureTokenizerDir } from "./helpers/tokenizer_fixtures.ts";
import { startMockServer } from "../src/mock/server.ts";
import { loadTokenizer } from "../src/tokenizer/load.ts";
import { resolveConfig } from "../src/config.ts";
import MooncakeDataset from "../plugins/datasets/mooncake.ts";
import type { DatasetRequest } from "../src/plugins/types.ts";

const TRACE = [
  { timestamp: 1000, input_length: 1100, output_length: 5, hash_ids: [1, 2, 3] },
  { timestamp: 1150, input_length: 600, output_length: 7, hash_ids: [1, 4] },
  { timestamp: 1400, input_length: 1024, output_length: 3, hash_ids: [1, 2] },
  { timestamp: 1420, input_length: 300, output_length: 9, hash_ids: [5] },
  { timestamp: 1700, input_length: 1536, output_length: 4, hash_ids: [1, 2, 6] },
  { timestamp: 1900, input_length: 800, output_length: 6, hash_ids: [7] },
];
const BLOCK = 512;
const CHARS = 4 * BLOCK;

async function writeTrace(dir: string): Promise<string> {
  const path = `${dir}/mooncake.jsonl`;
  await Deno.writeTextFile(path, TRACE.map((r) => JSON.stringify(r)).join("\n") + "\n");
  return path;
}

Deno.test("mooncake e2e: prompts share text where hash ids are equal, sent at the trace's times", async () => {
  await using dir = await tempDir();
  const path = await writeTrace(dir.path);
  const stub = chatStub();
  try {
    await using r = await perfRun({
      server: stub,
      flags: { dataset: "mooncake", datasetPath: path, parallel: 6, noTestConnection: true },
    });
    assertEquals(r.code, 0, r.stderr);
    // The stub's requests in the trace's order (by their lengths, which differ), and the due
    // times: the trace's (ms) to 0.01 ms, and the arrivals on them.
    const textOf = (q: { body: Record<string, unknown> }) => firstContent(q);
    const got = TRACE.map((rec) =>
      stub.requests.find((q) => textOf(q).length === 4 * rec.input_length)!
    );
    assertEquals(stub.requests.length, TRACE.length);
    const due = r.sql<{ due: number }>(
      "SELECT scheduled_time AS due FROM result ORDER BY request_id",
    )
      .map((row) => row.due);
    due.forEach((d, i) =>
      assertAlmostEquals((d - due[0]) * 1000, TRACE[i].timestamp - TRACE[0].timestamp, 0.01)
    );
    assertOnSchedule(got.map((q) => q.at), due);
    const blocks = new Map<number, string>(); // hash id → its full block's text
    got.forEach((q, i) => {
      const rec = TRACE[i];
      const text = firstContent(q);
      assertEquals(text.length, 4 * rec.input_length, `#${i} length`);
      assertEquals(
        [q.body.max_tokens, q.body.min_tokens, q.body.ignore_eos],
        [rec.output_length, rec.output_length, true],
      );
      rec.hash_ids.forEach((h, j) => {
        const part = text.slice(j * CHARS, (j + 1) * CHARS);
        const seen = blocks.get(h);
        if (seen === undefined || seen.length < part.length) {
          if (seen !== undefined) assert(part.startsWith(seen), `block ${h} differs`);
          blocks.set(h, part);
        } else assert(seen.startsWith(part), `hash id ${h} in #${i} is other text`);
      });
    });
    // Different hash ids, different text (their first 200 characters already).
    const heads = [...blocks.values()].map((t) => t.slice(0, 200));
    assertEquals(new Set(heads).size, blocks.size);
    // The text past the last block of #5 (800 tokens, one block) is its own.
    const last = firstContent(got[5]).slice(CHARS);
    assert(!heads.some((h) => last.startsWith(h)), "the filler repeats a block");
    // --open-loop needs no --rate: the trace's times are the schedule (as evalscope exempts
    // workload_trace, whose dataset "provides its own arrival schedule").
    await using open = await perfRun({
      server: stub,
      flags: { dataset: "mooncake", datasetPath: path, noTestConnection: true },
      args: ["--open-loop"],
    });
    assertEquals(open.code, 0, open.stderr);
    assertEquals(stub.requests.length, 2 * TRACE.length);
  } finally {
    await stub.close();
  }
});

Deno.test("mooncake e2e: the mock generates the trace's output lengths and counts its input", async () => {
  await using dir = await tempDir();
  const path = await writeTrace(dir.path);
  const mock = startMockServer({ port: 0, ttftMs: 5, itlMs: 1, outputTokens: 64 });
  try {
    await using r = await perfRun({
      server: mock,
      flags: { dataset: "mooncake", datasetPath: path, parallel: 6, stream: true },
      args: ["--dataset-args", '{"speed": 4}'],
    });
    assertEquals(r.code, 0, r.stderr);
    const rows = r.sql<{ p: number; c: number; due: number }>(
      "SELECT prompt_tokens AS p, completion_tokens AS c, scheduled_time AS due FROM result " +
        "ORDER BY scheduled_time",
    );
    assertEquals(rows.map((x) => x.c), TRACE.map((t) => t.output_length));
    // The mock counts ceil(characters / 4): the trace's input lengths exactly.
    assertEquals(rows.map((x) => x.p), TRACE.map((t) => t.input_length));
    rows.forEach((row, i) => {
      const want = (TRACE[i].timestamp - TRACE[0].timestamp) / 4;
      assertAlmostEquals((row.due - rows[0].due) * 1000, want, 0.01, `due ${i} at speed 4`);
    });
  } finally {
    await mock.close();
  }
});

Deno.test("mooncake: with a tokenizer, blocks are block_size tokens and equal ids equal text", async () => {
  const tokenizer = await loadTokenizer(await fixtureTokenizerDir("qwen3"));
  const cfg = resolveConfig({
    model: "m",
    dataset: "mooncake",
    datasetPath: await writeTrace(await Deno.makeTempDir()),
    datasetArgs: { block_size: 64 },
  });
  const items: DatasetRequest[] = [];
  for await (const it of new MooncakeDataset({ ...cfg, tokenizer }).buildMessages()) items.push(it);
  assertEquals(items.length, TRACE.length);
  items.forEach((it, i) => {
    const n = tokenizer.encode(it.messages![0].content as string).length;
    // Each block exact on its own; joined, a boundary may merge a token: within one a block.
    const slack = Math.ceil(TRACE[i].input_length / 64);
    assert(Math.abs(n - TRACE[i].input_length) <= slack, `#${i}: ${n} tokens`);
  });
  // #0 and #2 share hash ids 1, 2: their first two 64-token blocks are the same text.
  const a = items[0].messages![0].content as string;
  const c = items[2].messages![0].content as string;
  let same = 0;
  while (same < a.length && a[same] === c[same]) same++;
  const prefixTokens = tokenizer.encode(a.slice(0, same)).length;
  assert(prefixTokens >= 126, `shared prefix ${prefixTokens} tokens`);
  const d = items[3].messages![0].content as string; // hash id 5 only
  assert(!d.startsWith(a.slice(0, 20)));
});
