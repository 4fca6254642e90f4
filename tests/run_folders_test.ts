/**
 * `llmperf merge`, `export` and `report` on runs made with `--compat 2026` (evalscope 2026's
 * folder layout, `shared/reference/evalscope-perf-2026.md` §4: `<outputs>/<timestamp>/<name>/
 * parallel_P_number_N/` with its `benchmark_data.db`, and our `llmperf_data.db` beside it). The
 * runs are made by the real CLI against the mock (whose reply lengths vary); every expectation is
 * computed here from the shards' own DBs with `node:sqlite`: request counts, the sum of output
 * tokens, the 2026 schema's columns and encodings as the reference lists them.
 */
import { DatabaseSync } from "node:sqlite";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { readJson, runCli, tempDir } from "./helpers/cli.ts";
import { REF_DB_COLUMNS_2026 } from "./helpers/reference.ts";
import { perfRun, type PerfRunResult } from "./helpers/perf_run.ts";
import { startMockServer } from "../src/mock/server.ts";
import { UsageError } from "../src/errors.ts";
import { findRuns } from "../src/report/run_folders.ts";

/** Reply lengths drawn from 3 to 30 tokens: a wrong row set shows in the sum. */
const MOCK = { port: 0, ttftMs: 2, itlMs: 1, outputTokens: 3, outputTokensMax: 30 };

type Stats = { n: number; out: number; ok: number };

function sql<T>(path: string, query: string): T[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare(query).all() as T[];
  } finally {
    db.close();
  }
}

/** Rows, the sum of output tokens, and the successes (`success` 1 or 'True') of a DB. */
function stats(path: string): Stats {
  const [r] = sql<Stats>(
    path,
    "SELECT COUNT(*) AS n, COALESCE(SUM(completion_tokens), 0) AS out, " +
      "SUM(success IN (1, 'True')) AS ok FROM result",
  );
  return { n: Number(r.n), out: Number(r.out), ok: Number(r.ok) };
}

function add(a: Stats, b: Stats): Stats {
  return { n: a.n + b.n, out: a.out + b.out, ok: a.ok + b.ok };
}

/** The point folders of a 2026 run folder, by name. */
function points(runFolder: string): string[] {
  return [...Deno.readDirSync(runFolder)].filter((e) => e.isDirectory).map((e) => e.name).sort();
}

/** A `--compat 2026` run (or shard) of model `m`: its run folder `<outputs>/<ts>/m`. */
async function run2026(
  mock: { url: string },
  args: string[],
): Promise<PerfRunResult & { top: string }> {
  const r = await perfRun({
    server: mock,
    flags: { stream: true, sleepInterval: 0 },
    args: ["--compat", "2026", ...args],
  });
  assertEquals(r.code, 0, r.stderr);
  return Object.assign(r, { top: `${r.dir}/m` });
}

