/**
 * Arrival shapes (`src/load/arrivals.ts`): gamma gaps of `--burstiness B` checked against the
 * gamma distribution's own moments over many samples (mean gap 1/rate, coefficient of variation
 * 1/√B), with tolerances from the sampling distribution of those statistics; constant gaps and
 * ramps against their closed forms; shards as the thinned global schedule; and end to end, the
 * send times a stub server saw against those closed forms.
 */
import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import { poissonOffsetsMs } from "./helpers/poisson.ts";
import { chatStub } from "./helpers/chat_stub.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { assertOnSchedule } from "./helpers/on_schedule.ts";
import {
  arrivalOffsets,
  type ArrivalShape,
  arrivalShape,
  scheduleStats,
} from "../src/load/arrivals.ts";
import { gamma, seededRandom } from "../src/util/rng.ts";
import { resolveConfig } from "../src/config.ts";

function take(n: number, it: Iterator<number>): number[] {
  return Array.from({ length: n }, () => it.next().value as number);
}

/** Sample mean and sample coefficient of variation of the gaps of `offsets`. */
function gapMoments(offsets: number[]): { mean: number; cv: number } {
  const gaps = offsets.slice(1).map((t, i) => t - offsets[i]);
  const mean = gaps.reduce((s, g) => s + g, 0) / gaps.length;
  const v = gaps.reduce((s, g) => s + (g - mean) ** 2, 0) / (gaps.length - 1);
  return { mean, cv: Math.sqrt(v) / mean };
}

Deno.test("arrivals: gamma gaps of burstiness B have mean 1/rate and CV 1/sqrt(B)", () => {
  const rate = 50, n = 40_000; // gaps
  for (const b of [0.25, 0.5, 1, 2, 4, 16]) {
    for (const seed of [1, 99]) {
      const offsets = take(n + 1, arrivalOffsets(rate, seed, undefined, { burstiness: b }));
      const { mean, cv } = gapMoments(offsets);
      // Gamma(shape B, scale 1/(B·rate)): mean 1/rate, sd 1/(rate·√B). The sample mean's standard
      // error is sd/√n; the sample CV's, by the delta method over the gamma's third and fourth
      // moments (skewness 2/√B, excess kurtosis 6/B), is √((1 + B)/(2n)) / B. Five of each.
      const meanSe = 1000 / rate / Math.sqrt(b) / Math.sqrt(n);
      const cvSe = Math.sqrt((1 + b) / (2 * n)) / b;
      assertAlmostEquals(mean, 1000 / rate, 5 * meanSe, `B ${b} seed ${seed}: mean gap (ms)`);
      assertAlmostEquals(cv, 1 / Math.sqrt(b), 5 * cvSe, `B ${b} seed ${seed}: CV`);
      // What the run prints is the same statistic.
      const s = scheduleStats(offsets);
      assertAlmostEquals(s.gapCv, cv, 1e-9);
      assertAlmostEquals(s.meanRate, 1000 / mean, 1e-9);
    }
  }
});

Deno.test("arrivals: the gamma sampler's variance is its shape (scale 1)", () => {
  for (const shape of [0.3, 1.7, 9]) {
    const random = seededRandom(5);
    const n = 50_000;
    const xs = Array.from({ length: n }, () => gamma(random, shape));
    const mean = xs.reduce((s, x) => s + x, 0) / n;
    const v = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
    assertAlmostEquals(mean, shape, 5 * Math.sqrt(shape / n), `shape ${shape}: mean`);
    // Var(s²) ≈ (μ4 − σ⁴)/n with μ4 = 3σ⁴(1 + 2/k): σ⁴(2 + 6/k)/n.
    assertAlmostEquals(v, shape, 5 * shape * Math.sqrt((2 + 6 / shape) / n), `shape ${shape}: var`);
    assert(xs.every((x) => x >= 0));
  }
});

Deno.test("arrivals: burstiness 1 is the Poisson schedule of before, offset for offset", () => {
  const got = take(300, arrivalOffsets(40, 11, undefined, { burstiness: 1 }));
  const want = poissonOffsetsMs(40, 11, 300);
  got.forEach((t, i) => assertAlmostEquals(t, want[i], 1e-9 * (1 + want[i])));
  assertEquals(arrivalShape({ burstiness: 1 }), undefined, "no shape: the plain schedule");
});

Deno.test("arrivals: burstiness inf gives constant gaps of 1/rate", () => {
  const got = take(50, arrivalOffsets(8, 3, undefined, { burstiness: Infinity }));
  got.forEach((t, i) => assertAlmostEquals(t, i * 125, 1e-9 * (1 + t)));
  assertEquals(scheduleStats(got).gapCv, 0);
  assertEquals(arrivalShape({ burstiness: "inf" })?.burstiness, Infinity);
});

/** The ramp's send times by vLLM's formula: the gap before request k is 1/rate_k. */
function rampTimes(kind: "linear" | "exponential", s: number, e: number, n: number): number[] {
  const out = [0];
  for (let k = 1; k < n; k++) {
    const p = k / (n - 1);
    const r = kind === "linear" ? s + (e - s) * p : s * Math.pow(e / s, p);
    out.push(out[k - 1] + 1000 / r);
  }
  return out;
}

