import { assert, assertEquals } from "./assert.ts";
import { ResultPipeline } from "../src/records/pipeline.ts";
import type { FinishedRequest, ResultSink } from "../src/records/finished.ts";

/** A stand-in record: the pipeline only hands records on, so an index is all a test reads. */
const rec = (i: number) => ({ index: i }) as unknown as FinishedRequest;
const indexOf = (f: FinishedRequest) => (f as unknown as { index: number }).index;

/** A sink that logs what it was handed, as `name:first-last` per write, and every index. */
function logging(name: string, log: string[], seen: number[] = []): ResultSink {
  return {
    write(batch) {
      log.push(`${name}:${indexOf(batch[0])}-${indexOf(batch.at(-1)!)}`);
      for (const f of batch) seen.push(indexOf(f));
    },
  };
}

Deno.test("pipeline: every record reaches every sink once, in order, in chunks of chunkSize", async () => {
  const log: string[] = [];
  const a: number[] = [];
  const b: number[] = [];
  const p = new ResultPipeline([logging("a", log, a), logging("b", log, b)], {
    batchSize: 1000,
    chunkSize: 64,
  });
  for (let i = 0; i < 150; i++) p.push(rec(i));
  await p.close();
  const all = Array.from({ length: 150 }, (_, i) => i);
  assertEquals(a, all);
  assertEquals(b, all);
  // Each chunk goes to the first sink, then the second (the redaction sink runs first), and no
  // write holds more than 64.
  assertEquals(log, ["a:0-63", "b:0-63", "a:64-127", "b:64-127", "a:128-149", "b:128-149"]);
});

/**
 * 640 records through a pipeline of `batchSize` whose one sink costs 3 ms a chunk of 64, with a
 * timer queued before the first batch starts: how many of the ten chunks were done when it ran.
 */
async function chunksBeforeTimer(batchSize: number): Promise<number> {
  let chunks = 0;
  let atTimer = -1;
  const slow: ResultSink = {
    write() {
      const until = performance.now() + 3;
      while (performance.now() < until) { /* a sink costing 3 ms a chunk */ }
      chunks++;
    },
  };
  const p = new ResultPipeline([slow], { batchSize, chunkSize: 64, sliceMs: 4 });
  setTimeout(() => atTimer = chunks, 0);
  for (let i = 0; i < 640; i++) p.push(rec(i));
  await p.close();
  assertEquals(chunks, 10);
  return atTimer;
}

Deno.test("pipeline: a batch that takes longer than sliceMs lets the event loop run between its chunks", async () => {
  // One batch of ten chunks (the 640th push processes it). Run whole, it would hold the timer
  // until all ten were done; with 4 ms slices the timer runs after the second (3 ms, then 6).
  const done = await chunksBeforeTimer(640);
  assert(done >= 0 && done < 10, `the timer ran after ${done} of 10 chunks`);
});

Deno.test("pipeline: batches queued back to back share one slice, and the loop runs between them", async () => {
  // Ten batches of one chunk each, all queued at once: each starts in the task the last ended in.
  // A slice per batch would let each batch's first chunk go without a yield: all ten, 30 ms,
  // before the timer.
  const done = await chunksBeforeTimer(64);
  assert(done >= 0 && done < 10, `the timer ran after ${done} of 10 chunks`);
});

Deno.test("pipeline: close hands on what is queued, closes each sink once, and throws a sink's error", async () => {
  const seen: number[] = [];
  let closed = 0;
  const p = new ResultPipeline([
    { write: (b) => void seen.push(...b.map(indexOf)), close: () => void closed++ },
    {
      write: (b) => {
        if (b.some((f) => indexOf(f) === 2)) throw new Error("sink broke");
      },
      close: () => void closed++,
    },
  ], { batchMs: 60_000 });
  for (let i = 0; i < 3; i++) p.push(rec(i));
  let error = "";
  await p.close().catch((e) => error = (e as Error).message);
  assertEquals(seen, [0, 1, 2]);
  assertEquals(closed, 2);
  assertEquals(error, "sink broke");
  assertEquals(await p.close().catch((e) => (e as Error).message), "sink broke");
});
