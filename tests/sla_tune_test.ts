/**
 * SLA auto-tune (`--sla-auto-tune`), against today's evalscope (`sla/sla_run.py`, as
 * `shared/reference/evalscope-perf-2026.md` describes it): the `--sla-params` grammar, the
 * doubling-then-binary search in constraint and optimisation mode (the values tried, in order,
 * worked out by hand from the reference's algorithm), the pass test, and the CLI on a mock whose
 * latency grows with the requests in flight, where the answer is computed from the mock's knob.
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { readJson } from "./helpers/cli.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { chatStub, firstContent } from "./helpers/chat_stub.ts";
import { UsageError } from "../src/errors.ts";
import { parseSlaParams } from "../src/config/sla_params.ts";
import { MODERN_KEYS, SUMMARY_KEYS } from "../src/metrics/collector.ts";
import { startMockServer } from "../src/mock/server.ts";
import { averageRuns, type SlaAverage, successRate } from "../src/results/sla.ts";
import { pyRound, searchSla, slaGroups, slaNumber, slaStart } from "../src/run/sla_tune.ts";
import type { SlaSearch } from "../src/run/sla_tune.ts";

Deno.test("sla params: objects and lists, operators, max/min, normalised symbols", () => {
  assertEquals(parseSlaParams('{"p99_ttft": "<=500", "avg_tpot": "< 50"}'), [{
    text: "p99_ttft <=500, avg_tpot <50",
    criteria: [
      { kind: "bound", metric: "p99_ttft", op: "<=", threshold: 500 },
      { kind: "bound", metric: "avg_tpot", op: "<", threshold: 50 },
    ],
  }]);
  const list = parseSlaParams('[{"avg_ttft": "≤2"}, 7, {"rps": "≧ 1e1"}, {"tps": "max"}]');
  assertEquals(list.map((g) => g.criteria), [
    [{ kind: "bound", metric: "avg_ttft", op: "<=", threshold: 2 }],
    [{ kind: "bound", metric: "rps", op: ">=", threshold: 10 }],
    [{ kind: "optimise", metric: "tps", goal: "max" }],
  ]);
  assertEquals(parseSlaParams({ p50_tpot: "\u2006>=\u20063" })[0].criteria, [
    { kind: "bound", metric: "p50_tpot", op: ">=", threshold: 3 },
  ]);
  // An unknown metric is kept: its group fails when checked (not an error up front).
  assertEquals(parseSlaParams('{"p95_ttft": "<1"}')[0].criteria[0].kind, "bound");
  assertThrows(() => parseSlaParams('{"avg_ttft": "500"}'), UsageError, "avg_ttft: '500'");
  assertThrows(() => parseSlaParams('{"avg_ttft": "<=x"}'), UsageError, "expected <=N");
  assertThrows(() => parseSlaParams("{nope"), UsageError, "--sla-params: not valid JSON");
  assertThrows(() => parseSlaParams("[1, 2]"), UsageError, "expected a JSON object");
});

Deno.test("sla: start clamped and truncated; requests per run max(1, round(v × m))", () => {
  assertEquals(slaStart(0.5, 1, 64), 1);
  assertEquals(slaStart(7.9, 1, 64), 7);
  assertEquals(slaStart(100, 1, 64), 64);
  assertEquals(slaStart(-1, 1, 64), 1); // --rate -1 (the default) starts at the lower bound
  assertEquals(slaNumber(5), 10);
  assertEquals(slaNumber(5, 0.5), 2); // round(2.5) is 2 in Python (halves to even)
  assertEquals(slaNumber(7, 0.5), 4); // round(3.5) is 4
  assertEquals(slaNumber(1, 0.1), 1);
  assertEquals([0.5, 1.5, 2.5, -0.5, 2.4].map(pyRound), [0, 2, 2, -0, 2]);
});

/** An average whose every request succeeded, with one metric set. */
function avg(rps: number, ok = 10, total = 10): SlaAverage {
  return {
    summary: { [SUMMARY_KEYS.total]: total, [SUMMARY_KEYS.succeed]: ok },
    requestSummary: { [MODERN_KEYS.requestThroughput]: rps },
    requestPercentiles: [],
    runs: 1,
  };
}

function search(upper = 65536, lower = 1): SlaSearch & { lines: string[] } {
  const lines: string[] = [];
  return { variable: "parallel", lower, upper, start: 1, log: (l) => lines.push(l), lines };
}

