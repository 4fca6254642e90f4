/**
 * Volume: a run of 100,000 requests writes exactly 100,000 rows (batched transactions in the DB
 * worker). Takes about 20–40 s on a 2-core machine.
 */
import { assertEquals } from "./assert.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { startMockServer } from "../src/mock/server.ts";

Deno.test("result DB: 100,000 requests make exactly 100,000 rows", async () => {
  const mock = startMockServer({ port: 0, outputTokens: 1 });
  try {
    await using r = await perfRun({
      server: mock,
      flags: { number: 100000, parallel: 64, logEveryNQuery: 50000 },
    });
    assertEquals(r.code, 0, r.stderr);
    const summary = r.summary;
    assertEquals(summary["Total requests"], 100000);
    const [rows] = r.sql<Record<string, number>>(
      "SELECT COUNT(*) AS c, COUNT(DISTINCT request_id) AS d FROM result",
    );
    const [ok] = r.sql<Record<string, number>>(
      "SELECT COUNT(*) AS c FROM result WHERE success='True'",
    );
    assertEquals(rows.c, 100000);
    assertEquals(rows.d, 100000);
    assertEquals(ok.c, summary["Succeed requests"]);
    assertEquals(mock.stats.requests, 100000 + 1, "every request and the start-up check");
  } finally {
    await mock.close();
  }
});
