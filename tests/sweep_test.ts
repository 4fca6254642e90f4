/**
 * Sweeps: pairing and broadcasting of the swept flags, the CLI running each point in its own
 * subfolder with a comparison table and `sweep_summary.json`, the library's `runSweep`, and a
 * length mismatch as a one-line usage error.
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { readJson, tempDir } from "./helpers/cli.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { UsageError } from "../src/errors.ts";
import { silentLogger } from "../src/log.ts";
import { runSweep, sweepPoints } from "../src/run/sweep.ts";
import type { SweepRow } from "../src/results/sweep.ts";
import { startMockServer } from "../src/mock/server.ts";

Deno.test("sweep points: lists paired in order, one value broadcast, mismatch rejected", () => {
  assertEquals(sweepPoints({ parallel: [1, 8, 32], number: [10, 80, 320] }), [
    { label: "parallel_1_number_10", parallel: 1, number: 10 },
    { label: "parallel_8_number_80", parallel: 8, number: 80 },
    { label: "parallel_32_number_320", parallel: 32, number: 320 },
  ]);
  assertEquals(sweepPoints({ parallel: [4], number: [10, 20] }).map((p) => p.label), [
    "parallel_4_number_10",
    "parallel_4_number_20",
  ]);
  assertEquals(
    sweepPoints({ parallel: [16], rate: [1, 2.5], number: [50] }).map((p) => [p.rate, p.label]),
    [[1, "parallel_16_number_50_rate_1"], [2.5, "parallel_16_number_50_rate_2.5"]],
  );
  assertEquals(sweepPoints({}).map((p) => p.label), ["default"]);
  assertThrows(
    () => sweepPoints({ parallel: [1, 2, 3], number: [10, 20] }),
    UsageError,
    "--number has 2 values and --parallel 3: give swept flags the same number of values",
  );
});

Deno.test("sweep CLI: each point in its own subfolder, a comparison table and its JSON", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 10, itlMs: 2, outputTokens: 6 });
  try {
    await using r = await perfRun({
      server: mock,
      flags: {
        stream: true,
        parallel: [1, 4],
        number: [3, 12],
        name: "sw",
        slo: "ttft_p99<60s",
        sleepInterval: 0,
      },
    });
    assertEquals(r.code, 0, r.stderr);
    assert(r.stderr.includes("sweep point 1/2: parallel 1 number 3"), r.stderr);
    assert(r.stderr.includes("sweep point 2/2: parallel 4 number 12"), r.stderr);
    assert(r.stdout.includes("Sweep comparison:"), r.stdout);
    assert(/\|\s+1 \|\s+3 \| max/.test(r.stdout), r.stdout);
    assert(/\|\s+4 \|\s+12 \| max/.test(r.stdout), r.stdout);
    assertEquals(r.entries, ["sw"]);
    const dir = r.dir;
    const rows = await readJson<SweepRow[]>(`${dir}/sweep_summary.json`);
    assertEquals(rows.map((x) => [x.point, x.parallel, x.number, x.succeeded, x.failed]), [
      ["parallel_1_number_3", 1, 3, 3, 0],
      ["parallel_4_number_12", 4, 12, 12, 0],
    ]);
    for (const row of rows) {
      assert(row.outputThroughput! > 0 && row.ttftP99! >= row.ttftP50!, JSON.stringify(row));
      assertEquals(row.sloPassed, true);
      const summary = await readJson(`${dir}/${row.folder}/benchmark_summary.json`);
      assertEquals(summary["Total requests"], row.number);
      await Deno.stat(`${dir}/${row.folder}/report.html`);
    }
    const args = await readJson(`${dir}/sweep_args.json`);
    assertEquals([args.parallel, args.number], [[1, 4], [3, 12]]);
    const html = await Deno.readTextFile(`${dir}/report.html`);
    assert(html.includes('href="parallel_4_number_12/report.html"'));
  } finally {
    await mock.close();
  }
});

Deno.test("sweep CLI: --json prints the comparison; a failed SLO at any point exits 3", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 10, itlMs: 2, outputTokens: 4 });
  try {
    await using r = await perfRun({
      server: mock,
      flags: {
        rate: [200, 400],
        number: 6,
        slo: "latency_p99<0.001ms",
        json: true,
        sleepInterval: 0,
      },
    });
    assertEquals(r.code, 3, r.stderr);
    const out = JSON.parse(r.stdout);
    assertEquals(out.points.map((p: SweepRow) => [p.rate, p.number, p.sloPassed]), [
      [200, 6, false],
      [400, 6, false],
    ]);
  } finally {
    await mock.close();
  }
});

Deno.test("sweep CLI: lists of different lengths are one line and exit 2", async () => {
  await using r = await perfRun({
    url: "http://127.0.0.1:9/v1/chat/completions",
    flags: { prompt: null, parallel: [1, 2, 3], number: [5, 6], sleepInterval: 0 },
  });
  assertEquals(r.code, 2);
  assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert(r.stderr.includes("--number has 2 values and --parallel 3"), r.stderr);
});

Deno.test("runSweep: the library sweeps too", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 5, itlMs: 1, outputTokens: 4 });
  await using tmp = await tempDir();
  try {
    const s = await runSweep(
      {
        url: `${mock.url}/v1/chat/completions`,
        model: "m",
        prompt: "hi",
        stream: true,
        outputsDir: tmp.path,
        sleepInterval: 0,
      },
      { parallel: [1, 2], number: [2, 4] },
      { log: silentLogger, progress: "off" },
    );
    assertEquals(s.points.length, 2);
    assertEquals(s.points[1].result.summary["Total requests"], 4);
    assertEquals(s.rows.map((r) => r.parallel), [1, 2]);
    assert(!s.interrupted);
  } finally {
    await mock.close();
  }
});
