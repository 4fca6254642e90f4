/**
 * Where the time went, per request: the client's queueing (`--rate`: scheduled → sent, with the
 * wait for a free `--parallel` slot; closed loop: the slot's wait), TCP connect and TLS handshake
 * on requests that opened a connection, time to the response headers, TTFT, and the latency with
 * the client's queueing included. Ground truth: a stub that holds its headers and its first event
 * for known times, the mock's known TTFT, and the schedule the DB stores beside each send.
 *
 * @module
 */
import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import { DatabaseSync } from "node:sqlite";
import { MetricsCollector, MODERN_KEYS, REQUEST_COLUMNS } from "../src/metrics/collector.ts";
import { type MetricsInput, requestMetrics } from "../src/metrics/request_metrics.ts";
import { startMockServer } from "../src/mock/server.ts";
import { block, runCli, tempDir } from "./helpers/cli.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { chunk, LAST_CHUNK, rawServer, SSE_HEAD } from "./helpers/raw_http.ts";
import { makeTestCerts } from "./helpers/tls.ts";

/** A row's breakdown columns, seconds (NULL where none). */
interface TimeRow {
  request_id: number;
  success: string;
  start_time: number;
  completed_time: number;
  scheduled_time: number | null;
  latency: number;
  ttft: number;
  client_queue_time: number | null;
  e2el_including_client_queue: number | null;
  connect_time: number | null;
  tls_time: number | null;
  time_to_headers: number | null;
}

const TIME_SQL =
  "SELECT request_id, success, start_time, completed_time, scheduled_time, latency, " +
  "ttft, client_queue_time, e2el_including_client_queue, connect_time, tls_time, " +
  "time_to_headers FROM result ORDER BY start_time";

/** The definitional checks every successful row passes. */
function checkDefinitions(rows: TimeRow[]): void {
  for (const r of rows) {
    const at = `request ${r.request_id}`;
    assert(r.client_queue_time !== null && r.client_queue_time >= 0, at);
    // Exactly latency + queue (one addition in doubles).
    assertEquals(r.e2el_including_client_queue, r.latency + r.client_queue_time!, at);
    const headers = r.time_to_headers;
    assert(headers !== null && headers >= 0, at);
    assert(headers <= r.ttft + 1e-9, `${at}: headers come before the first token`);
    assert(r.ttft <= r.latency + 1e-9, at);
    if (r.connect_time !== null) {
      assert(r.connect_time >= 0 && r.connect_time < headers, `${at}: set-up first`);
    }
  }
}

Deno.test("time breakdown: the definitions, from a record", () => {
  const base: MetricsInput = {
    index: 0,
    stream: true,
    timeOriginMs: 1_000_000,
    startMs: 500,
    endMs: 1500,
    status: 200,
    success: true,
    chunkTimesMs: [800, 1000, 1400],
  };
  // --rate: sent 250 ms after its scheduled time; it opened a TLS connection.
  const rate = requestMetrics({
    ...base,
    scheduledMs: 250,
    headersAtMs: 700,
    connectMs: 12,
    tlsMs: 30,
  });
  assertEquals(rate.clientQueueS, 0.25);
  assertEquals(rate.latencyWithQueueS, 1.25);
  assertEquals([rate.connectS, rate.tlsS, rate.headersS, rate.ttftS], [0.012, 0.03, 0.2, 0.3]);
  // Sent early by a clock-conversion hair: no negative queue.
  assertEquals(requestMetrics({ ...base, scheduledMs: 500.4 }).clientQueueS, 0);
  // Closed loop: the slot's wait; a slot's first request waited for nothing.
  const refill = requestMetrics({ ...base, refillLateMs: 40 });
  assertEquals([refill.clientQueueS, refill.latencyWithQueueS], [0.04, 1.04]);
  const first = requestMetrics(base);
  assertEquals([first.clientQueueS, first.latencyWithQueueS], [0, 1]);
  // A kept-alive connection: no set-up; no headers: no time to them.
  assertEquals([first.connectS, first.tlsS, first.headersS], [undefined, undefined, undefined]);
});

