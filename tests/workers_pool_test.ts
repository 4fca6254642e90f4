/**
 * Transport workers: records come back whole from every worker, requests spread over them, the
 * schedule time is moved into the measuring worker's clock, cancellation reaches them, and each
 * reports its self-check.
 */
import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import { startMockServer } from "../src/mock/server.ts";
import { newRecord, type RequestRecord } from "../src/records/record.ts";
import type { TransportSpec } from "../src/transport/create.ts";
import { WorkerPool } from "../src/workers/pool.ts";
import { joinPayloads, splitPayloads } from "../src/workers/messages.ts";

const SPEC: TransportSpec = {
  kind: "socket",
  timeouts: { connectMs: 10_000, readMs: 10_000, totalMs: Infinity },
};

function request(url: string, stream = true) {
  return {
    url: `${url}/v1/chat/completions`,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "m",
      messages: [{ role: "user", content: "hi" }],
      stream,
      stream_options: { include_usage: true },
    }),
    stream,
  };
}

Deno.test("workers: records come back whole from two workers, spread over both", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 5, itlMs: 1, outputTokens: 6 });
  const pool = await WorkerPool.start(2, SPEC);
  try {
    const recs: RequestRecord[] = [];
    await Promise.all(Array.from({ length: 24 }, async (_, i) => {
      const rec = newRecord(i, { i }, i % 3 !== 0);
      await pool.send(request(mock.url, rec.stream), rec);
      recs.push(rec);
    }));
    await pool.close();
    assertEquals(recs.length, 24);
    for (const rec of recs) {
      assert(rec.success, JSON.stringify(rec.failure));
      assertEquals(rec.status, 200);
      assertEquals(rec.body, { i: rec.index }); // the body stays on the main thread
      // role chunk + 6 tokens + usage when streamed; one body otherwise
      assertEquals(rec.payloads.length, rec.stream ? 8 : 1);
      assertEquals(rec.chunkTimesMs.length, rec.payloads.length);
      assert(rec.timeOriginMs !== performance.timeOrigin, "times are in the worker's clock");
      assert(rec.startMs > 0 && rec.endMs >= rec.startMs && rec.headersAtMs! >= rec.startMs);
      const last = JSON.parse(rec.payloads[rec.payloads.length - 1]);
      assertEquals(last.usage.completion_tokens, 6);
    }
    const loads = pool.loads;
    assertEquals(loads.map((l) => l.thread), ["worker 1", "worker 2"]);
    assertEquals(loads.reduce((n, l) => n + (l.requests ?? 0), 0), 24);
    for (const l of loads) {
      assert((l.requests ?? 0) > 0, `${l.thread} sent nothing`);
      assert((l.events ?? 0) >= (l.requests ?? 0), `${l.thread}: events counted`);
    }
  } finally {
    await mock.close();
  }
});

Deno.test("workers: the schedule time is moved into the worker's clock", async () => {
  const mock = startMockServer({ port: 0, outputTokens: 2 });
  const pool = await WorkerPool.start(1, SPEC);
  try {
    const rec = newRecord(0, {}, true);
    const scheduled = performance.now();
    rec.scheduledMs = scheduled;
    await pool.send(request(mock.url), rec);
    assert(rec.success);
    // The same instant, read from either clock.
    assertAlmostEquals(
      rec.timeOriginMs + rec.scheduledMs!,
      performance.timeOrigin + scheduled,
      1e-3,
      "scheduled, as epoch ms",
    );
    assert(rec.startMs >= rec.scheduledMs!, "sent after it was due");
  } finally {
    await pool.close();
    await mock.close();
  }
});

Deno.test("workers: aborting the run cancels requests in every worker", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 5_000, outputTokens: 2 });
  const pool = await WorkerPool.start(2, SPEC);
  try {
    const ac = new AbortController();
    const recs = Array.from({ length: 6 }, (_, i) => newRecord(i, {}, true));
    const sent = recs.map((r) => pool.send(request(mock.url), r, ac.signal));
    setTimeout(() => ac.abort(), 100);
    await Promise.all(sent);
    for (const r of recs) assertEquals(r.failure?.kind, "cancelled");
  } finally {
    await pool.close();
    await mock.close();
  }
});

Deno.test("workers: payloads cross joined by CR and split back exactly", () => {
  const many = ['{"a":1}', "line one\nline two", "", '{"é":"模型"}'];
  assertEquals(splitPayloads(joinPayloads(many)), many);
  assertEquals(splitPayloads(joinPayloads(["a\r\nb"])), ["a\r\nb"]); // a lone body keeps its CRs
  assertEquals(splitPayloads(joinPayloads([])), []);
});
