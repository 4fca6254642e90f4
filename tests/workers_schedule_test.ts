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
