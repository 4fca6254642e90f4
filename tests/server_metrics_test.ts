/**
 * Server metrics end to end against the mock's `/metrics` (vLLM's names, from its real state):
 * the server's TTFT from its histogram is the mock's configured TTFT (the pacer is never early,
 * and late by a bound that holds on a loaded machine), its peak of running requests is
 * `--parallel`, it observed exactly the run's requests (the start-up check came before the first
 * scrape), the prefix cache reports what a repeated prompt must hit, the series are in the DB,
 * the report draws them, and `llmperf report` recomputes the same server rows from the DB. A
 * missing endpoint is one info line; `--no-server-metrics` turns it off.
 */
import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import { runCli } from "./helpers/cli.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { startMockServer } from "../src/mock/server.ts";

const TTFT_MS = 100;

Deno.test("server metrics e2e: TTFT, running peak and request count read from the mock", async () => {
  const mock = startMockServer({ port: 0, ttftMs: TTFT_MS, itlMs: 5, outputTokens: 8 });
  try {
    // 160 requests, 8 at a time, ~135 ms each: ~2.7 s, so the scrapes at 1 s and 2 s land mid-load.
    await using r = await perfRun({
      server: mock,
      telemetry: true,
      flags: { number: 160, parallel: 8, stream: true, noGpuTelemetry: true },
    });
    assertEquals(r.code, 0, r.stderr);
    assert(r.stderr.includes(`server metrics: scraping ${mock.url}/metrics once a second`));
    const s = r.summary;
    assertEquals(s["Server requests observed"], 160, "exactly the run's, not the start-up check");
    const serverMean = s["Server mean TTFT (ms)"] as number;
    assert(serverMean >= TTFT_MS - 0.5 && serverMean < TTFT_MS + 30, `server TTFT ${serverMean}`);
    assertEquals(s["Server peak running requests"], 8, "--parallel 8 kept 8 running");
    assertEquals(s["Server peak waiting requests"], 0);
    // The client sees the first token after the server wrote it: the difference is >= 0.
    const diff = s["TTFT client - server, mean (ms)"] as number;
    assertAlmostEquals(diff, (s["Mean TTFT (ms)"] as number) - serverMean, 1e-9);
    assert(diff > -1 && diff < 50, `client - server ${diff} ms`);
    // Buckets of 0.1 and 0.25 s: the median interpolated inside (0.1, 0.25].
    const p50 = s["Server p50 TTFT (ms)"] as number;
    assert(p50 > 100 && p50 <= 250, `p50 ${p50}`);
    assert(r.stdout.includes("Server metrics (/metrics, over the run):"), r.stdout);

    const times = r.sql<{ n: number }>("SELECT COUNT(DISTINCT time) AS n FROM server_metrics");
    assert(times[0].n >= 3, `${times[0].n} scrapes stored`);
    const last = r.sql<{ value: number }>(
      "SELECT value FROM server_metrics WHERE name = 'vllm:time_to_first_token_seconds_count' " +
        "ORDER BY time DESC LIMIT 1",
    );
    assertEquals(last[0].value, 161, "the mock's own count: the run's 160 and the start-up check");
    const names = r.sql<{ name: string }>("SELECT DISTINCT name FROM server_metrics");
    assert(names.some((n) => n.name === "vllm:num_requests_running"));
    assert(!names.some((n) => n.name.endsWith("_created")));

    const html = await r.text("report.html");
    assert(html.includes('id="chart-server-requests"') && html.includes('id="chart-server-cache"'));

    const again = await runCli(["report", r.dir, "--json"]);
    assertEquals(again.code, 0, again.stderr);
    const fromDb = JSON.parse(again.stdout).serverSummary;
    assertEquals(fromDb["Server requests observed"], 160);
    assertAlmostEquals(fromDb["Server mean TTFT (ms)"], serverMean, 1e-6);
    assertEquals(fromDb["Server peak running requests"], 8);
  } finally {
    await mock.close();
  }
});

Deno.test("server metrics: a repeated prompt of whole blocks hits all its blocks but the last", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 5, itlMs: 0, outputTokens: 4 });
  try {
    // 640 characters: 160 mock tokens, 10 blocks of 16; the start-up check cached them all, and
    // every request of the run finds 9 of them: the last block holds the prompt's last token, which
    // the server always computes (as vLLM's cache: at most prompt − 1 tokens, in whole blocks).
    await using r = await perfRun({
      server: mock,
      telemetry: true,
      flags: { number: 20, parallel: 2, prompt: "abcdefgh".repeat(80), noGpuTelemetry: true },
    });
    assertEquals(r.code, 0, r.stderr);
    // Over the run (the start-up check is before it): 144 of 160 tokens, every request.
    assertEquals(r.summary["Server prefix-cache hit rate (%)"], 90);
  } finally {
    await mock.close();
  }
});

Deno.test("server metrics: a missing endpoint is one info line; --no-server-metrics is none", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 1, itlMs: 0, outputTokens: 4 });
  try {
    await using r = await perfRun({
      server: mock,
      telemetry: true,
      flags: { number: 3, serverMetrics: `${mock.url}/nope`, noGpuTelemetry: true },
    });
    assertEquals(r.code, 0, r.stderr);
    const lines = r.stderr.split("\n").filter((l) => l.includes("server metrics"));
    assertEquals(lines.length, 1, r.stderr);
    assert(lines[0].includes(`server metrics: none at ${mock.url}/nope (HTTP 404)`), lines[0]);
    assertEquals(r.summary["Server mean TTFT (ms)"], undefined);
    assert(!r.stdout.includes("Server metrics ("), r.stdout);

    await using off = await perfRun({
      server: mock,
      telemetry: true,
      flags: { number: 3, noServerMetrics: true, noGpuTelemetry: true },
    });
    assertEquals(off.code, 0, off.stderr);
    assert(!off.stderr.includes("server metrics"), off.stderr);
    assertEquals(off.summary["Server requests observed"], undefined);
  } finally {
    await mock.close();
  }
});
