/**
 * Timeouts end requests with their own reason, over both transports, and a stalled server never
 * hangs the run.
 */
import { assert, assertEquals } from "./assert.ts";
import { type PerfFlags, perfRun } from "./helpers/perf_run.ts";
import { startMockServer } from "../src/mock/server.ts";

/** Four streamed requests at once, no start-up check: each one's failure kind, and the time. */
async function reasons(url: string, transport: "socket" | "fetch", flags: PerfFlags) {
  await using r = await perfRun({
    url,
    flags: { stream: true, number: 4, parallel: 4, transport, noTestConnection: true, ...flags },
  });
  assertEquals(r.code, 0, r.stderr);
  const kinds = r.sql<{ k: string | null }>("SELECT json_extract(error, '$.kind') AS k FROM result")
    .map((x) => x.k);
  return { kinds, seconds: r.seconds };
}

for (const transport of ["socket", "fetch"] as const) {
  Deno.test(`timeouts [${transport}]: --total-timeout ends a slow stream`, async () => {
    const mock = startMockServer({ port: 0, itlMs: 200, outputTokens: 30 }); // 5.8 s per reply
    try {
      const r = await reasons(`${mock.url}/v1/chat/completions`, transport, {
        totalTimeout: 1,
        readTimeout: 10,
      });
      assertEquals(r.kinds, ["total-timeout", "total-timeout", "total-timeout", "total-timeout"]);
      assert(r.seconds < 5.5, `took ${r.seconds} s`);
    } finally {
      await mock.close();
    }
  });

  Deno.test(`timeouts [${transport}]: --read-timeout ends a stream gone silent`, async () => {
    const mock = startMockServer({ port: 0, itlMs: 3000, outputTokens: 3 }); // 3 s between tokens
    try {
      const r = await reasons(`${mock.url}/v1/chat/completions`, transport, { readTimeout: 1 });
      assertEquals(r.kinds, ["read-timeout", "read-timeout", "read-timeout", "read-timeout"]);
      assert(r.seconds < 5.5, `took ${r.seconds} s`);
    } finally {
      await mock.close();
    }
  });

  Deno.test(`timeouts [${transport}]: a server that never answers hits the connect or read limit`, async () => {
    const mock = startMockServer({
      port: 0,
      faults: { faults: [{ mode: "stall-first", amount: 4 }], stallMs: 60_000 },
    });
    try {
      const r = await reasons(`${mock.url}/v1/chat/completions`, transport, {
        readTimeout: 1,
        connectTimeout: 1,
      });
      // fetch cannot tell connecting from waiting for headers: connect-timeout (after connect +
      // read); the socket transport knows it is connected: read-timeout.
      const want = transport === "fetch" ? "connect-timeout" : "read-timeout";
      assertEquals(r.kinds, [want, want, want, want]);
      assert(r.seconds < 6, `took ${r.seconds} s`);
    } finally {
      await mock.close();
    }
  });
}
