/**
 * Reused keep-alive connections that the server drops, and what each transport re-sends: the
 * socket transport re-sends only when the connection was closed before the request could reach
 * the server (within a few ms of the write) and counts each re-send; a server that held the
 * request first gets a failure, never a silent second request. Deno's fetch re-sends once
 * whatever the hold, and cannot say so: these tests pin that down. The stub counts what it read.
 */
import { assert, assertEquals } from "./assert.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { chunk, LAST_CHUNK, type RawReply, rawServer, SSE_HEAD } from "./helpers/raw_http.ts";
import { sendOne, TEST_TIMEOUTS, withStub } from "./helpers/transports.ts";
import { SocketTransport } from "../src/transport/socket.ts";

const OK = SSE_HEAD + chunk('data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\n') +
  chunk("data: [DONE]\n\n") + LAST_CHUNK;

/** Answer the first request on each connection; drop (FIN or RST) every later one after `holdMs`. */
function dropReused(holdMs: number, how: "close" | "reset") {
  return async (r: RawReply) => {
    if (r.seq === 0) return await r.write(OK);
    if (holdMs > 0) await r.pause(holdMs);
    if (how === "close") r.close();
    else r.reset();
  };
}

for (const how of ["close", "reset"] as const) {
  Deno.test(`keep-alive [socket]: a reused connection dropped (${how}) at once is re-sent, counted`, async () => {
    // A window far wider than the default, so that a loaded machine cannot make "at once" late.
    const socket = () => new SocketTransport({ timeouts: TEST_TIMEOUTS, staleCloseMs: 500 });
    await withStub(socket, dropReused(0, how), async (url, t, server) => {
      const recs = [];
      for (let i = 0; i < 4; i++) recs.push((await sendOne(t, url)).rec);
      for (const r of recs) assert(r.success, JSON.stringify(r.failure));
      assertEquals(recs.map((r) => r.retries), [0, 1, 1, 1]);
      const retries = recs.reduce((n, r) => n + r.retries!, 0);
      // The stub read each dropped request: requests received = records + re-sends.
      assertEquals(server.requests.length, recs.length + retries);
      assertEquals(server.connections, 4);
    });
  });

  Deno.test(`keep-alive [socket]: a reused connection dropped (${how}) after 1 s is a failure, not a re-send`, async () => {
    await withStub("socket", dropReused(1000, how), async (url, t, server) => {
      const a = await sendOne(t, url);
      const b = await sendOne(t, url);
      const c = await sendOne(t, url);
      assert(a.rec.success && c.rec.success, JSON.stringify([a.rec.failure, c.rec.failure]));
      assert(!b.rec.success);
      assertEquals(b.rec.failure?.kind, "network");
      assert(
        /ms after the request, without a response/.test(b.rec.failure!.message),
        b.rec.failure!.message,
      );
      assertEquals([a.rec.retries, b.rec.retries, c.rec.retries], [0, 0, 0]);
      assertEquals(server.requests.length, 3, "one request each, nothing re-sent");
    });
  });
}

Deno.test("keep-alive [socket]: a connection the server closed while idle is never used", async () => {
  // The server closes after each response, as an idle timeout does; the pool sees it (an idle
  // connection keeps a read pending), so the next request opens a fresh one: nothing to re-send.
  await withStub("socket", async (r) => {
    await r.write(OK);
    r.close();
  }, async (url, t, server) => {
    const a = await sendOne(t, url);
    await new Promise((r) => setTimeout(r, 30));
    const b = await sendOne(t, url);
    assert(a.rec.success && b.rec.success, JSON.stringify([a.rec.failure, b.rec.failure]));
    assertEquals([a.rec.retries, b.rec.retries], [0, 0]);
    assertEquals([server.requests.length, server.connections], [2, 2]);
  });
});

Deno.test("keep-alive [socket]: bytes an idle connection receives unasked end it", async () => {
  // Some servers write a 408 on an idle connection before closing it: never read as an answer.
  await withStub("socket", async (r) => {
    await r.write(OK);
    await r.pause(5);
    await r.write("HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\n\r\n");
  }, async (url, t, server) => {
    const a = await sendOne(t, url);
    await new Promise((r) => setTimeout(r, 30));
    const b = await sendOne(t, url);
    assert(a.rec.success && b.rec.success, JSON.stringify([a.rec.failure, b.rec.failure]));
    assertEquals([b.rec.status, server.connections], [200, 2]);
  });
});

