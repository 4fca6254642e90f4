/**
 * Accounting under faults: for every fault mode of the mock, at --parallel 1 and 256 and over
 * both transports, every request ends as exactly one record with the expected outcome, and
 * Total = Succeed + Failed = DB rows = requests sent, and the requests the mock received (its
 * own count, which like a real server's includes the start-up check) = DB rows + recorded
 * re-sends (the `retries` column; NULL, unknown, with fetch) + 1 for the check. The check itself
 * goes through because the mock skips its first request (`--fault-skip 1`), not because the
 * mock recognises it.
 */
import { assert, assertEquals } from "./assert.ts";
import { onlyRunDir, readJson, runCli, tempDir } from "./helpers/cli.ts";
import { startMockServer } from "../src/mock/server.ts";
import { FAULT_MODES, type FaultMode } from "../src/mock/faults.ts";
import { DatabaseSync } from "node:sqlite";

/** The failure kinds a mode may produce; empty = the faulted requests succeed. */
const EXPECTED: Record<FaultMode, string[]> = {
  "http-500": ["http"],
  "http-429": ["http"],
  "stall-first": ["connect-timeout", "read-timeout"],
  "slow-headers": [],
  "stall-mid": ["read-timeout"],
  "disconnect-mid": ["network", "protocol"],
  "malformed-json": ["protocol"],
  "error-event": ["server-error"],
  "big-event": [],
  "split-utf8": [],
  "no-done": [],
  "non-sse": ["protocol"],
};

const TRANSPORTS = ["fetch", "socket"];

/**
 * One run against a mock with `mode` on. `probe`: with llmperf's start-up check, which the mock
 * counts like any request and lets through by skipping its first request (`--fault-skip 1`);
 * without, `--no-test-connection` and no skip.
 */
async function scenario(mode: FaultMode, parallel: number, transport: string, probe = true) {
  const requests = parallel === 1 ? 6 : 300;
  const faulted = parallel === 1 ? 2 : 40;
  const mock = startMockServer({
    port: 0,
    itlMs: 1,
    outputTokens: 6,
    faults: {
      faults: [{ mode, amount: faulted }],
      stallMs: 60_000,
      slowMs: 300,
      skip: probe ? 1 : 0,
    },
  });
  await using tmp = await tempDir();
  try {
    const r = await runCli([
      "perf",
      `${mock.url}/v1/chat/completions`,
      "--model",
      "m",
      "--prompt",
      "hello",
      "--stream",
      "-n",
      String(requests),
      "--parallel",
      String(parallel),
      "--transport",
      transport,
      // Stalls need short timeouts to end; the other modes get room for a loaded machine.
      ...(mode.startsWith("stall")
        ? ["--read-timeout", "2", "--connect-timeout", "2"]
        : ["--read-timeout", "60", "--connect-timeout", "60"]),
      "--outputs-dir",
      tmp.path,
      ...(probe ? [] : ["--no-test-connection"]),
    ]);
    const where = `${mode} at --parallel ${parallel} over ${transport}${probe ? "" : " unchecked"}`;
    assertEquals(r.code, 0, `${where}: ${r.stderr}`);
    const dir = await onlyRunDir(tmp.path);
    const s = await readJson(`${dir}/benchmark_summary.json`);
    const db = new DatabaseSync(`${dir}/benchmark_data.db`, { readOnly: true });
    const { rows, retries } = db.prepare(
      "SELECT COUNT(*) AS rows, COALESCE(SUM(retries), 0) AS retries FROM result",
    ).get() as { rows: number; retries: number };
    const kinds = db.prepare(
      "SELECT json_extract(error, '$.kind') AS kind, COUNT(*) AS c FROM result WHERE success='False' GROUP BY kind",
    ).all() as Array<{ kind: string; c: number }>;
    db.close();
    // Every request sent is one record and one row; every one the server received is a row, a
    // recorded re-send, or the start-up check.
    assertEquals(
      mock.stats.requests,
      rows + retries + (probe ? 1 : 0),
      `${where}: requests the mock received`,
    );
    assertEquals(s["Retried requests"], transport === "fetch" ? null : retries, where);
    assertEquals(s["Total requests"], requests, where);
    assertEquals(
      (s["Succeed requests"] as number) + (s["Failed requests"] as number),
      requests,
      where,
    );
    assertEquals(rows, requests, `${where}: DB rows`);
    assertEquals(mock.faults[mode], faulted, `${where}: faults injected`);
    const expected = EXPECTED[mode];
    if (expected.length === 0) {
      assertEquals(s["Failed requests"], 0, `${where}: ${JSON.stringify(kinds)}`);
    } else {
      assertEquals(s["Failed requests"], faulted, `${where}: ${JSON.stringify(kinds)}`);
      for (const k of kinds) {
        assert(expected.includes(k.kind), `${where}: unexpected reason ${k.kind}`);
      }
      assert(r.stdout.includes("Failures:"), `${where}: the reasons table is printed`);
    }
  } finally {
    await mock.close();
  }
}

for (const mode of FAULT_MODES) {
  for (const parallel of [1, 256]) {
    Deno.test(`faults: ${mode} at --parallel ${parallel}: every request accounted for`, async () => {
      for (const transport of TRANSPORTS) await scenario(mode, parallel, transport);
    });
  }
}

Deno.test("faults: without the start-up check (--no-test-connection) nothing is skipped", async () => {
  for (const transport of TRANSPORTS) await scenario("http-500", 1, transport, false);
});