Deno.test("sla search, constraint mode: doubling, then binary search (the values in order)", async () => {
  // rps is the value itself; the criterion rps <= 5 holds up to 5.
  const groups = slaGroups('{"rps": "<=5"}', undefined);
  const tried: number[] = [];
  const evaluate = (v: number) => {
    tried.push(v);
    return Promise.resolve(avg(v));
  };
  // From 1: doubles 1, 2, 4 (pass), 8 (fails); upper 8 re-checked from the cache; binary search
  // over [5, 7]: mid 6 fails, mid 5 passes.
  let rows = await searchSla(groups, search(), evaluate);
  assertEquals(tried, [1, 2, 4, 8, 6, 5]);
  assertEquals(rows, [{
    Criteria: "rps <=5",
    Variable: "parallel",
    "Max Satisfied": 5,
    Note: "Satisfied",
  }]);
  // From 16 (fails): halves 8 (fails), 4 (passes); binary search over [5, 7].
  tried.length = 0;
  rows = await searchSla(groups, { ...search(), start: 16 }, evaluate);
  assertEquals(tried, [16, 8, 4, 6, 5]);
  assertEquals(rows[0]["Max Satisfied"], 5);
  // Everything passes up to the upper bound 12: 1, 2, 4, 8, 12 (capped), and 12 is the answer.
  tried.length = 0;
  rows = await searchSla(slaGroups('{"rps": "<=100"}', undefined), search(12), evaluate);
  assertEquals(tried, [1, 2, 4, 8, 12]);
  assertEquals(rows[0]["Max Satisfied"], 12);
  // Nothing passes: halving down to the lower bound, then None.
  tried.length = 0;
  rows = await searchSla(
    slaGroups('{"rps": "<=0"}', undefined),
    { ...search(), start: 5 },
    evaluate,
  );
  assertEquals(tried, [5, 2, 1]);
  assertEquals(rows, [{
    Criteria: "rps <=0",
    Variable: "parallel",
    "Max Satisfied": "None",
    Note: "Failed at lower bound (1)",
  }]);
  // Two groups: each searched on its own (values shared through the cache), one row each.
  tried.length = 0;
  rows = await searchSla(parseSlaParamsGroups(), search(), evaluate);
  assertEquals(rows.map((r) => r["Max Satisfied"]), [5, 3]);
  assertEquals(tried, [1, 2, 4, 8, 6, 5, 3]);
});

function parseSlaParamsGroups() {
  return slaGroups('[{"rps": "<=5"}, {"rps": "<4"}]', undefined);
}

Deno.test("sla search, optimisation mode: doubling while it improves, then binary search", async () => {
  // tps = -(v - 6)²: best at 6.
  const tried: number[] = [];
  const evaluate = (v: number) => {
    tried.push(v);
    const a = avg(0);
    a.requestSummary[MODERN_KEYS.outputThroughput] = -((v - 6) ** 2);
    return Promise.resolve(a);
  };
  const rows = await searchSla(slaGroups('{"tps": "max"}', undefined), search(), evaluate);
  // 1, 2, 4 improve; 8 (-4, not better than -4 at 4) stops: binary search in (4, 8): 6 better,
  // 7 not.
  assertEquals(tried, [1, 2, 4, 8, 6, 7]);
  assertEquals(rows, [{
    Criteria: "tps -> max",
    Variable: "parallel",
    "Max Satisfied": 6,
    Note: "Best tps: 0.0000",
  }]);
});

Deno.test("sla pass test: the averaged success rate must be 100%, rounded as evalscope", async () => {
  assertEquals(successRate(avg(1, 999, 1000)), 99.9);
  assertEquals(successRate(avg(1, 9999, 10000)), 100); // round(99.99, 1) = 100.0
  assertEquals(successRate(avg(1, 0, 0)), 0);
  const s = search();
  const rows = await searchSla(
    slaGroups('{"rps": "<=5"}', undefined),
    s,
    (v) => Promise.resolve(avg(v, v === 2 ? 9 : 10)),
  );
  assertEquals(rows[0]["Max Satisfied"], 1); // 2 fails on its success rate: [2, 1] never passes
  assert(s.lines.some((l) => l.includes("[parallel=2] SLA Check: Success Rate = 90.00%")));
  assert(
    s.lines.some((l) => l === "[parallel=1] SLA Rule 1 Check: rps = 1 | Expect <= 5 | PASSED"),
  );
});

