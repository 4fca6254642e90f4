/**
 * A run in stages (`src/run/`): what `open` opened is taken down however the run ends, and no
 * stage changes the input, the config or the result after the fact.
 */
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { tempDir } from "./helpers/cli.ts";
import { DatabaseSync } from "node:sqlite";
import { resolveConfig } from "../src/config.ts";
import { silentLogger } from "../src/log.ts";
import { startMockServer } from "../src/mock/server.ts";
import { runPerfBenchmark } from "../src/perf.ts";
import type { FinishedRequest } from "../src/records/finished.ts";

Deno.test("run stages: a sink that fails ends the run with its error; the DB is still finished and closed", async () => {
  const mock = startMockServer({ port: 0, outputTokens: 3 });
  await using tmp = await tempDir();
  let seen = 0;
  try {
    await assertRejects(
      () =>
        runPerfBenchmark({
          url: `${mock.url}/v1/chat/completions`,
          model: "m",
          prompt: "hi",
          number: 6,
          parallel: 2,
          stream: true,
          outputsDir: tmp.path,
          name: "broken",
        }, {
          log: silentLogger,
          progress: "log",
          sinks: [{
            write(batch: FinishedRequest[]) {
              seen += batch.length;
              throw new Error("the sink broke");
            },
          }],
        }),
      Error,
      "the sink broke",
    );
    assert(seen > 0);
    // The sinks before it got every request, and the teardown finished the DB's run row.
    const db = new DatabaseSync(`${tmp.path}/broken/benchmark_data.db`, { readOnly: true });
    const rows = (db.prepare("SELECT COUNT(*) AS n FROM result").get() as { n: number }).n;
    const run = db.prepare("SELECT ended_at, requests FROM run").get() as Record<string, unknown>;
    db.close();
    assertEquals(rows, 6);
    assertEquals(run.requests, 6);
    assert(typeof run.ended_at === "number", "the run row has its end time");
  } finally {
    await mock.close();
  }
});

Deno.test("run stages: the input and the resolved config are left as given; the template's stream is in the result", async () => {
  const mock = startMockServer({ port: 0, outputTokens: 2 });
  await using tmp = await tempDir();
  try {
    const input = {
      url: `${mock.url}/v1/chat/completions`,
      model: "m",
      prompt: "hi",
      number: 2,
      outputsDir: tmp.path,
      queryTemplate: { model: "%m", messages: [], stream: true },
      slo: "ttft_p99<60s",
    };
    const copy = structuredClone(input);
    const r = await runPerfBenchmark(input, { log: silentLogger, progress: "log" });
    assertEquals(input, copy);
    assertEquals(resolveConfig(input).stream, false, "resolving alone does not stream");
    assertEquals(r.config.stream, true, "the template switched streaming on");
    assertEquals(r.slo?.passed, true);
    assertEquals(r.requestSummary["Goodput (req/s)"], r.slo?.goodput);
    assertEquals(r.errors, []);
  } finally {
    await mock.close();
  }
});
