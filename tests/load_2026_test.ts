/**
 * evalscope 2026's load flags end to end against the mock (its own request count is the ground
 * truth): `--warmup-num` requests are sent on top of `--number` and are in no count and not in
 * the result DB; `--duration` stops sending (requests in flight finish and are recorded);
 * `--open-loop` sends on the absolute, rescaled schedule with no cap on requests in flight.
 * Also the pure parts: the warmup count rule and the open-loop schedule.
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { startMockServer } from "../src/mock/server.ts";
import { absoluteOffsets } from "../src/load/arrivals.ts";
import { runLoad } from "../src/load/runner.ts";
import { warmupCount } from "../src/config/warmup.ts";
import { UsageError } from "../src/errors.ts";
import { chatStub, firstContent } from "./helpers/chat_stub.ts";
import { seededRandom } from "../src/util/rng.ts";
import { DatabaseSync } from "node:sqlite";

Deno.test("warmup count: 0 none, a count floored, a ratio of --number (at least 1)", () => {
  // The rule of the reference sheet (arguments.py:107-127), case by case.
  assertEquals(warmupCount(0, 100), 0);
  assertEquals(warmupCount(1, 100), 1);
  assertEquals(warmupCount(2.9, 100), 2);
  assertEquals(warmupCount(0.1, 40), 4);
  assertEquals(warmupCount(0.01, 40), 1); // int(0.4) = 0, raised to 1
  assertThrows(() => warmupCount(0.5, undefined), UsageError, "needs --number");
});

Deno.test("open-loop schedule: rescaled so request n is due at n/rate s; first at the first gap", () => {
  const t = [...absoluteOffsets(4, 20, 7)];
  assertEquals(t.length, 20);
  assert(Math.abs(t[19] - 5000) < 1e-6, `last at ${t[19]} ms, not 20/4 s`);
  assert(t[0] > 0, "the first request waits for the first gap");
  for (let i = 1; i < t.length; i++) assert(t[i] >= t[i - 1], "offsets ascend");
  // The same seed gives the same schedule; a shard gets every N-th offset of it.
  assertEquals([...absoluteOffsets(4, 20, 7)], t);
  assertEquals([...absoluteOffsets(4, 20, 7, { index: 1, count: 2 })], t.filter((_, i) => i % 2));
});

Deno.test("--warmup-num e2e: sent on top of --number, in no count and not in the DB", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 2, itlMs: 1, outputTokens: 4 });
  try {
    await using r = await perfRun({
      server: mock,
      flags: { number: 6, parallel: 2, noTestConnection: true },
      args: ["--warmup-num", "3"],
    });
    assertEquals(r.code, 0, r.stderr);
    assertEquals(mock.stats.requests, 9, "the mock saw warmup + number requests");
    assertEquals(r.summary["Total requests"], 6);
    assertEquals(r.summary["Succeed requests"], 6);
    const rows = r.sql<{ n: number }>("SELECT count(*) AS n FROM result");
    assertEquals(rows[0].n, 6);
    assert(r.stderr.includes("after 3 warmup requests"), r.stderr);

    // A ratio: 0.25 of --number 8 is 2 warmup requests.
    const before = mock.stats.requests;
    await using q = await perfRun({
      server: mock,
      flags: { number: 8, parallel: 4, noTestConnection: true },
      args: ["--warmup-num", "0.25"],
    });
    assertEquals(q.code, 0, q.stderr);
    assertEquals(mock.stats.requests - before, 10);
    assertEquals(q.summary["Total requests"], 8);
    assertEquals(q.sql<{ n: number }>("SELECT count(*) AS n FROM result")[0].n, 8);
  } finally {
    await mock.close();
  }
});

Deno.test("--duration e2e: stops sending, requests in flight finish and are recorded", async () => {
  // Each request takes ~300 ms (100 ms to the first token, 20 more at 10 ms); 2 in flight for
  // 1 s is ~6-8 requests, far below --number 1000.
  const mock = startMockServer({ port: 0, ttftMs: 100, itlMs: 10, outputTokens: 20 });
  try {
    await using r = await perfRun({
      server: mock,
      flags: { number: 1000, parallel: 2, stream: true, noTestConnection: true },
      args: ["--duration", "1"],
    });
    assertEquals(r.code, 0, r.stderr);
    const total = r.summary["Total requests"] as number;
    assert(total >= 2 && total < 100, `duration 1 s sent ${total}`);
    // Every request sent was recorded, and all of them succeeded: none was cut off.
    assertEquals(mock.stats.requests, total);
    assertEquals(r.summary["Succeed requests"], total);
    assertEquals(r.sql<{ n: number }>("SELECT count(*) AS n FROM result")[0].n, total);
    assert(r.seconds < 30, `took ${r.seconds} s`);
  } finally {
    await mock.close();
  }
});

Deno.test("--open-loop e2e: every request on the schedule, none held back by --parallel", async () => {
  // 12 requests at 20/s: the schedule ends at 0.6 s; each takes ~1 s, so all 12 are in flight
  // at once, far over --parallel 1 (which --open-loop ignores).
  const mock = startMockServer({ port: 0, ttftMs: 1000, itlMs: 1, outputTokens: 2 });
  try {
    await using r = await perfRun({
      server: mock,
      flags: { number: 12, parallel: 1, rate: 20, noTestConnection: true },
      args: ["--open-loop"],
    });
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.summary["Total requests"], 12);
    assertEquals(r.summary["Number of concurrency"], -1, "no cap, reported as evalscope does");
    assert(mock.stats.peakInFlight >= 10, `peak in flight ${mock.stats.peakInFlight}`);
    const starts = r.sql<{ s: number }>("SELECT start_time AS s FROM result ORDER BY s")
      .map((x) => x.s);
    const span = starts[starts.length - 1] - starts[0];
    // The last request is due at 0.6 s, the first at its first gap (> 0): the spread of sends
    // is below 0.6 s and, with 12 draws, well above 0.
    assert(span < 0.6 + 0.5 && span > 0.05, `sends spread over ${span} s`);
  } finally {
    await mock.close();
  }
});

Deno.test("--open-loop: needs --rate > 0 and --number (one-line errors, exit 2)", async () => {
  await using r = await perfRun({
    url: "http://127.0.0.1:9/v1/chat/completions",
    args: ["--open-loop", "-n", "3"],
  });
  assertEquals(r.code, 2, r.stderr);
  assert(r.stderr.includes("--open-loop: needs --rate greater than 0"), r.stderr);
});

Deno.test("--dataset-offset e2e: random starts that far into its stream; a sweep advances it", async () => {
  const stub = chatStub();
  const prompts = (from: number) => stub.requests.slice(from).map(firstContent);
  const flags = {
    prompt: null,
    dataset: "random",
    maxPromptLength: 40,
    minPromptLength: 20,
    noTestConnection: true,
  };
  try {
    await using a = await perfRun({ server: stub, flags: { ...flags, number: 5 } });
    assertEquals(a.code, 0, a.stderr);
    const stream = prompts(0);
    assertEquals(new Set(stream).size, 5, "five different prompts");
    await using b = await perfRun({
      server: stub,
      flags: { ...flags, number: 2 },
      args: ["--dataset-offset", "3"],
    });
    assertEquals(b.code, 0, b.stderr);
    assertEquals(prompts(5), stream.slice(3, 5));
    // A sweep: point 1 sends prompts 0-1, point 2 (offset 0 + 2) prompts 2-4.
    await using c = await perfRun({
      server: stub,
      flags: { ...flags, number: [2, 3], parallel: [1, 1], sleepInterval: 0 },
    });
    assertEquals(c.code, 0, c.stderr);
    assertEquals(prompts(7), stream);
  } finally {
    await stub.close();
  }
});

Deno.test("--no-timestamp: the default run folder is <model>_benchmark", async () => {
  const stub = chatStub();
  try {
    await using r = await perfRun({
      server: stub,
      flags: { model: "qwen", number: 1, noTestConnection: true },
      args: ["--no-timestamp"],
    });
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.entries, ["qwen_benchmark"]);
  } finally {
    await stub.close();
  }
});

Deno.test("--enable-progress-tracker e2e: progress.json says completed, every request counted", async () => {
  const stub = chatStub();
  try {
    await using r = await perfRun({
      server: stub,
      flags: { number: 7, parallel: 2, noTestConnection: true },
      args: ["--enable-progress-tracker", "--warmup-num", "2"],
    });
    assertEquals(r.code, 0, r.stderr);
    const p = JSON.parse(await r.text("progress.json"));
    assertEquals(
      { ...p, updated_at: typeof p.updated_at },
      {
        status: "completed",
        pipeline: "perf",
        total_count: 7,
        processed_count: 7, // warmup not counted
        percent: 100,
        updated_at: "string",
      },
    );
    assertEquals(stub.requests.length, 9);
    assert(!r.entries.includes("progress.json.tmp"));
  } finally {
    await stub.close();
  }
});

Deno.test("--db-commit-interval: small commits (0 means 1) keep every row", async () => {
  const stub = chatStub();
  try {
    for (const every of ["0", "3"]) {
      await using r = await perfRun({
        server: stub,
        flags: { number: 20, parallel: 4, noTestConnection: true },
        args: ["--db-commit-interval", every],
      });
      assertEquals(r.code, 0, r.stderr);
      assertEquals(r.sql<{ n: number }>("SELECT count(*) AS n FROM result")[0].n, 20);
    }
  } finally {
    await stub.close();
  }
});

/** `n` jobs. */
function jobs(n: number): () => Promise<number | undefined> {
  let i = 0;
  return () => Promise.resolve(i < n ? i++ : undefined);
}

