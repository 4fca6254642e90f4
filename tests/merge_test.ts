/**
 * The proof that shards merge exactly (issue 17): three `llmperf perf --shard I/3` processes
 * against the mock, started together by one `--start-at`, merged by `llmperf merge`, and checked
 * against values this test computes itself from the shards' own rows and from the definition of
 * the schedule: the union is the unsharded run's request list (an unsharded run of the same
 * settings is made to compare), its send times are the global Poisson schedule recomputed from
 * the seed (`helpers/poisson.ts`), every percentile is the one of the union of the rows (not an
 * average of the shards'), and throughput is over the union's wall-clock span.
 */
import { DatabaseSync } from "node:sqlite";
import { assert, assertEquals } from "./assert.ts";
import { runCli, tempDir } from "./helpers/cli.ts";
import { perfRun, type PerfRunResult } from "./helpers/perf_run.ts";
import { poissonOffsetsMs } from "./helpers/poisson.ts";
import { startMockServer } from "../src/mock/server.ts";
import { reportFromDb } from "../src/report/from_db.ts";
import { unpickleBase64 } from "../src/store/pickle.ts";

const SHARDS = 3;
const NUMBER = 60; // more than the dataset's 45 lines: the dataset cycles, the same way on each
const LINES = 45;
const PARALLEL = 9;
const RATE = 40;
const SEED = 11;
/** Seconds from now to --start-at: enough for three processes to start on a loaded machine. */
const LEAD_S = 8;

type Row = {
  request_id: number;
  request: string;
  start_time: number;
  completed_time: number;
  scheduled_time: number;
  success: string;
  ttft: number;
  latency: number;
  first_chunk_latency: number;
  time_per_output_token: number | null;
  inter_token_latencies: string;
  prompt_tokens: number;
  completion_tokens: number;
};

function rowsOf(dbPath: string): Row[] {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    return db.prepare("SELECT * FROM result ORDER BY rowid").all() as unknown as Row[];
  } finally {
    db.close();
  }
}

function runRowOf(dbPath: string): Record<string, unknown> {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    return db.prepare("SELECT * FROM run").get() as Record<string, unknown>;
  } finally {
    db.close();
  }
}

/** The request body of a row, as JSON text (the `request` column is a pickle of the body). */
const bodyOf = (r: Row) => JSON.stringify(unpickleBase64(r.request));

/** numpy's `linear` percentile, written here from its definition. */
function linear(values: number[], p: number): number {
  const v = [...values].sort((a, b) => a - b);
  const rank = ((v.length - 1) * p) / 100;
  const lo = Math.floor(rank);
  const hi = Math.min(v.length - 1, lo + 1);
  return v[lo] + (v[hi] - v[lo]) * (rank - lo);
}

/** evalscope's percentile: `sorted[floor(n * p / 100)]`. */
function indexed(values: number[], p: number): number {
  const v = [...values].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.floor((v.length * p) / 100))];
}

const PERCENTILES = [10, 25, 50, 66, 75, 80, 90, 95, 98, 99];