Deno.test("arrivals: linear and exponential ramps move the rate from start to end", () => {
  for (const strategy of ["linear", "exponential"] as const) {
    const shape: ArrivalShape = {
      burstiness: Infinity,
      rampUp: { strategy, startRps: 2, endRps: 50, total: 30 },
    };
    const got = take(30, arrivalOffsets(-1, 1, undefined, shape));
    const want = rampTimes(strategy, 2, 50, 30);
    got.forEach((t, i) => assertAlmostEquals(t, want[i], 1e-6, `${strategy} #${i}`));
  }
  // With gamma gaps the ramp holds on average: the last tenth of 20,000 requests, all at about
  // the end rate, has mean gap about 1/end.
  const n = 20_000;
  const shape: ArrivalShape = {
    burstiness: 0.5,
    rampUp: { strategy: "linear", startRps: 10, endRps: 100, total: n },
  };
  const got = take(n, arrivalOffsets(-1, 4, undefined, shape));
  const tail = got.slice(n - 2000);
  const meanGap = (tail[tail.length - 1] - tail[0]) / (tail.length - 1);
  // Rates over the tail run 95.5 → 100: mean gap ≈ 1/97.7 s; sd of the mean ≈ 1.41·10.2/√2000.
  assertAlmostEquals(meanGap, 1000 / 97.7, 5 * 1.414 * 10.2 / Math.sqrt(2000), "tail mean gap");
});

Deno.test("arrivals: a shard gets the shaped global schedule thinned", () => {
  const shape: ArrivalShape = { burstiness: 0.3 };
  const global = take(300, arrivalOffsets(30, 5, undefined, shape));
  const shard = take(100, arrivalOffsets(30, 5, { index: 2, count: 3 }, shape));
  assertEquals(shard, global.filter((_, i) => i % 3 === 2));
});

Deno.test("arrivals: settings are checked with one-line errors", () => {
  const base = { model: "m" };
  assertEquals(resolveConfig({ ...base, burstiness: "inf" }).burstiness, "inf");
  assertEquals(resolveConfig({ ...base, burstiness: 0.5 }).burstiness, 0.5);
  const problem = (input: Record<string, unknown>) => {
    try {
      resolveConfig({ ...base, ...input });
      return "";
    } catch (e) {
      return (e as Error).message;
    }
  };
  assert(/burstiness.*greater than 0/.test(problem({ burstiness: 0 })), problem({ burstiness: 0 }));
  assert(
    /--number/.test(problem({ rampUpStrategy: "linear", rampUpStartRps: 1, rampUpEndRps: 5 })),
  );
  assert(/start-rps/.test(problem({ rampUpStrategy: "linear", number: 5 })));
  assert(/ramp-up-strategy/.test(problem({ rampUpStartRps: 1, rampUpEndRps: 2, number: 5 })));
  assert(
    /above 0/.test(
      problem({ rampUpStrategy: "exponential", rampUpStartRps: 0, rampUpEndRps: 2, number: 5 }),
    ),
  );
});

Deno.test("arrivals e2e: constant rate and a linear ramp reach the server on their schedule", async () => {
  const stub = chatStub();
  try {
    // --burstiness inf: 12 requests 100 ms apart.
    {
      await using r = await perfRun({
        server: stub,
        flags: { number: 12, parallel: 12, rate: 10, noTestConnection: true },
        args: ["--burstiness", "inf"],
      });
      assertEquals(r.code, 0, r.stderr);
      assert(/arrival schedule: constant gaps; 12 requests over 1\.10 s/.test(r.stderr), r.stderr);
      assert(/CV of the gaps 0\.00 \(expected 0\.00\)/.test(r.stderr), r.stderr);
      const rows = r.sql<{ due: number; start: number }>(
        "SELECT scheduled_time AS due, start_time AS start FROM result ORDER BY request_id",
      );
      rows.forEach((row, i) => {
        assertAlmostEquals((row.due - rows[0].due) * 1000, i * 100, 0.01, `due ${i}`);
        assert(row.start >= row.due, `request ${i} sent early`);
      });
      // Each arrival at the server when due, never before (100 ms apart: they arrive in order).
      assertOnSchedule(stub.requests.map((q) => q.at), rows.map((row) => row.due));
    }
    stub.requests.length = 0;
    // A linear ramp from 4 to 20 req/s over 10 requests, without --rate.
    {
      await using r = await perfRun({
        server: stub,
        flags: { number: 10, parallel: 10, noTestConnection: true },
        args: [
          "--burstiness",
          "inf",
          "--ramp-up-strategy",
          "linear",
          "--ramp-up-start-rps",
          "4",
          "--ramp-up-end-rps",
          "20",
        ],
      });
      assertEquals(r.code, 0, r.stderr);
      const want = rampTimes("linear", 4, 20, 10);
      const due = r.sql<{ due: number }>(
        "SELECT scheduled_time AS due FROM result ORDER BY request_id",
      )
        .map((row) => row.due);
      due.forEach((d, i) =>
        assertAlmostEquals((d - due[0]) * 1000, want[i], 0.01, `ramp due ${i}`)
      );
      assertOnSchedule(stub.requests.map((q) => q.at), due);
    }
  } finally {
    await stub.close();
  }
});