Deno.test("runner: the rescaled schedule, capped (2026 closed loop with a rate) or not (--open-loop)", async () => {
  const schedule = [...absoluteOffsets(100, 20, 5)]; // 20 requests due over exactly 200 ms
  for (const uncapped of [false, true]) {
    let inFlight = 0, peak = 0;
    const due: number[] = [];
    const late: number[] = [];
    await runLoad(jobs(20), async (_j, at) => {
      due.push(at!);
      late.push(performance.now() - at!);
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, 60));
      inFlight--;
    }, { parallel: 2, rate: 100, seed: 5, rescaledCount: 20, uncapped });
    assertEquals(due.length, 20);
    // Due times are the schedule's, whatever the cap does to the sends.
    for (let i = 0; i < 20; i++) {
      assert(Math.abs(due[i] - due[0] - (schedule[i] - schedule[0])) < 1e-6, `job ${i} due`);
    }
    assert(late.every((l) => l > -1), "never sent before it is due");
    if (uncapped) assert(peak > 2, `--open-loop kept only ${peak} in flight`);
    else assertEquals(peak, 2, "capped by --parallel");
  }
});

Deno.test("runner: --duration's soft stop: no job starts after the deadline, started ones finish", async () => {
  const started: number[] = [];
  let finished = 0;
  const t0 = performance.now();
  await runLoad(jobs(1000), async () => {
    started.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 40));
    finished++;
  }, { parallel: 3, rate: -1, seed: 1, durationMs: 300, startMs: t0 });
  assert(started.length >= 3 && started.length < 1000, `${started.length} started`);
  assertEquals(finished, started.length, "every started job finished");
  // The last start is before the deadline (loose: a loaded machine fires timers late).
  assert(Math.max(...started) < 300 + 100, `a job started at ${Math.max(...started)} ms`);
});