Deno.test({
  name: "merge: three shards started by one --start-at merge into the unsharded run, exactly",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const mock = startMockServer({
    port: 0,
    ttftMs: 15,
    itlMs: 2,
    outputTokens: 4,
    outputTokensMax: 16,
  });
  await using tmp = await tempDir();
  const data = `${tmp.path}/prompts.txt`;
  await Deno.writeTextFile(data, Array.from({ length: LINES }, (_, i) => `p${i}\n`).join(""));
  const flags = {
    dataset: "line_by_line",
    datasetPath: data,
    number: NUMBER,
    parallel: PARALLEL,
    rate: RATE,
    seed: SEED,
    stream: true,
    workers: 1,
  };
  const startAt = Math.round(Date.now() / 1000 + LEAD_S);
  const runs: PerfRunResult[] = [];
  try {
    // The three shards, and an unsharded run of the same settings to compare the request list.
    runs.push(
      ...await Promise.all([
        ...[...Array(SHARDS).keys()].map((i) =>
          perfRun({ server: mock, flags: { ...flags, shard: `${i}/${SHARDS}`, startAt } })
        ),
        perfRun({ server: mock, flags }),
      ]),
    );
    const shards = runs.slice(0, SHARDS);
    const whole = runs[SHARDS];
    for (const r of runs) assertEquals(r.code, 0, r.stderr);
    const merged = `${tmp.path}/merged`;
    const m = await runCli(["merge", ...shards.map((r) => r.dir), "--output", merged]);
    assertEquals(m.code, 0, m.stderr);
    for (const f of ["benchmark_args.json", "benchmark_summary.json", "report.html"]) {
      await Deno.stat(`${merged}/${f}`);
    }

    // Each shard: every third request from its own, its share of --parallel, recorded as such.
    const shardRows = shards.map((r) => rowsOf(`${r.dir}/benchmark_data.db`));
    shardRows.forEach((rows, s) => {
      const ids = rows.map((r) => r.request_id).sort((a, b) => a - b);
      assertEquals(ids, [...Array(NUMBER).keys()].filter((i) => i % SHARDS === s));
      assertEquals(shards[s].args.shard, { index: s, count: SHARDS });
      assertEquals(shards[s].summary["Number of concurrency"], PARALLEL / SHARDS);
      assert(shards[s].dir.endsWith(`_shard_${s}_of_${SHARDS}`), shards[s].dir);
      const run = runRowOf(`${shards[s].dir}/benchmark_data.db`);
      assertEquals([run.shard_index, run.shard_count], [s, SHARDS]);
      // The load began at --start-at (by this machine's one clock), not before.
      const began = run.load_started_at as number;
      assert(began >= startAt && began < startAt + 1, `shard ${s} began at ${began - startAt} s`);
    });
    const union = shardRows.flat();
    // llmperf report on a shard reads its own share of --parallel too.
    const shardReport = await reportFromDb(`${shards[0].dir}/benchmark_data.db`);
    assertEquals(shardReport.summary["Number of concurrency"], PARALLEL / SHARDS);

    // The merged DB holds every row once; the union's request list is the unsharded run's.
    const mergedRows = rowsOf(`${merged}/benchmark_data.db`);
    assertEquals(mergedRows.length, NUMBER);
    assertEquals(mergedRows.map((r) => r.request_id).sort((a, b) => a - b), [
      ...Array(NUMBER).keys(),
    ]);
    const wholeRows = whole.sql<Row>("SELECT * FROM result");
    assertEquals(wholeRows.length, NUMBER);
    const list = (rows: Row[]) =>
      rows.map((r) => [r.request_id, bodyOf(r)] as const).sort((a, b) => a[0] - b[0]);
    assertEquals(list(mergedRows), list(wholeRows));
    for (const [i, body] of list(mergedRows)) {
      assertEquals(JSON.parse(body).messages[0].content, `p${i % LINES}`, `request ${i}`);
    }

    // The union's send times are the global Poisson schedule of --rate 40 --seed 11 from
    // --start-at; every request went at its time or a little after, never before.
    const offsets = poissonOffsetsMs(RATE, SEED, NUMBER);
    const late: number[] = [];
    for (const r of mergedRows) {
      const due = startAt + offsets[r.request_id] / 1000;
      assert(
        Math.abs(r.scheduled_time - due) < 1e-5,
        `request ${r.request_id} due ${r.scheduled_time - due} s off`,
      );
      late.push((r.start_time - r.scheduled_time) * 1000);
    }
    assert(
      Math.min(...late) > -0.01,
      `a request was sent before it was due: ${Math.min(...late)} ms`,
    );
    const meanLate = late.reduce((a, b) => a + b, 0) / late.length;
    assert(meanLate < 50, `mean lateness ${meanLate.toFixed(1)} ms`);
    assert(Math.max(...late) < 500, `max lateness ${Math.max(...late).toFixed(1)} ms`);

    // Every percentile is the union's, computed here from the shards' own rows.
    assert(union.every((r) => r.success === "True"));
    const ttft = union.map((r) => r.ttft * 1000);
    const latency = union.map((r) => r.latency);
    const tpot = union.flatMap((
      r,
    ) => (r.time_per_output_token === null ? [] : [r.time_per_output_token * 1000]));
    const itl = union.flatMap((r) =>
      (JSON.parse(r.inter_token_latencies) as number[]).map((g) => g * 1000)
    );
    const rate = union.map((r) => r.completion_tokens / r.latency);
    const input = union.map((r) => r.prompt_tokens);
    const output = union.map((r) => r.completion_tokens);
    const firstChunk = union.map((r) => r.first_chunk_latency);
    const pct = JSON.parse(await Deno.readTextFile(`${merged}/benchmark_percentile.json`)) as Array<
      Record<string, number | string>
    >;
    assertEquals(pct.length, PERCENTILES.length);
    PERCENTILES.forEach((p, k) => {
      const row = pct[k];
      assertEquals(row["Percentile"], `${p}%`);
      assertEquals(row["TTFT (ms)"], linear(ttft, p), `TTFT p${p}`);
      assertEquals(row["Latency (s)"], linear(latency, p), `latency p${p}`);
      assertEquals(row["TPOT (ms)"], linear(tpot, p), `TPOT p${p}`);
      assertEquals(row["ITL (ms)"], linear(itl, p), `ITL p${p}`);
      assertEquals(row["Output (tok/s)"], linear(rate, p), `output rate p${p}`);
      assertEquals(row["Input tokens"], linear(input, p), `input p${p}`);
      assertEquals(row["Output tokens"], linear(output, p), `output p${p}`);
      assertEquals(row["First Chunk Latency"], indexed(firstChunk, p), `first chunk p${p}`);
      assertEquals(row["Latency"], indexed(latency, p), `evalscope latency p${p}`);
    });

    // Throughput over the union's wall-clock span: first send to last end, by epoch time.
    const span = Math.max(...union.map((r) => r.completed_time)) -
      Math.min(...union.map((r) => r.start_time));
    const summary = JSON.parse(await Deno.readTextFile(`${merged}/benchmark_summary.json`));
    assertEquals(summary["Total requests"], NUMBER);
    assertEquals(summary["Succeed requests"], NUMBER);
    assertEquals(summary["Expected number of requests"], NUMBER);
    assertEquals(summary["Number of concurrency"], PARALLEL);
    assertEquals(summary["Benchmark duration (s)"], span);
    assertEquals(summary["Time taken for tests (senconds)"], span);
    assertEquals(summary["Request throughput (req/s)"], NUMBER / span);
    const tokens = output.reduce((a, b) => a + b, 0);
    assertEquals(summary["Output token throughput (tok/s)"], tokens / span);

    // The folder is a run's: its settings without the shard; llmperf report reads the same.
    const args = JSON.parse(await Deno.readTextFile(`${merged}/benchmark_args.json`));
    assertEquals([args.shard, args.parallel, args.number, args.rate, args.name], [
      undefined,
      PARALLEL,
      NUMBER,
      RATE,
      "merged",
    ]);
    const again = await reportFromDb(`${merged}/benchmark_data.db`);
    assertEquals(
      again.summary,
      Object.fromEntries(Object.entries(summary).filter(([k]) => k in again.summary)),
    );
    assertEquals(
      again.requestPercentiles.map((r) => r["TTFT (ms)"]),
      pct.map((r) => r["TTFT (ms)"]),
    );
    const run = runRowOf(`${merged}/benchmark_data.db`);
    const from = JSON.parse(run.merged_from as string) as Array<Record<string, unknown>>;
    assertEquals(from.map((f) => f.shard), ["0/3", "1/3", "2/3"]);
    assertEquals(from.map((f) => f.rows), [20, 20, 20]);
    assertEquals(run.requests, NUMBER);
    assertEquals(run.shard_index, null);
  } finally {
    for (const r of runs) await r[Symbol.asyncDispose]();
    await mock.close();
  }
});
