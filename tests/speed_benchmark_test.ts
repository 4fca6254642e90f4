/**
 * The `speed_benchmark` dataset's result: evalscope's "Speed Benchmark Results" table (tabulate's
 * `pretty` format, as in evalscope's documentation), its rows, and a run with the real CLI.
 */
import { assert, assertEquals } from "./assert.ts";
import { perfRun } from "./helpers/perf_run.ts";
import {
  formatG,
  formatSpeedBenchmark,
  SpeedBenchmarkSink,
  type SpeedRow,
} from "../src/report/speed_benchmark.ts";
import type { FinishedRequest } from "../src/records/finished.ts";
import type { RequestMetrics } from "../src/metrics/request_metrics.ts";
import { startMockServer } from "../src/mock/server.ts";
import { mockTokenCount } from "../src/mock/generator.ts";

Deno.test("speed table: evalscope's documented output, character for character", () => {
  const rows: SpeedRow[] = [
    { "Prompt Tokens": 1, "Speed(tokens/s)": 50.69, "GPU Memory(GB)": 0.97 },
    { "Prompt Tokens": 6144, "Speed(tokens/s)": 51.36, "GPU Memory(GB)": 1.23 },
  ];
  assertEquals(
    formatSpeedBenchmark(rows),
    [
      "Speed Benchmark Results:",
      "+---------------+-----------------+----------------+",
      "| Prompt Tokens | Speed(tokens/s) | GPU Memory(GB) |",
      "+---------------+-----------------+----------------+",
      "|       1       |      50.69      |      0.97      |",
      "|     6144      |      51.36      |      1.23      |",
      "+---------------+-----------------+----------------+",
    ].join("\n"),
  );
  // Python's format(x, "g"): 6 significant digits, exponent past 1e6.
  assertEquals([0, 12345.67, 1234567, 0.00001234, 100].map(formatG), [
    "0",
    "12345.7",
    "1.23457e+06",
    "1.234e-05",
    "100",
  ]);
});

function finished(promptTokens: number, completionTokens: number, latency: number, success = true) {
  const metrics = { success, latencyS: latency, promptTokens, completionTokens } as RequestMetrics;
  return { metrics } as FinishedRequest;
}

Deno.test("speed table: mean tokens/s per prompt length, successful requests only", () => {
  const sink = new SpeedBenchmarkSink();
  sink.write([finished(6144, 100, 2), finished(1, 100, 1), finished(6144, 100, 4)]);
  sink.write([finished(1, 100, 0.5), finished(1, 999, 1, false), finished(7, 10, 0)]);
  assertEquals(sink.rows(), [
    { "Prompt Tokens": 1, "Speed(tokens/s)": 150, "GPU Memory(GB)": 0 },
    { "Prompt Tokens": 6144, "Speed(tokens/s)": 37.5, "GPU Memory(GB)": 0 },
  ]);
});

Deno.test("e2e: --dataset speed_benchmark prints the speed table and writes speed_benchmark.json", async () => {
  const mock = startMockServer({ port: 0, outputTokens: 4, ttftMs: 5, itlMs: 1 });
  try {
    await using r = await perfRun({
      server: mock,
      path: "/v1/completions",
      // --max-prompt-length does not filter: the speed test's lengths are fixed
      flags: { dataset: "speed_benchmark", maxPromptLength: 10 },
    });
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.summary["Succeed requests"], 8);
    const rows = JSON.parse(await r.text("speed_benchmark.json")) as SpeedRow[];
    const lengths = [1, 6144, 14336, 30720].map((n) => mockTokenCount("熵".repeat(n)));
    assertEquals(rows.map((row) => row["Prompt Tokens"]), lengths);
    assert(rows.every((row) => row["Speed(tokens/s)"] > 0 && row["GPU Memory(GB)"] === 0));
    const out = r.stdout;
    const at = out.indexOf("Speed Benchmark Results:");
    assert(at >= 0, out);
    const table = out.slice(at).split("\n").slice(1, 9);
    assertEquals(table[1], "| Prompt Tokens | Speed(tokens/s) | GPU Memory(GB) |");
    assertEquals(table.slice(3, 7).map((l) => Number(l.split("|")[1].trim())), lengths);
  } finally {
    await mock.close();
  }
});