Deno.test("sla: runs averaged metric by metric and percentile cell by cell", () => {
  const a = averageRuns([
    {
      summary: { [SUMMARY_KEYS.total]: 4, x: "a" },
      requestSummary: { [MODERN_KEYS.meanTtft]: 10 },
      requestPercentiles: [{ Percentile: "99%", "TTFT (ms)": 100 }],
    },
    {
      summary: { [SUMMARY_KEYS.total]: 6, x: "b" },
      requestSummary: { [MODERN_KEYS.meanTtft]: 30 },
      requestPercentiles: [{ Percentile: "99%", "TTFT (ms)": 200 }],
    },
  ]);
  assertEquals(a.summary, { [SUMMARY_KEYS.total]: 5, x: "a" });
  assertEquals(a.requestSummary[MODERN_KEYS.meanTtft], 20);
  assertEquals(a.requestPercentiles, [{ Percentile: "99%", "TTFT (ms)": 150 }]);
});

// The mock's knob: each other request in flight adds K ms to a request's TTFT (and its gaps).
// With a base TTFT T0 long enough that a closed loop keeps all P requests in flight, a request
// that arrives as another leaves finds P − 1 others: the worst TTFT at --parallel P is
// T0 + K·(P − 1). The largest P with p99 TTFT < X is then ⌈(X − T0) / K⌉: with T0 200, K 200,
// X 700 it is 3 (600 ms; 4 gives 800 ms), 100 ms either side for the client's own overhead on a
// loaded machine.
const T0 = 200;
const K = 200;
const X = 700;
const EXPECTED = Math.ceil((X - T0) / K);
const MOCK = { port: 0, ttftMs: T0, itlMs: 0, latencyPerInflightMs: K, outputTokens: 2 };

Deno.test("sla CLI: finds the largest --parallel meeting p99_ttft on a mock whose latency grows", async () => {
  assertEquals(EXPECTED, 3);
  const mock = startMockServer(MOCK);
  try {
    await using r = await perfRun({
      server: mock,
      flags: { stream: true, name: "tune", sleepInterval: 0 },
      args: [
        "--sla-auto-tune",
        "--sla-params",
        JSON.stringify({ p99_ttft: `<${X}` }),
        "--sla-num-runs",
        "2",
        "--sla-upper-bound",
        "16",
      ],
      killAfterMs: 120_000,
    });
    assertEquals(r.code, 0, r.stderr);
    // 1, 2 pass; 4 fails; binary search over [3, 3]: 3 passes.
    assert(r.stdout.includes("SLA Auto-tune Summary:"), r.stdout);
    assert(/│ p99_ttft <700\s+│ parallel\s+│\s+3 │ Satisfied │/.test(r.stdout), r.stdout);
    const summary = await readJson<
      Record<string, { metrics: Record<string, number>; percentiles: Record<string, unknown[]> }>
    >(
      `${r.dir}/sla_summary.json`,
    );
    assertEquals(Object.keys(summary), ["parallel_1", "parallel_2", "parallel_4", "parallel_3"]);
    const p99 = (k: string) => {
      const p = summary[k].percentiles;
      return p["TTFT (ms)"][(p["Percentile"] as string[]).indexOf("99%")] as number;
    };
    // Ground truth from the knob: T0 + K·(P − 1), plus client overhead (a loaded CI machine adds 100 ms): below the next level.
    for (const [k, p] of [["parallel_3", 3], ["parallel_4", 4]] as const) {
      const want = T0 + K * (p - 1);
      assert(p99(k) >= want - 1 && p99(k) < want + K, `${k}: ${p99(k)} (want ${want})`);
    }
    // Each value: two runs of 2 × v requests, every one succeeded.
    assertEquals(summary["parallel_4"].metrics[SUMMARY_KEYS.total], 8);
    assertEquals(summary["parallel_4"].metrics[SUMMARY_KEYS.succeed], 8);
    const runs = [...Deno.readDirSync(`${r.dir}/sla_tuning`)].map((e) => e.name).sort();
    assertEquals(
      runs,
      [1, 2, 3, 4].flatMap((v) => [0, 1].map((i) => `sla_parallel_${v}_run_${i}`)),
    );
    const args = await readJson(`${r.dir}/sla_tuning/sla_parallel_3_run_1/benchmark_args.json`);
    assertEquals([args.parallel, args.number, args.rate], [3, 6, -1]);
  } finally {
    await mock.close();
  }
});