Deno.test("time breakdown: the collector's rows, with and without the client's queueing", () => {
  const c = new MetricsCollector();
  for (let i = 0; i < 10; i++) {
    c.add(requestMetrics({
      index: i,
      stream: false,
      timeOriginMs: 0,
      startMs: 1000 * i,
      endMs: 1000 * i + 100,
      status: 200,
      success: true,
      chunkTimesMs: [1000 * i + 100],
      scheduledMs: 1000 * i - 50 * i, // each sent 50 ms later than the one before
      headersAtMs: 1000 * i + 20,
      connectMs: i < 2 ? 5 : undefined, // two requests opened connections
    }));
  }
  const s = c.modernSummary();
  assertAlmostEquals(s[MODERN_KEYS.meanQueue] as number, 225, 1e-9); // 50 · mean(0..9)
  assertAlmostEquals(s[MODERN_KEYS.meanLatency] as number, 0.1, 1e-9);
  assertAlmostEquals(s[MODERN_KEYS.meanLatencyWithQueue] as number, 0.325, 1e-9);
  assertAlmostEquals(s[MODERN_KEYS.meanHeaders] as number, 20, 1e-9);
  assertEquals(s[MODERN_KEYS.connectionsOpened], 2);
  assertAlmostEquals(s[MODERN_KEYS.meanConnect] as number, 5, 1e-9);
  assertEquals(s[MODERN_KEYS.meanTls], null);
  // Linear interpolation over 0.1 + 0.05·i s: p99 = 0.1 + 0.45 · 0.99.
  const p99 = c.requestPercentiles().find((r) => r.Percentile === "99%")!;
  assertAlmostEquals(p99[REQUEST_COLUMNS.latencyWithQueue] as number, 0.5455, 1e-9);
  assertAlmostEquals(p99[REQUEST_COLUMNS.latency] as number, 0.1, 1e-9);
});

Deno.test("time breakdown [socket]: headers held 300 ms, first token 400 ms later; one connection", async () => {
  const HEADERS_MS = 300;
  const FIRST_MS = 400;
  const server = await rawServer(async (r) => {
    await r.pause(HEADERS_MS);
    await r.write(SSE_HEAD);
    await r.pause(FIRST_MS);
    await r.write(
      [
        '{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}',
        '{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}',
        '{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}',
        "[DONE]",
      ].map((d) => chunk(`data: ${d}\n\n`)).join("") + LAST_CHUNK,
    );
  });
  try {
    await using r = await perfRun({
      server,
      flags: { stream: true, number: 3, parallel: 1, transport: "socket", noTestConnection: true },
    });
    assertEquals(r.code, 0, r.stderr);
    const rows = r.sql<TimeRow>(TIME_SQL);
    assertEquals(rows.length, 3);
    checkDefinitions(rows);
    for (const row of rows) {
      // Generous bounds that still catch a wrong start or end.
      assert(row.time_to_headers! >= (HEADERS_MS - 20) / 1000, `${row.time_to_headers}`);
      assert(row.time_to_headers! < 3, `${row.time_to_headers}`);
      assert(row.ttft >= (HEADERS_MS + FIRST_MS - 20) / 1000, `${row.ttft}`);
      // Headers stamped when they came, not with the first token (a stalled loop may eat some).
      assert(row.ttft - row.time_to_headers! >= 0.1, `${row.ttft} vs ${row.time_to_headers}`);
      assertEquals(row.tls_time, null, "http: no TLS");
    }
    assertEquals(server.connections, 1, "one kept-alive connection");
    assertEquals(rows.map((x) => x.connect_time !== null), [true, false, false]);
    // Closed loop: no schedule; the first request waited for nothing, the others for the refill.
    assertEquals(rows.map((x) => x.scheduled_time), [null, null, null]);
    assertEquals(rows[0].client_queue_time, 0);
    for (const x of rows.slice(1)) assert(x.client_queue_time! < 5, `${x.client_queue_time}`);
    assertEquals(r.summary[MODERN_KEYS.connectionsOpened], 1);
  } finally {
    await server.close();
  }
});

Deno.test("time breakdown [fetch]: headers and TTFT measured; connect and TLS unknown (NULL)", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 100, itlMs: 5, outputTokens: 3 });
  try {
    await using r = await perfRun({
      server: mock,
      flags: { stream: true, number: 3, parallel: 1, transport: "fetch" },
    });
    assertEquals(r.code, 0, r.stderr);
    const rows = r.sql<TimeRow>(TIME_SQL);
    checkDefinitions(rows);
    assertEquals(rows.map((x) => [x.connect_time, x.tls_time]), [[null, null], [null, null], [
      null,
      null,
    ]]);
    assertEquals(r.summary[MODERN_KEYS.connectionsOpened], 0);
    assertEquals(r.summary[MODERN_KEYS.meanConnect], null);
  } finally {
    await mock.close();
  }
});

