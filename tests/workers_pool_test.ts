/**
 * Transport workers: records come back whole and finished (the plugin ran in the worker) from
 * every worker, requests spread over them, the schedule time is moved into the measuring
 * worker's clock, cancellation reaches them, each reports its self-check, and the payloads reach
 * the main thread only when a sink asks for them.
 */
import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import { startMockServer } from "../src/mock/server.ts";
import { resolveConfig } from "../src/config.ts";
import OpenAIApi from "../plugins/api/openai.ts";
import type { FinishedRequest, SinkNeeds } from "../src/records/finished.ts";
import { packPayloads, unpackPayloads } from "../src/records/payloads.ts";
import type { TransportSpec } from "../src/transport/create.ts";
import { WorkerPool } from "../src/workers/pool.ts";
import type { RowsMessage } from "../src/store/rows.ts";
import { RESULT_COLUMNS } from "../src/store/schema.ts";
import { startMockProcess } from "./helpers/mock_process.ts";

/** Where a row holds its request body. */
const REQUEST_COLUMN = RESULT_COLUMNS.findIndex((c) => c.name === "request");

const SPEC: TransportSpec = {
  kind: "socket",
  timeouts: { connectMs: 10_000, readMs: 10_000, totalMs: Infinity },
};

function body(stream: boolean) {
  return JSON.stringify({
    model: "m",
    messages: [{ role: "user", content: "hi" }],
    stream,
    stream_options: { include_usage: true },
  });
}

/**
 * A pool of `n` workers sending to the mock at `url`, its records collected in `records`; the
 * workers' API plugin is `api` (a built-in name or a file).
 */
async function pool(n: number, url: string, needs: SinkNeeds = {}, api = "openai") {
  const cfg = resolveConfig({ model: "m", url: `${url}/v1/chat/completions` });
  const records: FinishedRequest[] = [];
  const p = await WorkerPool.start(n, SPEC, {
    target: { url: cfg.url, headers: { "content-type": "application/json" } },
    finish: { api: { spec: api, params: cfg }, needs },
    onRecord: (f) => records.push(f),
    local: { api: new OpenAIApi(cfg), needs },
  });
  return { pool: p, records };
}