Deno.test("sla CLI: --slo goals are the criteria when --sla-params is absent; bad input exits 2", async () => {
  const mock = startMockServer(MOCK);
  try {
    await using r = await perfRun({
      server: mock,
      flags: { stream: true, sleepInterval: 0, slo: `ttft_p99<${X}ms`, json: true },
      args: ["--sla-auto-tune", "--sla-num-runs", "1", "--sla-upper-bound", "16"],
      killAfterMs: 120_000,
    });
    assertEquals(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assertEquals(out.tried, [1, 2, 4, 3]);
    assertEquals(out.rows[0]["Max Satisfied"], EXPECTED);
    assertEquals(out.rows[0].Criteria, `ttft_p99<${X}ms`);
    // Rate mode: --rate v at --sla-fixed-parallel in flight, 2 × v requests per run.
    await using rate = await perfRun({
      server: mock,
      flags: { stream: true, sleepInterval: 0, json: true },
      args: [
        "--sla-auto-tune",
        "--sla-variable",
        "rate",
        "--sla-params",
        '{"avg_ttft": ">=0"}',
        "--sla-num-runs",
        "1",
        "--sla-upper-bound",
        "2",
        "--sla-fixed-parallel",
        "3",
      ],
      killAfterMs: 120_000,
    });
    assertEquals(rate.code, 0, rate.stderr);
    assertEquals(JSON.parse(rate.stdout).tried, [1, 2]);
    const ra = await readJson(`${rate.dir}/sla_tuning/sla_rate_2_run_0/benchmark_args.json`);
    assertEquals([ra.rate, ra.parallel, ra.number], [2, 3, 4]);
    await using bad = await perfRun({ server: mock, args: ["--sla-auto-tune"] });
    assertEquals(bad.code, 2);
    assert(bad.stderr.includes("needs the criteria: --sla-params (or --slo)"), bad.stderr);
    await using bad2 = await perfRun({ server: mock, args: ["--sla-params", '{"avg_ttft": "5"}'] });
    assertEquals(bad2.code, 2);
    assert(bad2.stderr.includes("avg_ttft: '5'"), bad2.stderr);
  } finally {
    await mock.close();
  }
});

Deno.test("sla CLI: --dataset-offset grows by each run's number, so every run sends new prompts", async () => {
  const stub = chatStub();
  const flags = {
    prompt: null,
    dataset: "random",
    maxPromptLength: 40,
    minPromptLength: 20,
    noTestConnection: true,
    sleepInterval: 0,
  };
  const sent = (from: number, to?: number) =>
    stub.requests.slice(from, to).map(firstContent)
      .sort();
  try {
    // The stream itself: 12 prompts from offset 0.
    await using plain = await perfRun({ server: stub, flags: { ...flags, number: 12 } });
    assertEquals(plain.code, 0, plain.stderr);
    const stream = stub.requests.map(firstContent);
    assertEquals(new Set(stream).size, 12);
    // Tried 1 then 2 (the upper bound), 2 runs each of 2·v requests: offsets 0, 2, 4, 8.
    await using r = await perfRun({
      server: stub,
      flags: { ...flags, json: true },
      args: [
        "--sla-auto-tune",
        "--sla-params",
        '{"avg_latency": "<=100"}',
        "--sla-num-runs",
        "2",
        "--sla-upper-bound",
        "2",
      ],
      killAfterMs: 120_000,
    });
    assertEquals(r.code, 0, r.stderr);
    assertEquals(JSON.parse(r.stdout).tried, [1, 2]);
    const runs = [["1_run_0", 0, 2], ["1_run_1", 2, 4], ["2_run_0", 4, 8], ["2_run_1", 8, 12]];
    for (const [run, from, to] of runs as Array<[string, number, number]>) {
      const a = await readJson(`${r.dir}/sla_tuning/sla_parallel_${run}/benchmark_args.json`);
      assertEquals(a.dataset_offset, from, run);
      // The stub got each run's prompts in turn (a run's own may arrive in any order).
      assertEquals(sent(12 + from, 12 + to), stream.slice(from, to).sort(), run);
    }
    assertEquals(stub.requests.length, 24);
  } finally {
    await stub.close();
  }
});