Deno.test("runner: 2026's task cap: what was created before --duration's deadline is still sent", async () => {
  // --parallel 1, 3 created at most (m = 3), each job 300 ms, jobs 0-5 due by 65 ms: at the
  // deadline one is in flight and two wait for the slot; those two are sent after it, the one
  // waiting for the cap is not created. Without the cap nothing starts after the deadline.
  for (const taskCap of [3, undefined]) {
    const t0 = performance.now();
    const started: number[] = [];
    let finished = 0;
    await runLoad(jobs(100), async () => {
      started.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 300));
      finished++;
    }, {
      parallel: 1,
      rate: 100,
      seed: 3,
      rescaledCount: 100,
      taskCap,
      durationMs: 450,
      startMs: t0,
    });
    assertEquals(finished, started.length, "every started job finished");
    // Without the cap: job 0, then job 1 when the slot frees (~310 ms); the deadline ends the
    // wait of job 2. With it: jobs 2 and 3 were created, so they are sent after the deadline.
    assertEquals(started.length, taskCap === undefined ? 2 : 4, `started at ${started}`);
    if (taskCap !== undefined) {
      const after = started.filter((t) => t > 450).length;
      assert(after >= 1, `started at ${started.map(Math.round)}`);
    }
  }
});

/** evalscope 2026's schedule of `n` requests at `rate` for `seed`, in ms, from its definition. */
function rescaled(n: number, rate: number, seed: number): number[] {
  const random = seededRandom(seed); // the run's uniforms (tests/arrivals_test.ts checks them)
  const sums: number[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) sums.push(t += -Math.log(1 - random()) / rate);
  return sums.map((s) => (s * (n / rate) / t) * 1000); // the last at exactly n/rate s
}

/** The late-2024 Poisson schedule of `n` requests: the first at 0, then the same gaps unscaled. */
function poisson(n: number, rate: number, seed: number): number[] {
  const random = seededRandom(seed);
  const out: number[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    out.push(t * 1000);
    t += -Math.log(1 - random()) / rate;
  }
  return out;
}

/** Our own result DB under `dir` (`llmperf_data.db` in a 2026 run folder, else ours). */
function ownDb(dir: string): string | undefined {
  for (const e of Deno.readDirSync(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isFile && e.name === "llmperf_data.db") return path;
    if (e.isDirectory) {
      const inside = ownDb(path);
      if (inside !== undefined) return inside;
    }
  }
  try {
    return Deno.statSync(`${dir}/benchmark_data.db`).isFile
      ? `${dir}/benchmark_data.db`
      : undefined;
  } catch {
    return undefined;
  }
}

