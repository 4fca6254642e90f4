/**
 * `--rate` sends on its seeded Poisson schedule whatever the number of workers, checked where
 * the requests land: a stub server stamps each request's arrival (wall clock) and knows which
 * request it is by its prompt (`p<i>`, one line of a `line_by_line` dataset each). Each request's
 * due time (the record's, read in the clock of the worker that sent it) must sit at the offset
 * that the schedule's definition gives (recomputed in `helpers/poisson.ts`, not by the code that
 * ran), and each request must reach the server no earlier than it was due and not much later.
 * The runs also end with the client's self-check.
 */
import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import { chatStub } from "./helpers/chat_stub.ts";
import { tempDir } from "./helpers/cli.ts";
import { poissonOffsetsMs } from "./helpers/poisson.ts";
import { silentLogger } from "../src/log.ts";
import { runPerfBenchmark } from "../src/perf.ts";
import { startMockServer } from "../src/mock/server.ts";
import type { FinishedRequest, MeasuredRecord } from "../src/records/finished.ts";

const RATE = 40;
const SEED = 11;
const N = 30;
/** How early a request may seem to arrive: the threads' clocks agree to well under this. */
const CLOCK_SLACK_MS = 2;
/** Lateness allowed at the server (generous: a loaded 2-core CI machine runs other tests). */
const MEAN_LATE_MS = 20;
const MAX_LATE_MS = 250;

/** The prompt of line `i` of the dataset, and back. */
const prompt = (i: number) => `p${i}`;
const lineOf = (body: Record<string, unknown>) =>
  Number(/^p(\d+)$/.exec((body.messages as Array<{ content: string }>)[0].content)![1]);

async function scheduledRun(url: string, workers: number, dir: string) {
  const prompts = `${dir}/prompts.txt`;
  await Deno.writeTextFile(prompts, Array.from({ length: N }, (_, i) => `${prompt(i)}\n`).join(""));
  const recs: MeasuredRecord[] = [];
  const result = await runPerfBenchmark({
    url: `${url}/v1/chat/completions`,
    model: "m",
    dataset: "line_by_line",
    datasetPath: prompts,
    number: N,
    parallel: 8,
    rate: RATE,
    seed: SEED,
    stream: true,
    workers,
    noTestConnection: true, // every request the server sees is one of the run's
    outputsDir: dir,
  }, {
    log: silentLogger,
    resultDb: false,
    sinks: [{ write: (b: FinishedRequest[]) => void b.forEach((f) => recs.push(f.record)) }],
  });
  return { recs: recs.sort((a, b) => a.index - b.index), result };
}

for (const workers of [0, 1, 2]) {
  Deno.test(`schedule: --rate keeps the seeded Poisson schedule with --workers ${workers}`, async () => {
    const server = chatStub();
    await using tmp = await tempDir();
    try {
      const { recs, result } = await scheduledRun(server.url, workers, tmp.path);
      assertEquals(recs.map((r) => r.index), Array.from({ length: N }, (_, i) => i));
      const arrived = new Map(server.requests.map((q) => [lineOf(q.body), q.at]));
      assertEquals(server.requests.length, N);
      assertEquals(arrived.size, N, "the server got each request once");
      const offsets = poissonOffsetsMs(RATE, SEED, N);
      const due = recs.map((r) => r.timeOriginMs + r.scheduledMs!); // epoch ms
      const late: number[] = [];
      for (let i = 0; i < N; i++) {
        assert(recs[i].success, JSON.stringify(recs[i].failure));
        // The due times are the definition's offsets from the run's start ...
        assertAlmostEquals(due[i] - due[0], offsets[i], 0.01, `request ${i}: due at its offset`);
        assert(recs[i].startMs >= recs[i].scheduledMs!, `request ${i} was sent before it was due`);
        // ... and each request reached the server at its due time, or a little after.
        late.push(arrived.get(recs[i].index)! - due[i]);
        assert(late[i] >= -CLOCK_SLACK_MS, `request ${i} arrived ${-late[i]} ms before due`);
      }
      const mean = late.reduce((s, x) => s + x, 0) / N;
      assert(mean < MEAN_LATE_MS, `mean lateness ${mean.toFixed(1)} ms`);
      assert(Math.max(...late) < MAX_LATE_MS, `max lateness ${Math.max(...late).toFixed(1)} ms`);
      // The schedule spans ~0.7 s: a run that sent everything at once could not pass the above.
      assert(offsets[N - 1] > 300, `the schedule spans ${offsets[N - 1]} ms`);
      assertEquals(result.client.workers, workers);
      assertEquals(result.client.transport, "socket");
      assertEquals(result.client.threads.length, 1 + workers);
      assertEquals(result.client.dispatchLag?.count, N);
    } finally {
      await server.close();
    }
  });
}

