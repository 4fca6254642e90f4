/**
 * Timeouts end requests with their own reason, over both transports, and a stalled server never
 * hangs the run.
 */
import { assert, assertEquals } from "./assert.ts";
import { onlyRunDir, runCli, tempDir } from "./helpers/cli.ts";
import { startMockServer } from "../src/mock/server.ts";
import { DatabaseSync } from "node:sqlite";

async function reasons(url: string, transport: string, extra: string[]) {
  await using tmp = await tempDir();
  const t0 = performance.now();
  const r = await runCli([
    "perf",
    url,
    "--model",
    "m",
    "--prompt",
    "hi",
    "--stream",
    "-n",
    "4",
    "--parallel",
    "4",
    "--transport",
    transport,
    "--no-test-connection",
    "--outputs-dir",
    tmp.path,
    ...extra,
  ]);
  const seconds = (performance.now() - t0) / 1000;
  assertEquals(r.code, 0, r.stderr);
  const db = new DatabaseSync(`${await onlyRunDir(tmp.path)}/benchmark_data.db`, {
    readOnly: true,
  });
  const kinds = (db.prepare("SELECT json_extract(error, '$.kind') AS k FROM result").all() as Array<
    { k: string | null }
  >)
    .map((x) => x.k);
  db.close();
  return { kinds, seconds };
}

for (const transport of ["socket", "fetch"]) {
  Deno.test(`timeouts [${transport}]: --total-timeout ends a slow stream`, async () => {
    const mock = startMockServer({ port: 0, itlMs: 200, outputTokens: 30 }); // 5.8 s per reply
    try {
      const r = await reasons(`${mock.url}/v1/chat/completions`, transport, [
        "--total-timeout",
        "1",
        "--read-timeout",
        "10",
      ]);
      assertEquals(r.kinds, ["total-timeout", "total-timeout", "total-timeout", "total-timeout"]);
      assert(r.seconds < 5.5, `took ${r.seconds} s`);
    } finally {
      await mock.close();
    }
  });

  Deno.test(`timeouts [${transport}]: --read-timeout ends a stream gone silent`, async () => {
    const mock = startMockServer({ port: 0, itlMs: 3000, outputTokens: 3 }); // 3 s between tokens
    try {
      const r = await reasons(`${mock.url}/v1/chat/completions`, transport, [
        "--read-timeout",
        "1",
      ]);
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
      const r = await reasons(`${mock.url}/v1/chat/completions`, transport, [
        "--read-timeout",
        "1",
        "--connect-timeout",
        "1",
      ]);
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
