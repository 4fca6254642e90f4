/**
 * Volume: a run of 100,000 requests writes exactly 100,000 rows (batched transactions in the DB
 * worker). Takes about 20–40 s on a 2-core machine.
 */
import { assertEquals } from "./assert.ts";
import { onlyRunDir, readJson, runCli, tempDir } from "./helpers/cli.ts";
import { startMockServer } from "../src/mock/server.ts";
import { DatabaseSync } from "node:sqlite";

Deno.test("result DB: 100,000 requests make exactly 100,000 rows", async () => {
  const mock = startMockServer({ port: 0, outputTokens: 1 });
  await using tmp = await tempDir();
  try {
    const r = await runCli([
      "perf",
      `${mock.url}/v1/chat/completions`,
      "--model",
      "m",
      "--prompt",
      "hi",
      "-n",
      "100000",
      "--parallel",
      "64",
      "--log-every-n-query",
      "50000",
      "--outputs-dir",
      tmp.path,
    ]);
    assertEquals(r.code, 0, r.stderr);
    const dir = await onlyRunDir(tmp.path);
    const summary = await readJson(`${dir}/benchmark_summary.json`);
    assertEquals(summary["Total requests"], 100000);
    const db = new DatabaseSync(`${dir}/benchmark_data.db`, { readOnly: true });
    const rows = db.prepare("SELECT COUNT(*) AS c, COUNT(DISTINCT request_id) AS d FROM result")
      .get() as Record<string, number>;
    const ok = db.prepare("SELECT COUNT(*) AS c FROM result WHERE success='True'").get() as Record<
      string,
      number
    >;
    db.close();
    assertEquals(rows.c, 100000);
    assertEquals(rows.d, 100000);
    assertEquals(ok.c, summary["Succeed requests"]);
    assertEquals(mock.stats.requests, 100000 + 1, "every request and the start-up check");
  } finally {
    await mock.close();
  }
});
