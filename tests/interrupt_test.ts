/**
 * Interruption: the first SIGINT stops sending, cancels what is in flight (recorded as
 * `cancelled`), flushes every row, prints the summary and exits 130; a second one exits at once,
 * leaving a DB that opens and holds every row committed so far.
 */
import { assert, assertEquals } from "./assert.ts";
import { onlyRunDir, ROOT_DIR, tempDir } from "./helpers/cli.ts";
import { startMockServer } from "../src/mock/server.ts";
import { DatabaseSync } from "node:sqlite";

function spawnPerf(url: string, outputs: string) {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${ROOT_DIR}/main.ts`,
      "perf",
      `${url}/v1/chat/completions`,
      "--model",
      "m",
      "--prompt",
      "hello",
      "--parallel",
      "4",
      "-n",
      "100",
      "--stream",
      "--outputs-dir",
      outputs,
    ],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function waitForRows(dir: string, n: number, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    try {
      const run = await onlyRunDir(dir);
      const db = new DatabaseSync(`${run}/benchmark_data.db`, { readOnly: true });
      const c = (db.prepare("SELECT COUNT(*) AS c FROM result").get() as { c: number }).c;
      db.close();
      if (c >= n) return;
    } catch { /* not there yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`fewer than ${n} rows after ${timeoutMs} ms`);
}

function count(db: DatabaseSync, where = "1=1"): number {
  return (db.prepare(`SELECT COUNT(*) AS c FROM result WHERE ${where}`).get() as { c: number }).c;
}

Deno.test("interrupt: SIGINT cancels in-flight requests, records them, prints the summary, exits 130", async () => {
  // Each request takes 0.1 + 19 × 0.05 = 1.05 s; 4 in flight.
  const mock = startMockServer({ port: 0, ttftMs: 100, itlMs: 50, outputTokens: 20 });
  await using tmp = await tempDir();
  try {
    const child = spawnPerf(mock.url, tmp.path);
    await waitForRows(tmp.path, 4, 20000); // the first wave is done and written
    await new Promise((r) => setTimeout(r, 300)); // the second wave is in flight
    child.kill("SIGINT");
    const out = await child.output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 130, stderr);
    assert(stdout.includes("Benchmarking summary:"), stdout);
    const total = Number(/\| Total requests +\| (\d+)/.exec(stdout)?.[1]);
    const ok = Number(/\| Succeed requests +\| (\d+)/.exec(stdout)?.[1]);
    assert(total >= 8 && total < 100, `total ${total}`);
    assert(ok >= 4 && ok < total, `succeeded ${ok} of ${total}`);
    assert(/\| cancelled +\| +\d+ \|/.test(stdout), stdout);
    const db = new DatabaseSync(`${await onlyRunDir(tmp.path)}/benchmark_data.db`, {
      readOnly: true,
    });
    assertEquals(count(db), total);
    assertEquals(count(db, "success='True'"), ok);
    assertEquals(
      count(db, `success='False' AND json_extract(error, '$.kind') = 'cancelled'`),
      total - ok,
    );
    const run = db.prepare("SELECT interrupted, requests FROM run").get() as Record<string, number>;
    db.close();
    assertEquals(run.interrupted, 1);
    assertEquals(run.requests, total);
  } finally {
    await mock.close();
  }
});

Deno.test("interrupt: a second SIGINT exits at once; the DB opens and keeps the committed rows", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 100, itlMs: 50, outputTokens: 20 });
  await using tmp = await tempDir();
  try {
    const child = spawnPerf(mock.url, tmp.path);
    await waitForRows(tmp.path, 4, 20000);
    child.kill("SIGINT");
    child.kill("SIGINT");
    const out = await child.output();
    assertEquals(out.code, 130);
    const db = new DatabaseSync(`${await onlyRunDir(tmp.path)}/benchmark_data.db`, {
      readOnly: true,
    });
    assert(count(db) >= 4);
    assertEquals(count(db, "success='True'") >= 4, true);
    db.close();
  } finally {
    await mock.close();
  }
});
