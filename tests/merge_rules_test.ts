/**
 * `llmperf merge`'s rules, on small shard runs against the mock: what is not the complete set of
 * finished shards of one run is refused in one line (exit 2), or merged with a warning under
 * `--force`; `--wait` waits for a shard that is not there yet; sweeps merge point by point; the
 * clock check says when a shard's load began off `--start-at`; `--start-at` in the past sends
 * nothing.
 */
import { DatabaseSync } from "node:sqlite";
import { assert, assertEquals } from "./assert.ts";
import { readJson, runCli, tempDir } from "./helpers/cli.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { resolveConfig } from "../src/config.ts";
import { silentLogger } from "../src/log.ts";
import { clockWarning, startOffsets } from "../src/merge/clock.ts";
import type { RunInput } from "../src/merge/inputs.ts";
import { startMockServer } from "../src/mock/server.ts";
import { runPerfBenchmark } from "../src/perf.ts";
import { runSweep } from "../src/run/sweep.ts";

const mock = startMockServer({ port: 0, ttftMs: 2, itlMs: 1, outputTokens: 3 });
const URL = `${mock.url}/v1/chat/completions`;

/** One shard (or whole) run in this process; resolves to its run folder. */
async function shardRun(dir: string, name: string, extra: Record<string, unknown>) {
  const r = await runPerfBenchmark({
    url: URL,
    model: "m",
    prompt: "hi",
    number: 6,
    parallel: 2,
    stream: true,
    workers: 0,
    noTestConnection: true,
    outputsDir: dir,
    name,
    ...extra,
  }, { log: silentLogger, progress: "off" });
  return r.outputDir;
}

function ids(db: string): number[] {
  const d = new DatabaseSync(db, { readOnly: true });
  try {
    return (d.prepare("SELECT request_id FROM result").all() as Array<{ request_id: number }>)
      .map((r) => r.request_id).sort((a, b) => a - b);
  } finally {
    d.close();
  }
}

const merge = (args: string[]) => runCli(["merge", ...args]);