/** A CSV's column `name`, as numbers (the export's cells hold no commas here). */
function csvColumn(text: string, name: string): number[] {
  const [head, ...lines] = text.trimEnd().split(/\r?\n/);
  const at = head.split(",").indexOf(name);
  assert(at >= 0, `no column ${name}: ${head}`);
  return lines.map((l) => Number(l.split(",")[at]));
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

Deno.test("merge --compat 2026 shards: a run folder, a point folder or the DB; report reads it", async () => {
  const mock = startMockServer(MOCK);
  await using out = await tempDir();
  try {
    // 7 requests over 2 shards: 4 and 3 (point folders parallel_2_number_4 and _3).
    await using s0 = await run2026(mock, ["--number", "7", "--parallel", "2", "--shard", "0/2"]);
    await using s1 = await run2026(mock, ["--number", "7", "--parallel", "2", "--shard", "1/2"]);
    const [p0] = points(s0.top);
    const [p1] = points(s1.top);
    assertEquals([p0, p1], ["parallel_2_number_4", "parallel_2_number_3"]);
    const own = (top: string, p: string) => stats(`${top}/${p}/llmperf_data.db`);
    const truth = add(own(s0.top, p0), own(s1.top, p1));
    assertEquals([truth.n, truth.ok], [7, 7]);
    // evalscope's DBs of the shards hold the same rows.
    assertEquals(
      add(stats(`${s0.top}/${p0}/benchmark_data.db`), stats(`${s1.top}/${p1}/benchmark_data.db`)),
      truth,
    );

    const merged = `${out.path}/a`;
    const m = await runCli(["merge", s0.top, s1.top, "--output", merged, "--json"]);
    assertEquals(m.code, 0, m.stderr);
    const mj = JSON.parse(m.stdout);
    assert(String(mj.layout).startsWith("evalscope 2026 folders (--compat 2026)"), mj.layout);
    assertEquals([mj.rows, mj.shards], [7, 2]);
    // The merged run in the 2026 layout: <output>/parallel_2_number_7/, N the whole run's.
    assertEquals(points(merged), ["parallel_2_number_7"]);
    const point = `${merged}/parallel_2_number_7`;
    assertEquals(stats(`${point}/llmperf_data.db`), truth);
    assertEquals(stats(`${point}/benchmark_data.db`), truth);
    const cols = sql<{ name: string }>(`${point}/benchmark_data.db`, "PRAGMA table_info(result)");
    assertEquals(cols.map((c) => c.name), REF_DB_COLUMNS_2026);
    const enc = sql<{ s: string; r: string }>(
      `${point}/benchmark_data.db`,
      "SELECT DISTINCT typeof(success) AS s, substr(request, 1, 1) AS r FROM result",
    );
    // success 1, the body as JSON text
    assertEquals(enc.map((e) => [e.s, e.r]), [["integer", "{"]]);
    const summary = await readJson(`${point}/benchmark_summary.json`);
    assertEquals(
      [summary["Total Requests"], summary["Success Requests"], summary["Concurrency"]],
      [7, 7, 2],
    );
    const avgOut = Number(summary["Avg Output Tokens"]);
    assert(Math.abs(avgOut - truth.out / 7) < 1e-3, `${avgOut} vs ${truth.out / 7}`);
    const args = await readJson(`${point}/benchmark_args.json`);
    assertEquals([args.shard, args.name, args.compat], [undefined, "a", "2026"]);
    const perf = await Deno.readTextFile(`${merged}/performance_summary.txt`);
    assert(perf.includes("Performance Test Summary Report"), perf);
    const runRow = sql<{ shard_index: number | null; merged_from: string }>(
      `${point}/llmperf_data.db`,
      "SELECT shard_index, merged_from FROM run",
    )[0];
    assertEquals(runRow.shard_index, null);
    assertEquals(JSON.parse(runRow.merged_from).map((x: { rows: number }) => x.rows), [4, 3]);

    // `llmperf report` on the merged run folder (one point) and on its point folder.
    for (const target of [merged, point]) {
      const rep = await runCli(["report", target, "--json", "--compat", "2026"]);
      assertEquals(rep.code, 0, rep.stderr);
      const rj = JSON.parse(rep.stdout);
      assertEquals([rj.rows, rj.db], [7, `${point}/benchmark_data.db`]);
      assert(String(rj.layout).startsWith("evalscope 2026 result DB"), rj.layout);
      assertEquals(rj.evalscope2026.summary["Total Requests"], 7);
    }
    const text = await runCli(["report", merged]);
    assertEquals(text.code, 0, text.stderr);
    assert(text.stdout.includes("Layout: evalscope 2026 result DB"), text.stdout);

    // A shard given as evalscope's DB, the other as its point folder; and the timestamp folders.
    for (
      const [name, a, b] of [
        ["b", `${s0.top}/${p0}/benchmark_data.db`, `${s1.top}/${p1}`],
        ["c", s0.dir, s1.dir],
      ]
    ) {
      const r = await runCli(["merge", a, b, "--output", `${out.path}/${name}`, "--json"]);
      assertEquals(r.code, 0, r.stderr);
      assertEquals(JSON.parse(r.stdout).rows, 7);
      assertEquals(stats(`${out.path}/${name}/parallel_2_number_7/benchmark_data.db`), truth);
    }

    // evalscope 2026's own DB (no llmperf_data.db beside it): refused, in one line.
    await Deno.mkdir(`${out.path}/es`);
    await Deno.copyFile(`${s0.top}/${p0}/benchmark_data.db`, `${out.path}/es/benchmark_data.db`);
    const es = await runCli(["merge", `${out.path}/es`, s1.top, "--output", `${out.path}/d`]);
    assertEquals(es.code, 2, es.stderr);
    assert(es.stderr.includes("is evalscope 2026's own result DB"), es.stderr);
    assertEquals(es.stderr.trim().split("\n").length, 1, es.stderr);
  } finally {
    await mock.close();
  }
});

Deno.test("merge --compat 2026 sweep shards point by point; export reads llmperf_data.db", async () => {
  const mock = startMockServer(MOCK);
  await using out = await tempDir();
  try {
    const sweep = ["--number", "4", "6", "--parallel", "2", "4"];
    await using s0 = await run2026(mock, [...sweep, "--shard", "0/2"]);
    await using s1 = await run2026(mock, [...sweep, "--shard", "1/2"]);
    const names = ["parallel_2_number_4", "parallel_4_number_6"];
    assertEquals(points(s0.top), names);
    const truth = names.map((p) =>
      add(stats(`${s0.top}/${p}/llmperf_data.db`), stats(`${s1.top}/${p}/llmperf_data.db`))
    );
    assertEquals(truth.map((t) => t.n), [4, 6]);

    const merged = `${out.path}/s`;
    const m = await runCli(["merge", s0.top, s1.top, "--output", merged]);
    assertEquals(m.code, 0, m.stderr);
    assert(m.stdout.includes("Layout: evalscope 2026 folders"), m.stdout);
    assert(m.stdout.includes("Performance Test Summary Report"), m.stdout);
    assertEquals(points(merged), names);
    names.forEach((p, i) => {
      assertEquals(stats(`${merged}/${p}/benchmark_data.db`), truth[i], p);
      assertEquals(stats(`${merged}/${p}/llmperf_data.db`), truth[i], p);
    });
    const rows = await readJson<Array<{ folder: string; succeeded: number }>>(
      `${merged}/sweep_summary.json`,
    );
    assertEquals(rows.map((r) => [r.folder, r.succeeded]), [[names[0], 4], [names[1], 6]]);
    const perf = await Deno.readTextFile(`${merged}/performance_summary.txt`);
    assert(/│ 2\s+│ -\s+│ 4\s+│/.test(perf) && /│ 4\s+│ -\s+│ 6\s+│/.test(perf), perf);
    const one = await runCli(["report", `${merged}/${names[1]}`, "--json"]);
    assertEquals([one.code, JSON.parse(one.stdout).rows], [0, 6], one.stderr);
    const both = await runCli(["report", merged]);
    assertEquals(both.code, 2);
    assert(both.stderr.includes("give one of its point folders"), both.stderr);

    // export: the run folder stands for each point, each exported into its own folder.
    const ex = await runCli(["export", s0.top]);
    assertEquals(ex.code, 0, ex.stderr);
    assert(ex.stderr.includes("layout: --compat 2026 run folder (2 points"), ex.stderr);
    for (const p of names) {
      const csv = await Deno.readTextFile(`${s0.top}/${p}/requests.csv`);
      const tokens = csvColumn(csv, "completion_tokens");
      const db = stats(`${s0.top}/${p}/llmperf_data.db`);
      assertEquals([tokens.length, sum(tokens)], [db.n, db.out], p);
      assertEquals(
        [tokens.length, sum(tokens)],
        [
          stats(`${s0.top}/${p}/benchmark_data.db`).n,
          stats(`${s0.top}/${p}/benchmark_data.db`).out,
        ],
      );
    }
    // evalscope's DB given: ours beside it is read (it keeps the epoch times).
    const direct = await runCli([
      "export",
      `${s1.top}/${names[0]}/benchmark_data.db`,
      "--output",
      "-",
    ]);
    assertEquals(direct.code, 0, direct.stderr);
    assert(direct.stderr.includes("layout: --compat 2026 point folder"), direct.stderr);
    const starts = csvColumn(direct.stdout, "start_time_s");
    assert(starts.every((t) => t > 1.7e9), `epoch seconds: ${starts}`);
    const bad = await runCli(["export", s0.top, "--output", `${out.path}/x.csv`]);
    assertEquals(bad.code, 2);
    assert(bad.stderr.includes("--output names one file"), bad.stderr);
  } finally {
    await mock.close();
  }
});

Deno.test("findRuns: parallel_* and rate_* point folders, in the sweep's order, else by number", async () => {
  await using tmp = await tempDir();
  const top = `${tmp.path}/20261201_081906/s`;
  const names = ["rate_5.0_number_100", "parallel_8_number_80", "parallel_1_number_4", "other"];
  for (const n of names) {
    await Deno.mkdir(`${top}/${n}`, { recursive: true });
    await Deno.writeTextFile(`${top}/${n}/benchmark_data.db`, "");
    await Deno.writeTextFile(`${top}/${n}/llmperf_data.db`, "");
  }
  const found = await findRuns(top);
  assertEquals(found.runs.map((r) => r.point), [
    "parallel_1_number_4",
    "parallel_8_number_80",
    "rate_5.0_number_100",
  ]);
  assert(found.layout2026);
  assertEquals(found.runs[0].dbPath, `${top}/parallel_1_number_4/llmperf_data.db`);
  assertEquals(found.runs[0].evalscopeDb, `${top}/parallel_1_number_4/benchmark_data.db`);
  // A sweep's summary gives the order.
  await Deno.writeTextFile(
    `${top}/sweep_summary.json`,
    JSON.stringify(["rate_5.0_number_100", "parallel_1_number_4"].map((folder) => ({ folder }))),
  );
  assertEquals((await findRuns(top)).runs.map((r) => r.point), [
    "rate_5.0_number_100",
    "parallel_1_number_4",
    "parallel_8_number_80",
  ]);
  // evalscope's DB given: ours beside it is the one read.
  const given = await findRuns(`${top}/rate_5.0_number_100/benchmark_data.db`);
  assertEquals(given.runs[0].dbPath, `${top}/rate_5.0_number_100/llmperf_data.db`);
  // Without ours: evalscope's own point folder, read as it is, not called --compat 2026.
  await Deno.remove(`${top}/parallel_8_number_80/llmperf_data.db`);
  const own = await findRuns(`${top}/parallel_8_number_80`);
  assertEquals([own.layout2026, own.runs[0].dbPath], [
    false,
    `${top}/parallel_8_number_80/benchmark_data.db`,
  ]);
  await assertRejects(() => findRuns(`${top}/other/..x`), UsageError);
  await assertRejects(() => findRuns(tmp.path), UsageError);
});

Deno.test("--compat 2026 --open-loop: Concurrency is -1 in a run's, each shard's and the merged summary", async () => {
  // The reference's summary keys: `Concurrency` is "parallel (−1 in open loop)"; its
  // `--parallel` row: "Open loop: forced to [-1]". `Request Rate (req/s)` is the configured rate.
  const mock = startMockServer(MOCK);
  await using out = await tempDir();
  try {
    const loop = ["--open-loop", "--rate", "50", "--parallel", "3"];
    const summaryOf = (top: string) => {
      const [p] = points(top);
      return readJson(`${top}/${p}/benchmark_summary.json`);
    };
    await using one = await run2026(mock, [...loop, "--number", "4"]);
    await using s0 = await run2026(mock, [...loop, "--number", "6", "--shard", "0/2"]);
    await using s1 = await run2026(mock, [...loop, "--number", "6", "--shard", "1/2"]);
    for (const r of [one, s0, s1]) {
      const s = await summaryOf(r.top);
      assertEquals([s["Concurrency"], s["Request Rate (req/s)"]], [-1, 50], r.top);
    }
    const merged = `${out.path}/ol`;
    const m = await runCli(["merge", s0.top, s1.top, "--output", merged]);
    assertEquals(m.code, 0, m.stderr);
    assertEquals(points(merged), ["rate_50.0_number_6"]);
    const s = await summaryOf(merged);
    assertEquals([s["Total Requests"], s["Concurrency"], s["Request Rate (req/s)"]], [6, -1, 50]);
  } finally {
    await mock.close();
  }
});