Deno.test("workers: records come back finished from two workers, spread over both", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 5, itlMs: 1, outputTokens: 6 });
  const { pool: p, records } = await pool(2, mock.url);
  try {
    await Promise.all(Array.from({ length: 24 }, (_, i) => {
      const stream = i % 3 !== 0;
      return p.send({ index: i, body: body(stream), stream });
    }));
    await p.close();
    assertEquals(records.length, 24);
    assertEquals(records.map((f) => f.record.index).sort((a, b) => a - b), [...Array(24).keys()]);
    for (const { record: rec, metrics, counts, payloads, bodyText } of records) {
      assert(rec.success, JSON.stringify(rec.failure));
      assertEquals(rec.status, 200);
      // role chunk + 6 tokens + usage when streamed; one body otherwise
      assertEquals(rec.chunkTimesMs.length, rec.stream ? 8 : 1);
      assert(rec.chunkTimesMs instanceof Float64Array, "times in a typed array");
      assert(rec.timeOriginMs !== performance.timeOrigin, "times are in the worker's clock");
      assert(rec.startMs > 0 && rec.endMs >= rec.startMs && rec.headersAtMs! >= rec.startMs);
      // Parsed in the worker: the usage's counts, the token chunks.
      assertEquals([counts?.source, counts?.completionTokens], ["usage", 6]);
      assertEquals(metrics.completionTokens, 6);
      // The six token chunks measured there (the role chunk and the usage one are not tokens).
      if (rec.stream) assertEquals(metrics.itlS.length, 5);
      // No sink asked for them: the payloads, the lists that index them and the body never left
      // the worker.
      assertEquals([payloads, counts?.contentChunks, bodyText], [undefined, undefined, undefined]);
    }
    const loads = p.loads;
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

Deno.test("workers: a sink that asks for the payloads gets them, exactly", async () => {
  const mock = startMockServer({ port: 0, outputTokens: 3 });
  const { pool: p, records } = await pool(1, mock.url, { payloads: true, bodyText: true });
  try {
    await p.send({ index: 0, body: body(true), stream: true });
    await p.close();
    const [f] = records;
    assertEquals(f.bodyText, body(true));
    const payloads = unpackPayloads(f.payloads!);
    assertEquals(payloads.length, f.record.chunkTimesMs.length);
    assertEquals(JSON.parse(payloads.at(-1)!).usage.completion_tokens, 3);
    // With the payloads, the plugin's lists that index them: the three token chunks.
    assertEquals(f.counts?.contentChunks, [1, 2, 3]);
  } finally {
    await mock.close();
  }
});

Deno.test("workers: the schedule time is moved into the worker's clock", async () => {
  const mock = startMockServer({ port: 0, outputTokens: 2 });
  const { pool: p, records } = await pool(1, mock.url);
  try {
    const scheduled = performance.now();
    const span = await p.send({ index: 0, body: body(true), stream: true, scheduledMs: scheduled });
    await p.close();
    const rec = records[0].record;
    assert(rec.success);
    // The same instant, read from either clock.
    assertAlmostEquals(
      rec.timeOriginMs + rec.scheduledMs!,
      performance.timeOrigin + scheduled,
      1e-3,
      "scheduled, as epoch ms",
    );
    assert(rec.startMs >= rec.scheduledMs!, "sent after it was due");
    assertEquals(span, {
      startEpochMs: rec.timeOriginMs + rec.startMs,
      endEpochMs: rec.timeOriginMs + rec.endMs,
    });
  } finally {
    await mock.close();
  }
});

Deno.test("workers: a slot's refill lateness is measured where the request is sent", async () => {
  const mock = startMockServer({ port: 0, outputTokens: 2 });
  const { pool: p, records } = await pool(1, mock.url);
  try {
    const first = await p.send({ index: 0, body: body(true), stream: true });
    await new Promise((r) => setTimeout(r, 30)); // the slot stays empty for 30 ms
    await p.send({
      index: 1,
      body: body(true),
      stream: true,
      previousEndEpochMs: first.endEpochMs,
    });
    await p.close();
    const second = records.find((f) => f.record.index === 1)!.record;
    assert(second.refillLateMs! >= 29 && second.refillLateMs! < 1000, `${second.refillLateMs}`);
    assertEquals(records.find((f) => f.record.index === 0)!.record.refillLateMs, undefined);
  } finally {
    await mock.close();
  }
});

Deno.test("workers: aborting the run cancels requests in every worker", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 5_000, outputTokens: 2 });
  const { pool: p, records } = await pool(2, mock.url);
  try {
    const ac = new AbortController();
    const sent = Array.from(
      { length: 6 },
      (_, i) => p.send({ index: i, body: body(true), stream: true }, ac.signal),
    );
    setTimeout(() => ac.abort(), 100);
    await Promise.all(sent);
    await p.close();
    assertEquals(records.length, 6);
    for (const f of records) assertEquals(f.record.failure?.kind, "cancelled");
  } finally {
    await mock.close();
  }
});

Deno.test("workers: payloads cross as one blob and come back exactly", () => {
  const many = ['{"a":1}', "line one\nline two", "", '{"é":"模型"}'];
  assertEquals(unpackPayloads(packPayloads(many)), many);
  assertEquals(unpackPayloads(packPayloads(["a\r\nb"])), ["a\r\nb"]); // a lone body keeps its CRs
  assertEquals(unpackPayloads(packPayloads([])), []);
  assertEquals(unpackPayloads(packPayloads([""])), [""]);
});

