/**
 * `--slo`: the grammar (good and malformed goals), each goal's measured value against a run's
 * tables, goodput from per-request conditions, and the CLI's pass/fail lines and exit codes
 * (0 met, 3 missed, 2 malformed).
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { chatStub } from "./helpers/chat_stub.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { UsageError } from "../src/errors.ts";
import { startMockServer } from "../src/mock/server.ts";
import type { RequestMetrics } from "../src/metrics/request_metrics.ts";
import { evaluateSlo, GoodputCounter, meetsGoals, type SloInputs } from "../src/slo/evaluate.ts";
import { parseGoal, parseSlo } from "../src/config/slo_goals.ts";
import { formatSlo } from "../src/slo/format.ts";
import { resolveConfig } from "../src/config.ts";
import type { FinishedRequest } from "../src/records/finished.ts";

Deno.test("slo grammar: metrics, statistics, operators and units", () => {
  assertEquals(parseSlo("ttft_p99<500ms, tpot_mean<=50ms,error_rate<1%"), [
    { text: "ttft_p99<500ms", metric: "ttft", stat: "p99", op: "<", threshold: 500, unit: "ms" },
    { text: "tpot_mean<=50ms", metric: "tpot", stat: "mean", op: "<=", threshold: 50, unit: "ms" },
    {
      text: "error_rate<1%",
      metric: "error_rate",
      stat: undefined,
      op: "<",
      threshold: 1,
      unit: "%",
    },
  ]);
  assertEquals(parseGoal("e2e_p95 < 2.5 s").metric, "latency");
  assertEquals(parseGoal("latency_p50<2s").threshold, 2);
  assertEquals(parseGoal("itl_p90<30ms").stat, "p90");
  assertEquals(parseGoal("output_throughput>=1000").op, ">=");
  assertEquals(parseGoal("request_throughput>2.5").threshold, 2.5);
  assertEquals(parseGoal("error_rate<0.01").unit, "");
});

Deno.test("slo grammar: malformed goals are one-line usage errors naming the goal", () => {
  const cases: Array<[string, string]> = [
    ["ttft<500ms", "add a statistic"],
    ["ttft_p99<500", "add a unit"],
    ["ttft_p42<500ms", "unknown metric 'ttft_p42'"],
    ["speed_p99<5ms", "unknown metric"],
    ["error_rate_p99<1%", "takes no statistic"],
    ["error_rate<1ms", "takes % or a fraction"],
    ["output_throughput>5ms", "takes no unit"],
    ["ttft_p99=500ms", "expected metric_stat<value"],
    ["ttft_p99<abc", "expected metric_stat<value"],
  ];
  for (const [text, why] of cases) {
    const e = assertThrows(() => parseSlo(text), UsageError);
    assert(e.message.startsWith("--slo: "), e.message);
    assert(e.message.includes(why), `${text}: ${e.message}`);
    assert(!e.message.includes("\n"), "one line");
  }
  assertThrows(() => parseSlo(" "), UsageError, "--slo");
});

const INPUTS: SloInputs = {
  requestSummary: {
    "Benchmark duration (s)": 10,
    "Request throughput (req/s)": 9.5,
    "Output token throughput (tok/s)": 950,
    "Mean TTFT (ms)": 120,
    "Mean TPOT (ms)": 20,
    "Mean ITL (ms)": 19,
    "Mean E2E latency (s)": 2.1,
  },
  requestPercentiles: [
    { Percentile: "50%", "TTFT (ms)": 100, "TPOT (ms)": 18, "ITL (ms)": 17, "Latency (s)": 2 },
    { Percentile: "99%", "TTFT (ms)": 480, "TPOT (ms)": 40, "ITL (ms)": null, "Latency (s)": 3 },
  ],
  total: 100,
  failed: 5,
};

Deno.test("slo evaluation: each goal's measured value in its own unit, pass and fail", () => {
  const r = evaluateSlo(
    parseSlo(
      "ttft_p99<500ms,ttft_p99<0.4s,tpot_mean<50ms,latency_p50<=2s,error_rate<1%,error_rate<0.1," +
        "output_throughput>900,request_throughput>10,itl_p99<30ms",
    ),
    INPUTS,
    80,
  );
  assertEquals(r.goals.map((g) => [g.value, g.passed]), [
    [480, true],
    [0.48, false],
    [20, true],
    [2, true],
    [5, false],
    [0.05, true],
    [950, true],
    [9.5, false],
    [null, false], // no data fails the goal
  ]);
  assertEquals(r.passed, false);
  assertEquals(r.goodRequests, 80);
  assertEquals(r.goodput, 8);
  const text = formatSlo(r);
  assert(text.includes("| ttft_p99<500ms") && text.includes("| pass"), text);
  assert(text.includes("SLO: FAIL (4 of 9 goals failed)"), text);
  assert(text.includes("Goodput: 8 req/s (80 requests"), text);
  assert(evaluateSlo(parseSlo("ttft_mean<200ms"), INPUTS, 1).passed);
});

function metrics(over: Partial<RequestMetrics>): RequestMetrics {
  return ({
    index: 0,
    success: true,
    stream: true,
    startEpochS: 0,
    completedEpochS: 1,
    latencyS: 1,
    firstChunkLatencyS: 0.1,
    nChunks: 10,
    chunkTimeS: 0.9,
    ttftS: 0.1,
    tpotS: 0.02,
    itlS: [],
    promptTokens: 5,
    completionTokens: 10,
    tokenSource: "usage",
    status: 200,
    ...over,
  } satisfies RequestMetrics) as RequestMetrics;
}

Deno.test("goodput: per-request ttft, tpot and latency conditions; failures never count", () => {
  const goals = parseSlo("ttft_p99<200ms,tpot_mean<30ms,latency_p50<2s,error_rate<1%,itl_p99<1ms");
  assert(meetsGoals(metrics({}), goals), "meets all (itl and error_rate are not per request)");
  assert(!meetsGoals(metrics({ ttftS: 0.25 }), goals), "slow first token");
  assert(!meetsGoals(metrics({ tpotS: 0.031 }), goals), "slow tokens");
  assert(!meetsGoals(metrics({ latencyS: 2 }), goals), "2 s is not < 2 s");
  assert(meetsGoals(metrics({ tpotS: undefined }), goals), "one token: no TPOT to miss");
  assert(!meetsGoals(metrics({ success: false }), goals), "a failure never meets");
  const counter = new GoodputCounter(goals);
  const batch = [metrics({}), metrics({ ttftS: 1 }), metrics({})].map((m) =>
    ({ metrics: m }) as FinishedRequest
  );
  counter.write(batch);
  assertEquals(counter.good, 2);
});

/** 12 streamed requests, 3 at a time, under `--slo slo`; `await using` the result. */
function perf(url: string, slo: string, json = false) {
  return perfRun({
    url: `${url}/v1/chat/completions`,
    flags: { prompt: "hello there", number: 12, parallel: 3, stream: true, slo, json },
  });
}