Deno.test("schedule: --rate waiting for a --parallel slot is the load's queue, not client lateness", async () => {
  // 200 requests/s due, but one slot and 40 ms per request: each request waits for the one
  // before it, so by the end they are sent hundreds of ms after they were due. That wait is the
  // load's own queue (the record's client queue), not the client sending late: the self-check's
  // dispatch lag counts only from when a request could go (due, and its slot free).
  const mock = startMockServer({ port: 0, ttftMs: 40, itlMs: 0, outputTokens: 2 });
  await using tmp = await tempDir();
  try {
    const recs: MeasuredRecord[] = [];
    const n = 30;
    const result = await runPerfBenchmark({
      url: `${mock.url}/v1/chat/completions`,
      model: "m",
      prompt: "hi",
      number: n,
      parallel: 1,
      rate: 200,
      seed: SEED,
      stream: true,
      workers: 1,
      noTestConnection: true,
      outputsDir: tmp.path,
    }, {
      log: silentLogger,
      resultDb: false,
      sinks: [{ write: (b: FinishedRequest[]) => void b.forEach((f) => recs.push(f.record)) }],
    });
    assertEquals(recs.length, n);
    const queued = recs.map((r) => r.startMs - r.scheduledMs!);
    // 30 × 40 ms of service against ~150 ms of arrivals: the last waits ~1 s in the queue, and
    // the mean wait is ~500 ms. Counted as lateness (as before), the dispatch lag's mean would
    // be that; counted from when each slot came free, it is the client's ~1 ms turnover.
    const meanQueued = queued.reduce((a, b) => a + b, 0) / n;
    assert(meanQueued > 200, `the mean queue wait was ${meanQueued} ms`);
    const lag = result.client.dispatchLag!;
    assertEquals(lag.count, n);
    assert(lag.meanMs < 50, `dispatch lag mean ${lag.meanMs} ms counts the slot wait`);
  } finally {
    await mock.close();
  }
});

Deno.test("schedule: requests lost with a dead worker count in no dispatch lag", async () => {
  // The plugin crashes its worker after its first parse there; the requests still in flight are
  // failed on the main thread with the loss's time as their start, which says nothing of when
  // they were sent: counted, they made 8 on-time requests ~840 ms late on average.
  const mock = startMockServer({ port: 0, ttftMs: 1000, itlMs: 0, outputTokens: 2 });
  await using tmp = await tempDir();
  const plugin = `${tmp.path}/crash.ts`;
  const openai = new URL("../plugins/api/openai.ts", import.meta.url).href;
  await Deno.writeTextFile(
    plugin,
    `import OpenAIApi from ${JSON.stringify(openai)};
    let crashed = false;
    export default class Crash extends OpenAIApi {
      parseResponses(...a) {
        if ("WorkerGlobalScope" in globalThis && !crashed) {
          crashed = true;
          setTimeout(() => { throw new Error("the plugin crashed its worker"); }, 0);
        }
        return super.parseResponses(...a);
      }
    }\n`,
  );
  try {
    const recs: MeasuredRecord[] = [];
    const result = await runPerfBenchmark({
      url: `${mock.url}/v1/chat/completions`,
      model: "m",
      prompt: "hi",
      number: 8,
      parallel: 8,
      rate: 100,
      stream: true,
      workers: 1,
      api: plugin,
      noTestConnection: true,
      outputsDir: tmp.path,
    }, {
      log: silentLogger,
      resultDb: false,
      sinks: [{ write: (b: FinishedRequest[]) => void b.forEach((f) => recs.push(f.record)) }],
    });
    assertEquals(recs.length, 8);
    const lost = recs.filter((r) => /stopped/.test(r.failure?.message ?? "")).length;
    assert(lost > 0, "no request was lost with the worker");
    const lag = result.client.dispatchLag!;
    assertEquals(lag.count, 8 - lost);
    assert(lag.meanMs < 100, `dispatch lag mean ${lag.meanMs} ms counts the lost requests`);
  } finally {
    await mock.close();
  }
});