Deno.test("workers: requests lost with a worker that died keep their warmup mark and request id", async () => {
  // The plugin's first parse crashes its worker (an uncaught error a tick later); the two
  // requests still in flight then are failed on the main thread, as warmup requests with their
  // dataset ids: a warmup request lost so stays out of every statistic.
  const mock = startMockServer({ port: 0, ttftMs: 300, itlMs: 0, outputTokens: 2 });
  const dir = await Deno.makeTempDir();
  const plugin = `${dir}/crash.ts`;
  await Deno.writeTextFile(
    plugin,
    `export default {
      buildRequest: () => ({}),
      parseResponses() {
        setTimeout(() => { throw new Error("the plugin crashed its worker"); }, 0);
        return { promptTokens: 0, completionTokens: 1 };
      },
    };\n`,
  );
  const { pool: p, records } = await pool(1, mock.url, {}, plugin);
  try {
    const first = p.send({ index: 0, body: body(true), stream: true });
    await new Promise((r) => setTimeout(r, 100));
    const lost = [1, 2].map((i) =>
      p.send({ index: i, body: body(true), stream: true, warmup: true, requestId: `r${i}` })
    );
    await Promise.all([first, ...lost]);
    await p.close();
    const byIndex = new Map(records.map((f) => [f.record.index, f.record]));
    for (const i of [1, 2]) {
      const rec = byIndex.get(i)!;
      assertEquals(rec.success, false);
      assert(/worker 1 stopped/.test(rec.failure?.message ?? ""), rec.failure?.message);
      assertEquals([rec.warmup, rec.requestId], [true, `r${i}`]);
    }
  } finally {
    await mock.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("workers: requests dispatched in one turn cross in one message; records that end together come back together", async () => {
  // Count the messages each way by wrapping the Worker class the pool uses.
  const Original = globalThis.Worker;
  const toWorker: Array<{ t: string; orders?: unknown[] }> = [];
  const fromWorker: Array<{ t: string; ids?: number[] }> = [];
  globalThis.Worker = class extends Original {
    constructor(url: string | URL, opts?: WorkerOptions) {
      super(url, opts);
      this.addEventListener("message", (e) => fromWorker.push((e as MessageEvent).data));
    }
    override postMessage(m: unknown, t?: Transferable[] | StructuredSerializeOptions): void {
      toWorker.push(m as { t: string });
      super.postMessage(m, t as Transferable[]);
    }
  } as typeof Worker;
  // One token after 40 ms each: the 32 responses end within a few ms of each other.
  const mock = startMockServer({ port: 0, ttftMs: 40, itlMs: 0, outputTokens: 1 });
  let opened: WorkerPool | undefined;
  try {
    const { pool: p, records } = await pool(1, mock.url);
    opened = p;
    await Promise.all(
      Array.from({ length: 32 }, (_, i) => p.send({ index: i, body: body(true), stream: true })),
    );
    opened = undefined;
    await p.close();
    const sends = toWorker.filter((m) => m.t === "send");
    assertEquals(
      sends.map((m) => m.orders!.length),
      [32],
      "one message for the 32 dispatched together",
    );
    const done = fromWorker.filter((m) => m.t === "done");
    const ids = done.flatMap((m) => m.ids!);
    assertEquals(ids.length, 32);
    assertEquals(new Set(ids).size, 32, "each record once");
    assertEquals(records.map((f) => f.record.index).sort((a, b) => a - b), [...Array(32).keys()]);
    assert(
      Math.max(...done.map((m) => m.ids!.length)) >= 2,
      `records that ended in one turn came in one message (batches: ${
        done.map((m) => m.ids!.length)
      })`,
    );
  } finally {
    globalThis.Worker = Original;
    await opened?.close();
    await mock.close();
  }
});

/** A plugin file whose counts, for a prompt "bad", also hold `extra` (JavaScript source). */
async function pluginWith(dir: string, extra: string): Promise<string> {
  const plugin = `${dir}/plugin.ts`;
  await Deno.writeTextFile(
    plugin,
    `export default {
  buildRequest: () => ({}),
  parseResponses(_payloads, body) {
    const c = { promptTokens: 0, completionTokens: 1 };
    if (body.messages[0].content === "bad") ${extra};
    return c;
  },
};
`,
  );
  return plugin;
}

const ask = (content: string) =>
  JSON.stringify({ model: "m", messages: [{ role: "user", content }], stream: true });

/** Eight requests at once, the fourth (index 3) with the prompt "bad". */
function sendEight(p: WorkerPool) {
  return Promise.all(
    Array.from(
      { length: 8 },
      (_, i) => p.send({ index: i, body: ask(i === 3 ? "bad" : "ok"), stream: true }),
    ),
  );
}

Deno.test("workers: what a plugin puts beside the counts' fields (a function) reaches no record; all arrive whole", async () => {
  const dir = await Deno.makeTempDir();
  const mock = startMockServer({ port: 0, ttftMs: 40, itlMs: 0, outputTokens: 1 });
  const plugin = await pluginWith(dir, "c.oops = () => 1");
  const { pool: p, records } = await pool(1, mock.url, {}, plugin);
  try {
    await sendEight(p);
    await p.close();
    const byIndex = new Map(records.map((f) => [f.record.index, f]));
    assertEquals(byIndex.size, 8);
    for (const [i, f] of byIndex) {
      assert(f.record.success, `${i}: ${JSON.stringify(f.record.failure)}`);
      assertEquals(f.record.chunkTimesMs.length, 2); // the role chunk and one token: whole
      assertEquals(f.counts, { promptTokens: 0, completionTokens: 1 });
    }
    assertEquals(p.loads.map((l) => l.requests), [8], "the worker lived to the end");
  } finally {
    await mock.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("workers: records that cannot be posted are recorded as failures, never lost; the worker goes on", async () => {
  const dir = await Deno.makeTempDir();
  const mock = startMockServer({ port: 0, ttftMs: 40, itlMs: 0, outputTokens: 1 });
  // A function in a field llmperf keeps (the counts' source, copied to the metrics too): the
  // record cannot be cloned.
  const plugin = await pluginWith(dir, "c.source = () => 1");
  const { pool: p, records } = await pool(1, mock.url, {}, plugin);
  try {
    await sendEight(p);
    await p.send({ index: 8, body: ask("ok"), stream: true }); // after: the worker still sends
    await p.close();
    const byIndex = new Map(records.map((f) => [f.record.index, f.record]));
    assertEquals(byIndex.size, 9, "every request recorded once");
    const bad = byIndex.get(3)!;
    assertEquals(bad.success, false);
    assertEquals(bad.failure?.kind, "client");
    assert(bad.failure!.message.startsWith("the record could not be posted"), bad.failure!.message);
    for (const [i, r] of byIndex) {
      // Its batch's others share its failed post: recorded as failures too, never lost.
      assert(
        r.success || r.failure?.message.startsWith("the record could not be posted"),
        `${i}: ${JSON.stringify(r.failure)}`,
      );
    }
    assert(byIndex.get(8)!.success, "a later request succeeds");
    assertEquals(p.loads.map((l) => l.requests), [9], "the worker lived to the end");
  } finally {
    await mock.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("workers: an order that fails outside its transport is still recorded, its slot freed", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 5, itlMs: 1, outputTokens: 2 });
  const { pool: p, records } = await pool(1, mock.url);
  try {
    // Endpoint 5 of a target with one: a bug in the caller, thrown before any request is sent.
    await p.send({ index: 0, body: body(true), stream: true, endpoint: 5 });
    await p.send({ index: 1, body: body(true), stream: true });
    await p.close();
    assertEquals(records.map((f) => [f.record.index, f.record.success]), [[0, false], [1, true]]);
    assertEquals(records[0].record.failure?.kind, "client");
    assertEquals(records[0].record.endpoint, undefined, "no endpoint 5 to name");
  } finally {
    await mock.close();
  }
});

Deno.test("workers: secrets added between two requests reach a worker's row port after the first's row and before the second's", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 5, itlMs: 0, outputTokens: 2 });
  const cfg = resolveConfig({ model: "m", url: `${mock.url}/v1/chat/completions` });
  const { port1, port2 } = new MessageChannel();
  // What the DB writer would receive on this worker's port, in order.
  const seen: string[] = [];
  port2.onmessage = (e: MessageEvent<RowsMessage>) => {
    const m = e.data;
    if (m.type === "rows") {
      for (const row of m.rows) {
        seen.push(`row ${JSON.parse(String(row[REQUEST_COLUMN])).messages[0].content}`);
      }
    } else if (m.type === "secrets") seen.push(`secrets ${m.secrets.join(",")}`);
    else seen.push("end");
  };
  const p = await WorkerPool.start(1, SPEC, {
    target: { url: cfg.url, headers: { "content-type": "application/json" } },
    finish: { api: { spec: "openai", params: cfg }, needs: {} },
    onRecord: () => {},
    local: { api: new OpenAIApi(cfg), needs: {} },
    rows: () => ({ port: port1, lost: () => {} }),
  });
  try {
    await p.send({ index: 0, body: ask("first"), stream: true });
    p.addSecrets(["sk-late"]); // as a request with its own credential header is pulled
    await p.send({ index: 1, body: ask("second"), stream: true });
  } finally {
    await p.close();
  }
  await new Promise((r) => setTimeout(r, 50)); // the port's last messages
  port2.close();
  await mock.close();
  assertEquals(seen, ["row first", "secrets sk-late", "row second", "end"]);
});

Deno.test("workers: a slot's next request queued behind its request goes from the worker while this thread is busy", async () => {
  // In its own process: it must answer while this thread is held.
  const mock = await startMockProcess("--ttft-ms", "20", "--itl-ms", "1", "--output-tokens", "2");
  const { pool: p, records } = await pool(1, mock.url);
  try {
    const first = p.send({ index: 0, body: body(true), stream: true, chained: true });
    const second = p.sendAfter(
      { index: 1, body: body(true), stream: true, chained: true },
      first,
      undefined,
    );
    const third = p.sendAfter({ index: 2, body: body(true), stream: true }, second, undefined);
    // Hold this thread for 400 ms, far longer than the three requests take: they can only have
    // been sent one after another in the worker.
    await new Promise((r) => setTimeout(r, 0)); // the orders are posted at the turn's end
    const blockedFrom = performance.timeOrigin + performance.now();
    while (performance.now() - (blockedFrom - performance.timeOrigin) < 400) { /* busy */ }
    const blockedTo = performance.timeOrigin + performance.now();
    const spans = await Promise.all([first, second, third]);
    await p.close();
    assertEquals(records.map((f) => f.record.index).sort(), [0, 1, 2]);
    for (let i = 1; i < 3; i++) {
      const span = spans[i]!;
      assert(span.startEpochMs < blockedTo, `request ${i} was sent after this thread was free`);
      assert(span.startEpochMs >= spans[i - 1]!.endEpochMs - 0.001, "after the one it follows");
      const rec = records.find((f) => f.record.index === i)!.record;
      assert(rec.success, JSON.stringify(rec.failure));
      // Its refill lag counts from the end of the one it followed, in the worker.
      assertAlmostEquals(rec.refillLateMs!, span.startEpochMs - spans[i - 1]!.endEpochMs, 0.01);
    }
    assert(spans[2]!.endEpochMs > blockedFrom, "the test's premise: it ran while blocked");
  } finally {
    await mock.stop();
  }
});

Deno.test("workers: a request queued behind one that ends after the deadline, or after a cancel, is not sent", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 50, outputTokens: 2 });
  const { pool: p, records } = await pool(1, mock.url);
  try {
    // A deadline 10 ms away: the first request ends after it, so its follower is dropped, and so
    // is the one queued behind that follower.
    const first = p.send({ index: 0, body: body(true), stream: true, chained: true });
    const deadline = performance.now() + 10;
    const second = p.sendAfter(
      { index: 1, body: body(true), stream: true, chained: true },
      first,
      deadline,
    );
    const third = p.sendAfter({ index: 2, body: body(true), stream: true }, second, deadline);
    assertEquals([await second, await third], [undefined, undefined]);
    assert((await first).endEpochMs > performance.timeOrigin + deadline);
    // A cancel drops what is queued; what is in flight is recorded as cancelled.
    const ac = new AbortController();
    const a = p.send({ index: 3, body: body(true), stream: true, chained: true }, ac.signal);
    const b = p.sendAfter({ index: 4, body: body(true), stream: true }, a, undefined, ac.signal);
    setTimeout(() => ac.abort(), 20);
    assertEquals(await b, undefined);
    await a;
    await p.close();
    assertEquals(records.map((f) => f.record.index).sort(), [0, 3]);
    assertEquals(records.find((f) => f.record.index === 3)!.record.failure?.kind, "cancelled");
    assertEquals(mock.stats.requests, 2);
  } finally {
    await mock.close();
  }
});

Deno.test("workers: a request queued behind one that has ended already goes at once, its lag from that end", async () => {
  const mock = startMockServer({ port: 0, outputTokens: 2 });
  const { pool: p, records } = await pool(1, mock.url);
  try {
    const first = p.send({ index: 0, body: body(true), stream: true, chained: true });
    const ended = await first;
    await new Promise((r) => setTimeout(r, 30)); // the slot stays empty for 30 ms
    const second = await p.sendAfter(
      { index: 1, body: body(true), stream: true },
      first,
      undefined,
    );
    await p.close();
    const rec = records.find((f) => f.record.index === 1)!.record;
    assert(rec.success && second !== undefined);
    assert(rec.refillLateMs! >= 29 && rec.refillLateMs! < 1000, `${rec.refillLateMs}`);
    assertAlmostEquals(rec.refillLateMs!, second.startEpochMs - ended.endEpochMs, 0.01);
  } finally {
    await mock.close();
  }
});
