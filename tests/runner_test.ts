import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import { poissonOffsetsMs } from "./helpers/poisson.ts";
import { arrivalOffsets } from "../src/load/arrivals.ts";
import { type Follow, followHere, runLoad, type Span } from "../src/load/runner.ts";

function take(n: number, it: Iterator<number>): number[] {
  return Array.from({ length: n }, () => it.next().value as number);
}

Deno.test("arrivals: seeded Poisson schedule is reproducible, starts at 0, has mean gap 1/rate", () => {
  const a = take(20000, arrivalOffsets(50, 7));
  const b = take(20000, arrivalOffsets(50, 7));
  const c = take(20000, arrivalOffsets(50, 8));
  assertEquals(a, b);
  assert(a[5] !== c[5]);
  assertEquals(a[0], 0);
  const gaps = a.slice(1).map((t, i) => t - a[i]);
  const mean = gaps.reduce((s, g) => s + g, 0) / gaps.length;
  assertAlmostEquals(mean, 20, 0.5, "mean gap (ms)");
  // Exponential: the coefficient of variation is 1 and P(gap > mean) = e^-1.
  const sd = Math.sqrt(gaps.reduce((s, g) => s + (g - mean) ** 2, 0) / gaps.length);
  assertAlmostEquals(sd / mean, 1, 0.03, "coefficient of variation");
  assertAlmostEquals(gaps.filter((g) => g > mean).length / gaps.length, Math.exp(-1), 0.02);
});

Deno.test("arrivals: the schedule is the definition's (sfc32 uniforms, -ln(1-u)/rate gaps)", () => {
  for (const [rate, seed] of [[40, 11], [200, 3], [0.5, 0], [1000, 2 ** 31 + 5]]) {
    const got = take(500, arrivalOffsets(rate, seed));
    const want = poissonOffsetsMs(rate, seed, 500);
    for (let i = 0; i < 500; i++) {
      assertAlmostEquals(got[i], want[i], 1e-9 * (1 + want[i]), `rate ${rate} seed ${seed} #${i}`);
    }
  }
});

Deno.test("arrivals: --rate -1 sends everything at time 0", () => {
  assertEquals(take(5, arrivalOffsets(-1, 1)), [0, 0, 0, 0, 0]);
});

function jobs(n: number) {
  let i = 0;
  return () => Promise.resolve(i < n ? i++ : undefined);
}