Deno.test("slo CLI: pass prints each goal and exits 0; goodput is in the summary file", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 20, itlMs: 2, outputTokens: 8 });
  try {
    await using r = await perf(
      mock.url,
      "ttft_p99<30s,tpot_mean<10s,error_rate<1%,latency_p99<60s",
    );
    assertEquals(r.code, 0, r.stderr);
    assert(r.stdout.includes("SLO results:"), r.stdout);
    assert(/\| ttft_p99<30s +\| [0-9.]+s +\| pass/.test(r.stdout), r.stdout);
    assert(r.stdout.includes("SLO: PASS (4 goals met)"), r.stdout);
    const goodput = r.summary["Goodput (req/s)"] as number;
    const throughput = r.summary["Request throughput (req/s)"] as number;
    assert(goodput > 0 && Math.abs(goodput - throughput) < 1e-9, `${goodput} vs ${throughput}`);
    assertEquals(r.args.slo, "ttft_p99<30s,tpot_mean<10s,error_rate<1%,latency_p99<60s");
  } finally {
    await mock.close();
  }
});

Deno.test("slo CLI: a missed goal prints FAIL and exits 3; JSON output carries the check", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 20, itlMs: 2, outputTokens: 8 });
  try {
    await using r = await perf(mock.url, "ttft_p99<0.001ms,error_rate<1%");
    assertEquals(r.code, 3, r.stderr);
    assert(/\| ttft_p99<0\.001ms +\| [0-9.]+ms +\| FAIL/.test(r.stdout), r.stdout);
    assert(r.stdout.includes("SLO: FAIL (1 of 2 goals failed)"), r.stdout);
    assertEquals(r.summary["Goodput (req/s)"], 0);
    await using j = await perf(mock.url, "ttft_p99<0.001ms", true);
    assertEquals(j.code, 3, j.stderr);
    const out = JSON.parse(j.stdout);
    assertEquals(out.slo.passed, false);
    assertEquals(out.slo.goals[0].goal, "ttft_p99<0.001ms");
  } finally {
    await mock.close();
  }
});

Deno.test("slo CLI: a malformed --slo is one line and exit 2, before anything is sent", async () => {
  const server = chatStub(); // counts every request, a start-up check too
  try {
    await using r = await perf(server.url, "ttft<500ms");
    assertEquals(r.code, 2);
    assertEquals(r.stdout, "");
    assertEquals(
      r.stderr.trim(),
      "llmperf perf: error: --slo: 'ttft<500ms': add a statistic: ttft_mean, _p50, _p90, _p95 " +
        "or _p99",
    );
    assertEquals(server.requests.length, 0, "nothing was sent");
    assertEquals(r.entries, [], "no run folder");
  } finally {
    await server.close();
  }
});

Deno.test("slo: the goals of one --slo text are parsed once (validation and the run share them)", () => {
  const text = "ttft_p99<500ms,error_rate<1%";
  const a = parseSlo(text);
  resolveConfig({ model: "m", slo: text }); // validation asks for the same text
  assert(parseSlo(text) === a, "the same frozen list");
  assert(Object.isFrozen(a) && Object.isFrozen(a[0]));
  assertEquals(a.map((g) => g.metric), ["ttft", "error_rate"]);
});