/** The one `error:` line of a refused merge. */
function refusal(r: { code: number; stderr: string }): string {
  assertEquals(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assertEquals(lines.length, 1, r.stderr);
  assert(lines[0].startsWith("llmperf merge: error: "), lines[0]);
  return lines[0];
}

Deno.test({
  name: "merge rules: not one run's complete shards is refused in one line; --force merges it",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await using tmp = await tempDir();
  const d = tmp.path;
  const a0 = await shardRun(d, "a0", { shard: "0/2" });
  const a1 = await shardRun(d, "a1", { shard: "1/2" });
  const b1 = await shardRun(d, "b1", { shard: "1/2", maxTokens: 5 });
  const whole = await shardRun(d, "whole", {});

  const differ = refusal(await merge([a0, b1, "--output", `${d}/m1`]));
  assert(differ.includes("not the shards of one run: --max-tokens is 5 in"), differ);
  assert(differ.includes("and 2048 in"), differ);
  assert(differ.includes("(--force merges them anyway)"), differ);
  assert(refusal(await merge([a0, "--output", `${d}/m2`])).includes("shard 1/2 of 2 is missing"));
  assert(refusal(await merge([a0, a0, a1, "--output", `${d}/m3`])).includes("given twice"));
  assert(refusal(await merge([whole, "--output", `${d}/m4`])).includes("is a shard (--shard)"));
  assert(refusal(await merge([a0, whole, "--output", `${d}/m5`])).includes("is no shard"));
  assert(refusal(await merge([a0, a1, "--output", a0])).includes("exists: give a new folder"));
  for (const m of ["m1", "m2", "m3", "m4", "m5"]) {
    assertEquals(await Deno.stat(`${d}/${m}`).then(() => true, () => false), false, m);
  }

  const forced = await merge([a0, b1, "--output", `${d}/forced`, "--force"]);
  assertEquals(forced.code, 0, forced.stderr);
  assert(forced.stderr.includes("warning: not the shards of one run: --max-tokens"), forced.stderr);
  assertEquals(ids(`${d}/forced/benchmark_data.db`), [0, 1, 2, 3, 4, 5]);

  const ok = await merge([a0, a1, "--output", `${d}/ok`, "--json"]);
  assertEquals(ok.code, 0, ok.stderr);
  const out = JSON.parse(ok.stdout);
  assertEquals([out.rows, out.shards, out.summary["Total requests"]], [6, 2, 6]);
  assertEquals(out.summary["Number of concurrency"], 2);
});

Deno.test({
  name: "merge rules: --wait waits for a shard that is not there yet, then merges",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await using tmp = await tempDir();
  const shards = `${tmp.path}/shards`;
  await Deno.mkdir(shards);
  await shardRun(shards, "s0", { shard: "0/2" });
  const waiting = merge([shards, "--output", `${tmp.path}/merged`, "--wait", "60"]);
  // Shard 1 arrives later, the way the Kubernetes job copies it in: made aside, then renamed.
  await new Promise((r) => setTimeout(r, 1500));
  const aside = await shardRun(tmp.path, ".s1", { shard: "1/2" });
  await Deno.rename(aside, `${shards}/s1`);
  const r = await waiting;
  assertEquals(r.code, 0, r.stderr);
  assert(r.stderr.includes("waiting for the shards: shard 1/2 of 2 is missing"), r.stderr);
  assertEquals(ids(`${tmp.path}/merged/benchmark_data.db`), [0, 1, 2, 3, 4, 5]);
  // Without a wait, a missing shard is refused at once.
  const now = await merge([`${shards}/s0`, "--output", `${tmp.path}/m2`]);
  assert(refusal(now).includes("missing"));
});

Deno.test({
  name: "merge rules: the shards of a sweep merge point by point",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await using tmp = await tempDir();
  const sweeps: string[] = [];
  for (const i of [0, 1]) {
    const s = await runSweep(
      {
        url: URL,
        model: "m",
        prompt: "hi",
        stream: true,
        workers: 0,
        noTestConnection: true,
        outputsDir: tmp.path,
        name: `sweep${i}`,
        shard: `${i}/2`,
      },
      { parallel: [2, 4], number: [4, 10] },
      {
        log: silentLogger,
        progress: "off",
      },
    );
    assertEquals(s.rows.map((r) => r.number), [2, 5]);
    sweeps.push(s.outputDir);
  }
  const r = await merge([...sweeps, "--output", `${tmp.path}/merged`]);
  assertEquals(r.code, 0, r.stderr);
  const rows = await readJson<Array<Record<string, unknown>>>(
    `${tmp.path}/merged/sweep_summary.json`,
  );
  assertEquals(rows.map((p) => [p.point, p.parallel, p.number, p.succeeded]), [
    ["parallel_2_number_4", 2, 4, 4],
    ["parallel_4_number_10", 4, 10, 10],
  ]);
  for (const [folder, n] of [["parallel_2_number_4", 4], ["parallel_4_number_10", 10]] as const) {
    const dir = `${tmp.path}/merged/${folder}`;
    assertEquals(ids(`${dir}/benchmark_data.db`), [...Array(n).keys()]);
    const summary = await readJson(`${dir}/benchmark_summary.json`);
    const row = rows.find((p) => p.folder === folder)!;
    assertEquals(row.requestThroughput, summary["Request throughput (req/s)"]);
    assertEquals(summary["Number of concurrency"], folder.startsWith("parallel_2") ? 2 : 4);
  }
  await Deno.stat(`${tmp.path}/merged/report.html`);
  const args = await readJson(`${tmp.path}/merged/sweep_args.json`);
  assertEquals([args.shard, args.parallel], [undefined, [2, 4]]);
});

function fakeShard(index: number, loadStart: number | null, startAt?: number): RunInput {
  return {
    label: `s${index}`,
    dbPath: `s${index}.db`,
    args: startAt === undefined ? {} : { start_at: startAt },
    run: { load_started_at: loadStart, ended_at: 1 },
    shard: { index, count: 3 },
    rows: 1,
    firstSendS: 1000 + index,
  };
}

Deno.test("merge rules: the clock check measures each shard's load start against --start-at", () => {
  const aligned = [0, 1, 2].map((i) => fakeShard(i, 1000 + i * 0.001, 1000));
  const o = startOffsets(aligned);
  assertEquals(o.reference, "--start-at");
  o.offsetsMs.forEach((ms, i) => assert(Math.abs(ms - i) < 1e-6, `${ms}`));
  assertEquals(clockWarning(aligned, o), undefined); // 2 ms at most: under the 5 ms limit
  const late = [
    fakeShard(0, 1000.001, 1000),
    fakeShard(1, 1000.040, 1000),
    fakeShard(2, 1000, 1000),
  ];
  const w = clockWarning(late, startOffsets(late))!;
  assert(w.includes("up to 40.0 ms apart from --start-at"), w);
  assert(w.includes("1/3 +40.0 ms"), w);
  // Without --start-at: against the earliest shard.
  const apart = [fakeShard(0, 1000.5), fakeShard(1, 1000), fakeShard(2, 1002)];
  const w2 = clockWarning(apart, startOffsets(apart))!;
  assert(w2.includes("2000.0 ms apart from the earliest shard"), w2);
  assert(w2.includes("give every shard the same --start-at"), w2);
  // No recorded load start (an older DB): the first sends stand in.
  const old = [fakeShard(0, null), fakeShard(1, null), fakeShard(2, null)];
  assertEquals(startOffsets(old).basis, "first send");
});

Deno.test({
  name:
    "start-at: a start time in the past is refused before anything is sent; one ahead is waited for",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const before = mock.stats.requests;
  await using past = await perfRun({
    server: mock,
    flags: { startAt: Math.floor(Date.now() / 1000) - 30, number: 2 },
  });
  assertEquals(past.code, 2, past.stderr);
  assert(past.stderr.includes("--start-at"), past.stderr);
  assert(past.stderr.includes("s ago; nothing was sent"), past.stderr);
  assertEquals(past.entries, [], "no run folder");
  assertEquals(mock.stats.requests, before, "the server saw nothing");

  await using tmp = await tempDir();
  const startAt = Date.now() / 1000 + 1.5;
  const dir = await shardRun(tmp.path, "later", { startAt, number: 3 });
  const db = new DatabaseSync(`${dir}/benchmark_data.db`, { readOnly: true });
  try {
    const first = (db.prepare("SELECT MIN(start_time) AS t FROM result").get() as { t: number }).t;
    const run = db.prepare("SELECT load_started_at FROM run").get() as { load_started_at: number };
    assert(first >= startAt, `sent ${startAt - first} s before --start-at`);
    assert(run.load_started_at >= startAt && run.load_started_at < startAt + 0.5);
  } finally {
    db.close();
  }
  assertEquals(resolveConfig({ model: "m", startAt }).startAt, startAt);
});

globalThis.addEventListener("unload", () => void mock.close());