Deno.test("runner: the closed loop keeps exactly --parallel in flight and runs every job once", async () => {
  let inFlight = 0, peak = 0;
  const done: number[] = [];
  const atStart: number[] = [];
  await runLoad(jobs(50), async (j) => {
    inFlight++;
    atStart.push(inFlight);
    peak = Math.max(peak, inFlight);
    await new Promise((r) => setTimeout(r, 2));
    inFlight--;
    done.push(j);
  }, { parallel: 7, rate: -1, seed: 1 });
  assertEquals(peak, 7);
  // Not just a peak: every job after the first 7 starts with the other 6 still in flight.
  assertEquals(atStart, Array.from({ length: 50 }, (_, i) => Math.min(i + 1, 7)));
  assertEquals(done.sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
});

Deno.test("runner: the open loop sends each job at its due time on the seeded schedule", async () => {
  // A cap far above what is in flight: nothing but the schedule decides when a job starts.
  const starts: Array<[number, number]> = [];
  const t0 = performance.now();
  await runLoad(jobs(30), async (_j, due) => {
    starts.push([performance.now(), due!]);
    await new Promise((r) => setTimeout(r, 5));
  }, { parallel: 100, rate: 200, seed: 3 });
  assertEquals(starts.length, 30);
  const offsets = poissonOffsetsMs(200, 3, 30);
  const origin = starts[0][1]; // the run's start, as the runner took it
  assertAlmostEquals(
    origin - t0,
    offsets[0],
    100,
    "the first job is due at the run's start (a loaded machine may start late)",
  );
  const late = starts.map(([t, due], i) => {
    assertAlmostEquals(due - origin, offsets[i], 1e-6, `job ${i} due at its offset`);
    return t - due;
  });
  assert(late.every((l) => l >= -1), `a job started early: ${late}`);
  // Generous bounds for a loaded machine (timers there are late by a few ms).
  assert(late.reduce((s, l) => s + l, 0) / late.length < 20, `mean lateness: ${late}`);
  assert(Math.max(...late) < 250, `max lateness: ${late}`);
});

Deno.test("runner: with --rate, --parallel caps in flight and delays what is over the cap", async () => {
  let inFlight = 0, peak = 0;
  const starts: Array<[number, number]> = [];
  const t0 = performance.now();
  await runLoad(jobs(30), async (_j, due) => {
    starts.push([performance.now(), due!]);
    inFlight++;
    peak = Math.max(peak, inFlight);
    await new Promise((r) => setTimeout(r, 50));
    inFlight--;
  }, { parallel: 3, rate: 200, seed: 3 });
  assertEquals(starts.length, 30);
  assertEquals(peak, 3);
  // With the cap, requests start at or after their due time, never before.
  for (const [t, due] of starts) assert(t >= due - 1, `started ${due - t} ms early`);
  // The schedule is still the seeded one: the cap moves starts, never due times.
  const offsets = poissonOffsetsMs(200, 3, 30);
  assertAlmostEquals(
    starts[0][1] - t0,
    offsets[0],
    100,
    "the run starts at once (loose: a loaded machine)",
  );
  for (let i = 0; i < 30; i++) {
    assertAlmostEquals(starts[i][1] - starts[0][1], offsets[i], 1e-6, `job ${i} due`);
  }
  // 30 jobs of 50 ms, 3 at a time, take ≥ 500 ms, far past the schedule's ~150 ms: the cap held
  // the last ones back.
  const [lastStart, lastDue] = starts[29];
  assert(lastStart - lastDue > 200, `the last job was only ${lastStart - lastDue} ms late`);
});

Deno.test("runner: aborting stops dispatching", async () => {
  const ac = new AbortController();
  let n = 0;
  await runLoad(jobs(1000), async () => {
    if (++n === 10) ac.abort();
    await new Promise((r) => setTimeout(r, 1));
  }, { parallel: 2, rate: -1, seed: 1, signal: ac.signal });
  assert(n >= 10 && n <= 12, `ran ${n}`);
});

Deno.test("runner: a --parallel far above the jobs makes one lane per job, not per --parallel", async () => {
  // A lane per --parallel would allocate a billion promises (minutes, then out of memory).
  let inFlight = 0, peak = 0;
  const t0 = performance.now();
  await runLoad(jobs(5), async () => {
    peak = Math.max(peak, ++inFlight);
    await new Promise((r) => setTimeout(r, 5));
    inFlight--;
  }, { parallel: 1e9, rate: -1, seed: 1 });
  assertEquals(peak, 5);
  assert(performance.now() - t0 < 2000);
});

Deno.test("runner: an abort while a lane waits for its next job stops it before sending", async () => {
  const ac = new AbortController();
  let i = 0;
  const next = async () => {
    if (i === 3) ac.abort();
    await new Promise((r) => setTimeout(r, 1));
    return i++;
  };
  const ran: number[] = [];
  await runLoad(next, async (j) => {
    ran.push(j);
    await new Promise((r) => setTimeout(r, 1));
  }, { parallel: 1, rate: -1, seed: 1, signal: ac.signal });
  assertEquals(ran, [0, 1, 2]);
});

Deno.test("arrivals: a shard's schedule is the global one thinned: the times of requests i ≡ I (mod N)", () => {
  const global = poissonOffsetsMs(30, 5, 300);
  for (const index of [0, 1, 2]) {
    const got = take(100, arrivalOffsets(30, 5, { index, count: 3 }));
    const want = global.filter((_, i) => i % 3 === index);
    got.forEach((t, k) => assertAlmostEquals(t, want[k], 1e-6, `shard ${index}, request ${k}`));
  }
});

Deno.test("runner: a shard's open loop sends its requests at their global times from the given time zero", async () => {
  const shard = { index: 1, count: 2 };
  const zero = performance.now() + 150; // as --start-at gives it: ahead of now
  const starts: Array<[number, number]> = [];
  await runLoad(jobs(10), async (_j, due) => {
    starts.push([performance.now(), due!]);
    await new Promise((r) => setTimeout(r, 2));
  }, { parallel: 100, rate: 100, seed: 9, shard, startMs: zero });
  const want = poissonOffsetsMs(100, 9, 20).filter((_, i) => i % 2 === 1);
  starts.forEach(([t, due], k) => {
    assertAlmostEquals(due - zero, want[k], 1e-6, `request ${k} due at its global offset`);
    assert(t >= due - 1, `request ${k} started before it was due`);
  });
  assert(starts[0][0] >= zero, "nothing is sent before the time zero");
});

/**
 * An `execute` whose requests take `busyMs` each and whose slot stays empty `gapMs` between;
 * each slot starts at its own time, so `ends` (each request's end, by its previous one's) tells
 * the slots apart.
 */
function spans(busyMs: number, gapMs: number, ends: Map<number | undefined, number[]>) {
  let firsts = 0;
  return (_: number, _s: number | undefined, previousEnd: number | undefined) => {
    const start = previousEnd === undefined ? 1_000_000 * ++firsts : previousEnd + gapMs;
    const end = start + busyMs;
    ends.set(previousEnd, [...(ends.get(previousEnd) ?? []), end]);
    return Promise.resolve({ startEpochMs: start, endEpochMs: end });
  };
}

Deno.test("runner: the closed loop's mean in flight is each slot's busy share, summed", async () => {
  // No gap between a slot's requests: all 4 slots busy all the time.
  const full = await runLoad(jobs(40), spans(10, 0, new Map()), { parallel: 4, rate: -1, seed: 1 });
  assertEquals(full, { closedLoop: true, slots: 4, meanInFlight: 4 });
  // 10 ms requests with 10 ms refills: about half the time in flight. Each slot's life runs
  // from its first send to its last end: ramp-up and tail do not count.
  const ends = new Map<number | undefined, number[]>();
  const half = await runLoad(jobs(40), spans(10, 10, ends), { parallel: 4, rate: -1, seed: 1 });
  let want = 0;
  for (let end of ends.get(undefined)!) {
    let k = 1; // the slot's requests: follow its chain of ends
    while (ends.has(end)) [end, k] = [ends.get(end)![0], k + 1];
    want += (10 * k) / (10 * k + 10 * (k - 1));
  }
  assertAlmostEquals(half.meanInFlight!, want, 1e-9);
  assert(want > 1.9 && want < 2.3, `${want}`);
  // Each request receives the end of its slot's previous one (none for a slot's first).
  const previous: Array<number | undefined> = [];
  await runLoad(jobs(6), (_j, _s, p) => {
    previous.push(p);
    return Promise.resolve({ startEpochMs: (p ?? 0) + 1, endEpochMs: (p ?? 0) + 2 });
  }, { parallel: 2, rate: -1, seed: 1 });
  assertEquals(previous.filter((p) => p === undefined).length, 2);
  assertEquals(previous.filter((p) => p !== undefined).length, 4);
  // A sender that says nothing of its requests leaves the mean unknown.
  const unknown = await runLoad(jobs(4), () => Promise.resolve(), {
    parallel: 2,
    rate: -1,
    seed: 1,
  });
  assertEquals(unknown.meanInFlight, null);
});

Deno.test("runner: the open loop's mean in flight is the requests' time over the run's", async () => {
  let n = 0;
  const stats = await runLoad(jobs(3), () => {
    // Three requests of 100 ms each, over 0–300 ms: one in flight on average.
    const start = 1000 + 100 * n++;
    return Promise.resolve({ startEpochMs: start, endEpochMs: start + 100 });
  }, { parallel: 8, rate: 1000, seed: 1 });
  assertEquals(stats.closedLoop, false);
  assertAlmostEquals(stats.meanInFlight!, 1, 1e-9);
});

/** A request of `ms`, as an executor resolves it: its span in epoch ms. */
async function request(ms: number): Promise<Span> {
  const start = performance.timeOrigin + performance.now();
  await new Promise((r) => setTimeout(r, ms));
  return { startEpochMs: start, endEpochMs: performance.timeOrigin + performance.now() };
}

Deno.test("runner: with a follow, each slot's next job is handed over while its request is in flight", async () => {
  const executed: number[] = [];
  const followed: { job: number; previousPending: boolean }[] = [];
  const execute = (j: number) => {
    executed.push(j);
    return request(5);
  };
  const here = followHere(execute);
  const follow: Follow<number> = (job, previous, stop) => {
    let settled = false;
    previous.then(() => settled = true);
    // Read after the microtasks already queued: `previous` would have settled by then if it had.
    const checked = Promise.resolve().then(() => Promise.resolve()).then(() =>
      followed.push({ job, previousPending: !settled })
    );
    return checked.then(() => here(job, previous, stop));
  };
  const stats = await runLoad(jobs(20), execute, { parallel: 4, rate: -1, seed: 1 }, follow);
  // The first wave is executed, every later job follows its slot's request: each runs once.
  assertEquals(executed.sort((a, b) => a - b), [...Array(20).keys()]);
  assertEquals(
    followed.map((f) => f.job).sort((a, b) => a - b),
    [...Array(16).keys()].map((i) => i + 4),
  );
  assert(followed.every((f) => f.previousPending), JSON.stringify(followed));
  assertEquals([stats.closedLoop, stats.slots], [true, 4]);
  assert(stats.meanInFlight! > 3 && stats.meanInFlight! <= 4, `${stats.meanInFlight}`);
});

Deno.test("runner: with a follow, what --duration's deadline finds queued is not sent", async () => {
  const executed: number[] = [];
  const stops: (number | undefined)[] = [];
  const execute = (j: number) => {
    executed.push(j);
    return request(40);
  };
  const here = followHere(execute);
  const t0 = performance.now();
  const stats = await runLoad(jobs(1000), execute, {
    parallel: 2,
    rate: -1,
    seed: 1,
    startMs: t0,
    durationMs: 100,
  }, (job, previous, stop) => {
    stops.push(stop.deadlineMs);
    return here(job, previous, stop);
  });
  // 40 ms requests, two slots, a 100 ms deadline: each slot sends at 0, 40 and 80 ms; the job
  // queued behind the third is due at 120 ms, after the deadline: pulled, not sent.
  assertEquals(executed.length, 6, JSON.stringify(executed));
  assert(stops.every((d) => d === t0 + 100), JSON.stringify(stops));
  assertEquals(stats.slots, 2);
});

Deno.test("runner: followHere waits for the previous request and refills from its end; stops when told", async () => {
  const calls: (number | undefined)[] = [];
  const here = followHere<number>((_j, _s, previousEnd) => {
    calls.push(previousEnd);
    return request(1);
  });
  const previous = request(5);
  const span = await here(1, previous, {});
  assert(span !== undefined);
  assertEquals(calls, [(await previous).endEpochMs]);
  const ac = new AbortController();
  ac.abort();
  assertEquals(await here(2, request(1), { signal: ac.signal }), undefined);
  assertEquals(await here(3, request(1), { deadlineMs: performance.now() }), undefined);
  assertEquals(await here(4, Promise.resolve(undefined), {}), undefined);
  assertEquals(calls.length, 1);
});

Deno.test("runner: a dataset that fails mid-run stops dispatching; what is in flight ends before the error", async () => {
  for (const withFollow of [false, true]) {
    let i = 0;
    const next = () => i === 6 ? Promise.reject(new Error("bad line")) : Promise.resolve(i++);
    const ended: number[] = [];
    const execute = async (j: number) => {
      const span = await request(20);
      ended.push(j);
      return span;
    };
    const follow = withFollow ? followHere(execute) : undefined;
    let error: unknown;
    try {
      await runLoad(next, execute, { parallel: 3, rate: -1, seed: 1 }, follow);
    } catch (e) {
      error = e;
    }
    assertEquals((error as Error | undefined)?.message, "bad line", `follow: ${withFollow}`);
    // The six jobs pulled were all sent, and all had ended when the error came out.
    assertEquals(ended.sort((a, b) => a - b), [0, 1, 2, 3, 4, 5], `follow: ${withFollow}`);
  }
});

Deno.test("runner: with a follow, a slow dataset does not hold a slot empty until every lane started", async () => {
  // Jobs take 10 ms to pull, requests 20 ms: launching 10 lanes takes ~100 ms, while the first
  // lane's request ends at ~30 ms; it pulls its next job then, not once the launch is over.
  let i = 0;
  const next = async () => {
    await new Promise((r) => setTimeout(r, 10));
    return i < 30 ? i++ : undefined;
  };
  const launches: number[] = []; // a lane's first request: no previous end
  const follows: number[] = [];
  const execute = (_j: number, _s: number | undefined, previousEnd: number | undefined) => {
    (previousEnd === undefined ? launches : follows).push(performance.now());
    return request(20);
  };
  await runLoad(next, execute, { parallel: 10, rate: -1, seed: 1 }, followHere(execute));
  // Every job once; the lanes already running took some of them while the launch went on.
  assertEquals(launches.length + follows.length, 30);
  assert(launches.length <= 10, `${launches.length} lanes`);
  assert(Math.min(...follows) < Math.max(...launches), "a slot refilled during the launch");
});