Deno.test("keep-alive [socket]: a fresh connection dropped without a response is never re-sent", async () => {
  await withStub("socket", (r) => Promise.resolve(r.close()), async (url, t, server) => {
    const { rec } = await sendOne(t, url);
    assertEquals(rec.failure?.kind, "network");
    assertEquals(rec.retries, 0);
    assertEquals(server.requests.length, 1);
  });
});

// These pin down what Deno's fetch does today (2.9); if one fails, Deno changed: update the
// fetch section of docs/reliability.md and the note in src/transport/fetch.ts with it.
const DENO_CHANGED = "Deno's fetch no longer re-sends silently: update docs/reliability.md";

Deno.test("keep-alive [fetch]: Deno re-sends on a reused connection dropped at once, unseen", async () => {
  await withStub("fetch", dropReused(0, "close"), async (url, t, server) => {
    const recs = [];
    for (let i = 0; i < 3; i++) recs.push((await sendOne(t, url)).rec);
    assertEquals(recs.map((r) => r.retries), [undefined, undefined, undefined], "unknown");
    assert(recs.every((r) => r.success), DENO_CHANGED);
    // Each request after the first went out on a reused connection, was dropped, and went out
    // again on a fresh one: 3 records, 5 requests received, nothing to count them by.
    assertEquals(server.requests.length, 5, DENO_CHANGED);
  });
});

Deno.test("keep-alive [fetch]: Deno re-sends on a reused connection dropped after 1 s, unseen", async () => {
  await withStub("fetch", dropReused(1000, "close"), async (url, t, server) => {
    const a = await sendOne(t, url);
    const b = await sendOne(t, url);
    assert(a.rec.success && b.rec.success, DENO_CHANGED);
    assertEquals(server.requests.length, 3, DENO_CHANGED);
    // The held attempt hides inside the one record: time to headers includes the hold.
    assert(b.rec.headersAtMs! - b.rec.startMs >= 1000, "the time includes the held attempt");
    assertEquals(b.rec.retries, undefined);
  });
});

// --- the whole run: DB rows, the retries column and the summary's count ---

const CHAT = SSE_HEAD +
  [
    '{"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}',
    '{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}',
    '{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}',
    '{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}',
    "[DONE]",
  ].map((d) => chunk(`data: ${d}\n\n`)).join("") + LAST_CHUNK;

async function run(transport: "socket" | "fetch", holdMs: number, n: number) {
  const server = await rawServer(async (r) => {
    if (r.seq === 0) return await r.write(CHAT);
    if (holdMs > 0) await r.pause(holdMs);
    r.close();
  });
  try {
    await using r = await perfRun({
      server,
      flags: { stream: true, number: n, parallel: 1, transport, noTestConnection: true },
    });
    assertEquals(r.code, 0, r.stderr);
    const rows = r.sql<{ success: string; retries: number | null }>(
      "SELECT success, retries FROM result",
    );
    return { r, summary: r.summary, rows, received: server.requests.length };
  } finally {
    await server.close();
  }
}

Deno.test("keep-alive [run]: requests the server received = DB rows + recorded retries", async () => {
  // Dropped at once: re-sent (counted), or, on a machine too loaded to see it within a few ms,
  // recorded as a failure; either way nothing the server received goes missing.
  const quick = await run("socket", 0, 6);
  assertEquals(quick.rows.length, 6);
  const retries = quick.rows.reduce((n, row) => n + (row.retries ?? NaN), 0);
  assertEquals(quick.received, quick.rows.length + retries);
  assertEquals(quick.summary["Retried requests"], retries);
  assert(quick.r.stdout.includes("| Retried requests"), "printed with llmperf's own rows");
  // Held for 1 s first: a failure, never a silent second request.
  const held = await run("socket", 1000, 3);
  assertEquals(held.rows.map((row) => [row.success, row.retries]), [
    ["True", 0],
    ["False", 0],
    ["True", 0],
  ]);
  assertEquals(held.received, 3);
  assertEquals(held.summary["Retried requests"], 0);
});

Deno.test("keep-alive [run]: with fetch, retries are unknown (NULL, n/a)", async () => {
  const f = await run("fetch", 0, 3);
  assertEquals(f.rows.map((row) => row.retries), [null, null, null]);
  assertEquals(f.summary["Retried requests"], null);
  assertEquals(f.received, 5, "Deno re-sent two requests that llmperf cannot see");
});