Deno.test("--compat 2026 e2e: a closed loop with --rate sends on the rescaled schedule; 2024 on Poisson", async () => {
  // 16 requests at 8/s (seed 42, as 2026 leaves --seed unset): the rescaled schedule and the
  // Poisson one differ by up to ~220 ms between requests here. The DB keeps when each request
  // was due (`scheduled_time`, on the schedule's own clock: exact whatever the load) and when it
  // was sent; the stub answers at once, so --parallel 2 holds none back.
  const n = 16, rate = 8;
  const stub = chatStub();
  try {
    for (const compat of ["2026", "2024"]) {
      await using r = await perfRun({
        server: stub,
        flags: { number: n, parallel: 2, rate, noTestConnection: true },
        args: ["--compat", compat],
      });
      assertEquals(r.code, 0, r.stderr);
      const db = new DatabaseSync(ownDb(r.dir)!, { readOnly: true });
      const rows = db.prepare(
        "SELECT scheduled_time AS due, start_time AS sent FROM result ORDER BY request_id",
      ).all() as { due: number; sent: number }[];
      db.close();
      assertEquals(rows.length, n);
      const want = compat === "2026" ? rescaled(n, rate, 42) : poisson(n, rate, 42);
      const other = compat === "2026" ? poisson(n, rate, 42) : rescaled(n, rate, 42);
      // Due times from the first request's, against the schedule's (epoch seconds keep ~µs).
      const due = rows.map((x) => (x.due - rows[0].due) * 1000);
      const off = (s: number[]) => Math.max(...due.map((d, i) => Math.abs(d - (s[i] - s[0]))));
      assert(off(want) < 1, `${compat}: due ${due.map(Math.round)}, want ${want.map(Math.round)}`);
      assert(off(other) > 50, `${compat}: the other schedule fits as well`);
      // Never sent before it was due; on a loaded machine late, but not by seconds.
      const late = rows.map((x) => (x.sent - x.due) * 1000).sort((a, b) => a - b);
      assert(late[0] > -5, `sent ${late[0]} ms before it was due`);
      const median = late[Math.floor(n / 2)];
      assert(median < 500, `the median send was ${median} ms late`);
      if (compat === "2026") {
        assert(r.stderr.includes("rescaled so the last request is due at 2 s"), r.stderr);
        // The first request waits for its first gap; the last is due at exactly n/rate.
        assert(want[0] > 0 && Math.abs(want[n - 1] - 2000) < 1e-6);
      }
    }
  } finally {
    await stub.close();
  }
});

Deno.test("--compat 2026 e2e: a closed-loop sweep uses the first --rate at every point; 2024 pairs them", async () => {
  const stub = chatStub();
  try {
    for (const compat of ["2026", "2024"]) {
      await using r = await perfRun({
        server: stub,
        flags: { number: [6, 6], parallel: [1, 2], rate: [4, 100], noTestConnection: true },
        args: ["--compat", compat, "--sleep-interval", "0"],
      });
      assertEquals(r.code, 0, r.stderr);
      const sweep = compat === "2026" ? `${r.dir}/${[...Deno.readDirSync(r.dir)][0].name}` : r.dir;
      const folders = compat === "2026"
        ? ["parallel_1_number_6", "parallel_2_number_6"]
        : ["parallel_1_number_6_rate_4", "parallel_2_number_6_rate_100"];
      const rates = folders.map((f) =>
        JSON.parse(Deno.readTextFileSync(`${sweep}/${f}/benchmark_args.json`)).rate
      );
      assertEquals(rates, compat === "2026" ? [4, 4] : [4, 100]);
      // Each point's requests were due over its schedule's span (the DB's scheduled_time): at
      // 4/s, 1.5 s less the first gap (2026) or five Poisson gaps (2024); at 100/s a few ms.
      const spans = folders.map((f) => {
        const db = new DatabaseSync(ownDb(`${sweep}/${f}`)!, { readOnly: true });
        const t = db.prepare("SELECT scheduled_time AS t FROM result ORDER BY t").all()
          .map((x) => (x as { t: number }).t);
        db.close();
        return (t[t.length - 1] - t[0]) * 1000;
      });
      const span = (s: number[]) => s[s.length - 1] - s[0];
      const want = compat === "2026"
        ? [span(rescaled(6, 4, 42)), span(rescaled(6, 4, 42))]
        : [span(poisson(6, 4, 42)), span(poisson(6, 100, 42))];
      for (let i = 0; i < 2; i++) {
        assert(Math.abs(spans[i] - want[i]) < 1, `${compat} point ${i + 1}: ${spans} vs ${want}`);
      }
      assert(want[0] > 500 && (compat === "2024" ? want[1] < 100 : true));
    }
  } finally {
    await stub.close();
  }
});
