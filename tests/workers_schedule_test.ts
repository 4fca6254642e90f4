/**
 * `--rate` keeps its exact Poisson schedule whatever the number of workers: every record's due
 * time (read in the clock of the worker that measured it) is the run's start plus the seeded
 * offset, and no request goes before it is due. The runs also end with a self-check.
 */
import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import { tempDir } from "./helpers/cli.ts";
import { startMockServer } from "../src/mock/server.ts";
import { arrivalOffsets } from "../src/load/arrivals.ts";
import { silentLogger } from "../src/log.ts";
import { runPerfBenchmark } from "../src/perf.ts";
import type { FinishedRequest } from "../src/records/finished.ts";
import type { RequestRecord } from "../src/records/record.ts";

const RATE = 40;
const SEED = 11;
const N = 30;

async function scheduledRun(url: string, workers: number, dir: string) {
  const recs: RequestRecord[] = [];
  const result = await runPerfBenchmark({
    url: `${url}/v1/chat/completions`,
    model: "m",
    prompt: "hello",
    number: N,
    parallel: 8,
    rate: RATE,
    seed: SEED,
    stream: true,
    workers,
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
    const mock = startMockServer({ port: 0, ttftMs: 2, itlMs: 1, outputTokens: 4 });
    await using tmp = await tempDir();
    try {
      const { recs, result } = await scheduledRun(mock.url, workers, tmp.path);
      assertEquals(recs.length, N);
      const offsets = arrivalOffsets(RATE, SEED);
      const due = recs.map((r) => r.timeOriginMs + r.scheduledMs!); // epoch ms
      for (let i = 0; i < N; i++) {
        const offset = offsets.next().value!;
        assertAlmostEquals(due[i] - due[0], offset, 1e-3, `request ${i}: due at its offset`);
        assert(recs[i].startMs >= recs[i].scheduledMs!, `request ${i} went before it was due`);
        assert(recs[i].success, JSON.stringify(recs[i].failure));
      }
      assertEquals(result.client.workers, workers);
      assertEquals(result.client.transport, "socket");
      assertEquals(result.client.threads.length, 1 + workers);
      assertEquals(result.client.dispatchLag?.count, N);
    } finally {
      await mock.close();
    }
  });
}
