/**
 * `--repeat`: each run in its own folder with fresh connections, `--sleep-interval` between runs
 * (measured from the runs' own DB start and end times), and the repeat summary checked against
 * the runs' own `benchmark_summary.json` values with the mean, standard deviation and Student-t
 * interval computed here; a sweep with repeats carries each point's CIs and draws error bars.
 */
import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import { readJson } from "./helpers/cli.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { DatabaseSync } from "node:sqlite";
import { startMockServer } from "../src/mock/server.ts";
import type { RepeatSummary } from "../src/results/repeat.ts";
import type { SweepRow } from "../src/results/sweep.ts";

/** qt(0.975, 2), as R prints it. */
const T_975_DF2 = 4.30265272974946;

function runTimes(dbPath: string): { started: number; ended: number } {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    const r = db.prepare("SELECT started_at, ended_at FROM run").get() as Record<string, number>;
    return { started: r.started_at, ended: r.ended_at };
  } finally {
    db.close();
  }
}

Deno.test("repeat e2e: 3 runs, 1 s apart, their spread computed from their own summaries", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 20, itlMs: 2, outputTokens: 6 });
  try {
    await using r = await perfRun({
      server: mock,
      telemetry: true,
      flags: {
        number: 12,
        parallel: 3,
        stream: true,
        repeat: 3,
        sleepInterval: 1,
        name: "rep",
        noGpuTelemetry: true,
      },
    });
    assertEquals(r.code, 0, r.stderr);
    assert(r.stdout.includes("Repeats: 3 runs of the same point"), r.stdout);
    const dir = r.dir;
    const folders = [...Deno.readDirSync(dir)].filter((e) => e.isDirectory).map((e) => e.name)
      .sort();
    assertEquals(folders, ["repeat_1", "repeat_2", "repeat_3"]);
    // Each run sent its own 12 requests (plus its own start-up check): fresh runs, not one.
    assertEquals(mock.stats.requests, 3 * 13);
    const times = folders.map((f) => runTimes(`${dir}/${f}/benchmark_data.db`));
    for (let i = 1; i < 3; i++) {
      const gap = times[i].started - times[i - 1].ended;
      assert(gap >= 0.95, `run ${i + 1} began ${gap.toFixed(3)} s after run ${i} ended`);
    }
    const summary = await readJson<RepeatSummary>(`${dir}/repeat_summary.json`);
    assertEquals(summary.repeats, 3);
    assertEquals(summary.runs.map((x) => x.folder), folders);
    for (
      const key of ["Mean TTFT (ms)", "Output token throughput (tok/s)", "Server mean TTFT (ms)"]
    ) {
      const values: number[] = [];
      for (const f of folders) {
        values.push(
          (await readJson<Record<string, number>>(`${dir}/${f}/benchmark_summary.json`))[key],
        );
      }
      const mean = values.reduce((a, b) => a + b, 0) / 3;
      const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / 2);
      const half = (T_975_DF2 * sd) / Math.sqrt(3);
      const m = summary.metrics[key];
      assertEquals(m.values, values, key);
      assertAlmostEquals(m.mean, mean, 1e-9);
      assertAlmostEquals(m.stdev!, sd, 1e-9);
      assertAlmostEquals(m.ciLow!, mean - half, 1e-9);
      assertAlmostEquals(m.ciHigh!, mean + half, 1e-9);
      assertAlmostEquals(m.cv!, sd / mean, 1e-12);
    }
    assert((await r.text("report.html")).includes('"kind":"repeat"'));
  } finally {
    await mock.close();
  }
});

Deno.test("repeat: a sweep with --repeat 2 averages each point and carries its CIs", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 10, itlMs: 1, outputTokens: 4 });
  try {
    await using r = await perfRun({
      server: mock,
      telemetry: true,
      flags: {
        number: [4, 8],
        parallel: [1, 2],
        stream: true,
        repeat: 2,
        sleepInterval: 0,
        name: "swr",
        noGpuTelemetry: true,
      },
    });
    assertEquals(r.code, 0, r.stderr);
    const rows = await readJson<SweepRow[]>(`${r.dir}/sweep_summary.json`);
    assertEquals(rows.map((x) => [x.point, x.repeats]), [
      ["parallel_1_number_4", 2],
      ["parallel_2_number_8", 2],
    ]);
    for (const row of rows) {
      const rs = await readJson<RepeatSummary>(`${r.dir}/${row.folder}/repeat_summary.json`);
      const m = rs.metrics["Output token throughput (tok/s)"];
      assertAlmostEquals(row.outputThroughput!, m.mean, 1e-9);
      assertEquals(row.ci!.outputThroughput, [m.ciLow!, m.ciHigh!]);
      assertEquals(row.succeeded, row.number);
    }
  } finally {
    await mock.close();
  }
});

Deno.test("repeat --compat 2026 e2e: each repeat is an evalscope 2026 run folder its readers load", async () => {
  // evalscope has no --repeat; its layout (the reference's §4) is <outputs>/<ts>/<name>/
  // parallel_P_number_N/ per run. Each repeat is the run an evalscope named <name>_repeat_<k>
  // would write at that timestamp; the reader written from the reference finds every one.
  const mock = startMockServer({ port: 0, ttftMs: 2, itlMs: 1, outputTokens: 4 });
  try {
    await using r = await perfRun({
      server: mock,
      flags: { number: 4, parallel: 2, repeat: 2, sleepInterval: 0, name: "rep" },
      args: ["--compat", "2026"],
    });
    assertEquals(r.code, 0, r.stderr);
    const ts = r.dir; // <outputs>/<YYYYmmdd_HHMMSS>
    assert(/\/\d{8}_\d{6}$/.test(ts), ts);
    const names = [...Deno.readDirSync(ts)].map((e) => e.name).sort();
    assertEquals(names, ["rep", "rep_repeat_1", "rep_repeat_2"]);
    for (const k of [1, 2]) {
      const run = [...Deno.readDirSync(`${ts}/rep_repeat_${k}`)].map((e) => e.name).sort();
      assertEquals(run, ["parallel_2_number_4", "performance_summary.txt"]);
    }
    const py = await new Deno.Command("python3", {
      args: [new URL("./helpers/evalscope2026_reader.py", import.meta.url).pathname, r.outputs],
      stdout: "piped",
    }).output();
    const read = JSON.parse(new TextDecoder().decode(py.stdout).replaceAll(/\bNaN\b/g, "null"));
    assertEquals(
      read.runs.map((x: { folder: string }) => x.folder),
      [1, 2].map((k) => `${ts}/rep_repeat_${k}/parallel_2_number_4`),
    );
    for (const run of read.runs) {
      assertEquals(run.summary["Total Requests"], 4);
      assertEquals(run.written_summary["Total Requests"], 4);
    }
    // The repeat folder beside them: its summary names each run's folder, relative to it.
    const summary = await readJson<RepeatSummary>(`${ts}/rep/repeat_summary.json`);
    assertEquals(summary.repeats, 2);
    assertEquals(
      summary.runs.map((x) => x.folder),
      [1, 2].map((k) => `../rep_repeat_${k}/parallel_2_number_4`),
    );
    assertEquals([...Deno.readDirSync(`${ts}/rep`)].map((e) => e.name).sort(), [
      "repeat_args.json",
      "repeat_summary.json",
      "report.html",
    ]);
  } finally {
    await mock.close();
  }
});