Deno.test("time breakdown: --rate faster than one slot serves queues the client; the schedule says how much", async () => {
  const TTFT_MS = 150;
  const N = 8;
  const mock = startMockServer({ port: 0, ttftMs: TTFT_MS, itlMs: 5, outputTokens: 3 });
  try {
    // 50 req/s against one slot that takes at least 150 ms a request: each waits for the last.
    await using r = await perfRun({
      server: mock,
      flags: { stream: true, number: N, parallel: 1, rate: 50, seed: 7 },
    });
    assertEquals(r.code, 0, r.stderr);
    const rows = r.sql<TimeRow>(TIME_SQL);
    assertEquals(rows.length, N);
    checkDefinitions(rows);
    const first = rows[0].scheduled_time!;
    for (let i = 0; i < N; i++) {
      const row = rows[i];
      // The queue is the send's lateness against its own schedule, in the one clock.
      assertAlmostEquals(row.client_queue_time!, row.start_time - row.scheduled_time!, 1e-6);
      if (i > 0) {
        // One slot: sent only after the previous request completed, and each takes ≥ TTFT.
        assert(row.start_time >= rows[i - 1].completed_time - 1e-3, `request ${i}`);
        const due = row.scheduled_time! - first;
        assert(
          row.client_queue_time! >= i * (TTFT_MS * 0.9) / 1000 - due - 0.02,
          `request ${i}: queued ${row.client_queue_time} s, due at +${due} s`,
        );
      }
    }
    // Coordinated omission shows: the latency with the queue is far above the latency alone.
    const pct = r.percentiles.find((p) => p["Percentile"] === "99%")!;
    const withQueue = pct[REQUEST_COLUMNS.latencyWithQueue] as number;
    const without = pct[REQUEST_COLUMNS.latency] as number;
    assert(withQueue - without > 0.3, `p99 ${withQueue} s with the queue, ${without} s without`);
    assert(r.stdout.includes("Where the time went"), r.stdout);
    const mean = rows.reduce((s, x) => s + x.client_queue_time!, 0) / N;
    assertAlmostEquals(r.summary[MODERN_KEYS.meanQueue] as number, mean * 1000, 1e-6);

    // `llmperf report` recomputes the same tables from the DB alone.
    const rep = await runCli(["report", r.dir]);
    assertEquals(rep.code, 0, rep.stderr);
    for (const title of ["Per-request metrics summary:", "Where the time went"]) {
      assertEquals(block(rep.stdout, title), block(r.stdout, title));
    }
    // And from a DB without the new columns (older llmperf): the queue from the schedule.
    await using tmp = await tempDir();
    const old = `${tmp.path}/benchmark_data.db`;
    await Deno.copyFile(`${r.dir}/benchmark_data.db`, old);
    const db = new DatabaseSync(old);
    for (const c of ["client_queue_time", "e2el_including_client_queue"]) {
      db.exec(`ALTER TABLE result DROP COLUMN ${c}`);
    }
    db.close();
    const fromOld = JSON.parse((await runCli(["report", old, "--json"])).stdout);
    // Epoch seconds in a double keep about 0.2 µs: the difference of two loses that much.
    assertAlmostEquals(fromOld.requestSummary[MODERN_KEYS.meanQueue], mean * 1000, 1e-3);
  } finally {
    await mock.close();
  }
});

Deno.test("time breakdown [socket]: https connections time their TCP connect and TLS handshake", async () => {
  await using dir = await tempDir();
  const certs = await makeTestCerts(dir.path);
  const mock = startMockServer({
    port: 0,
    ttftMs: 50,
    itlMs: 5,
    outputTokens: 3,
    tls: { cert: certs.cert, key: certs.key },
  });
  try {
    await using r = await perfRun({
      server: mock,
      flags: { stream: true, number: 6, parallel: 2, caCert: certs.caPath, transport: "socket" },
    });
    assertEquals(r.code, 0, r.stderr);
    const rows = r.sql<TimeRow>(TIME_SQL);
    checkDefinitions(rows);
    const opened = rows.filter((x) => x.connect_time !== null);
    assertEquals(opened.length, 2, "two slots, two connections");
    for (const x of rows) assertEquals(x.tls_time !== null, x.connect_time !== null);
    for (const x of opened) {
      assert(x.tls_time! > 0 && x.tls_time! < 5, `${x.tls_time}`);
      // The send's clock started before the connect: headers include the whole set-up.
      assert(x.time_to_headers! >= x.connect_time! + x.tls_time!, JSON.stringify(x));
    }
    const s = r.summary;
    assertEquals(s[MODERN_KEYS.connectionsOpened], 2);
    const meanTls = opened.reduce((a, x) => a + x.tls_time!, 0) / 2 * 1000;
    assertAlmostEquals(s[MODERN_KEYS.meanTls] as number, meanTls, 1e-6);
    const rep = JSON.parse((await runCli(["report", r.dir, "--json"])).stdout);
    assertAlmostEquals(rep.requestSummary[MODERN_KEYS.meanTls], meanTls, 1e-6);
    assertEquals(rep.requestSummary[MODERN_KEYS.connectionsOpened], 2);
  } finally {
    await mock.close();
  }
});
