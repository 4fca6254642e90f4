/**
 * Several endpoints end to end (`--url` given more than once): two or three mock servers with
 * different, known TTFTs, the real CLI, and the split checked against what the mocks received
 * and what the result DB says: round-robin exact (request i to endpoint i mod N), least-in-flight
 * sending more to the faster replica, each endpoint's mean TTFT matching its mock's, `llmperf
 * report` and `llmperf merge` giving the same per-endpoint rows, and a single `--url` run left as
 * it was (no per-endpoint table, no new settings written).
 */
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { readJson, runCli, tempDir } from "./helpers/cli.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { startMockServer } from "../src/mock/server.ts";

const PATH = "/v1/chat/completions";

/** The `--url` flags of each mock, in order. */
function urlArgs(mocks: readonly { url: string }[]): string[] {
  return mocks.flatMap((m) => ["--url", `${m.url}${PATH}`]);
}

type Row = Record<string, string | number | null>;

/**
 * The same rows, numbers equal to 1e-12 relative: the report sums the DB's rows in their stored
 * order, the run summed the records in the order they reached it (two workers: not the same), so
 * a mean may differ in its last bits.
 */
function assertSameRows(actual: Row[], expected: Row[]): void {
  assertEquals(
    actual.map((r) => Object.keys(r).sort()),
    expected.map((r) => Object.keys(r).sort()),
  );
  actual.forEach((row, i) => {
    for (const [k, v] of Object.entries(row)) {
      const e = expected[i][k];
      if (typeof v === "number" && typeof e === "number") {
        assert(Math.abs(v - e) <= 1e-12 * Math.max(1, Math.abs(e)), `${k}: ${v} against ${e}`);
      } else assertEquals(v, e, k);
    }
  });
}

Deno.test("round-robin over three endpoints: request i goes to endpoint i mod 3, exactly", async () => {
  const mocks = [10, 40, 80].map((ttftMs) =>
    startMockServer({ port: 0, ttftMs, itlMs: 2, outputTokens: 4 })
  );
  try {
    const number = 30;
    await using r = await perfRun({
      args: urlArgs(mocks),
      flags: { number, parallel: 4, stream: true, workers: 2 },
    });
    assertEquals(r.code, 0, r.stderr);
    const names = mocks.map((m) => `${m.url}${PATH}`);
    const rows = r.sql<{ request_id: number; endpoint: string }>(
      "SELECT request_id, endpoint FROM result",
    );
    assertEquals(rows.length, number);
    for (const row of rows) {
      assertEquals(row.endpoint, names[row.request_id % 3], `${row.request_id}`);
    }
    // Each mock got its ten, and the start-up check's one request.
    assertEquals(mocks.map((m) => m.stats.requests), [11, 11, 11]);
    const table = await readJson<Row[]>(`${r.dir}/benchmark_endpoints.json`);
    assertEquals(table.map((t) => t["Endpoint"]), names);
    assertEquals(table.map((t) => t["Requests"]), [10, 10, 10]);
    assertEquals(table.map((t) => t["Failed"]), [0, 0, 0]);
    // The rows add up to the run's output throughput (each is its share, over the run).
    const sum = table.reduce((s, t) => s + (t["Output token throughput (tok/s)"] as number), 0);
    const total = r.summary["Output token throughput (tok/s)"] as number;
    assert(Math.abs(sum - total) < 1e-6 * total, `${sum} vs ${total}`);
    assert(r.stdout.includes("Per-endpoint metrics:"), r.stdout);
    assert(r.stderr.includes("checking the 3 endpoints"), r.stderr);
  } finally {
    await Promise.all(mocks.map((m) => m.close()));
  }
});

Deno.test("round-robin from the main thread (--workers 0) over fetch: the same exact split", async () => {
  const mocks = [5, 15].map((ttftMs) =>
    startMockServer({ port: 0, ttftMs, itlMs: 1, outputTokens: 3 })
  );
  try {
    await using r = await perfRun({
      args: urlArgs(mocks),
      flags: { number: 10, parallel: 3, stream: true, workers: 0, transport: "fetch" },
    });
    assertEquals(r.code, 0, r.stderr);
    const names = mocks.map((m) => `${m.url}${PATH}`);
    const rows = r.sql<{ request_id: number; endpoint: string; success: string }>(
      "SELECT request_id, endpoint, success FROM result",
    );
    assertEquals(rows.length, 10);
    for (const row of rows) {
      assertEquals([row.endpoint, row.success], [names[row.request_id % 2], "True"]);
    }
    assertEquals(mocks.map((m) => m.stats.requests), [6, 6]);
  } finally {
    await Promise.all(mocks.map((m) => m.close()));
  }
});

Deno.test("least-in-flight sends more to the faster endpoint; each TTFT is its mock's", async () => {
  const [fast, slow] = [20, 400].map((ttftMs) =>
    startMockServer({ port: 0, ttftMs, itlMs: 2, outputTokens: 4 })
  );
  try {
    await using r = await perfRun({
      args: [...urlArgs([fast, slow]), "--url-strategy", "least-in-flight"],
      flags: { number: 40, parallel: 4, stream: true },
    });
    assertEquals(r.code, 0, r.stderr);
    const counts = r.sql<{ endpoint: string; n: number }>(
      "SELECT endpoint, COUNT(*) AS n FROM result GROUP BY endpoint",
    );
    const n = (m: { url: string }) => counts.find((c) => c.endpoint === `${m.url}${PATH}`)?.n ?? 0;
    assertEquals(n(fast) + n(slow), 40);
    // Balanced in flight, the fast one frees its slots ~20 times as often: far more than half.
    assert(n(fast) > 3 * n(slow), `fast ${n(fast)}, slow ${n(slow)}`);
    assertEquals([fast.stats.requests, slow.stats.requests], [n(fast) + 1, n(slow) + 1]);
    const table = await readJson<Row[]>(`${r.dir}/benchmark_endpoints.json`);
    const ttft = (m: { url: string }) =>
      table.find((t) => t["Endpoint"] === `${m.url}${PATH}`)!["Mean TTFT (ms)"] as number;
    // Generous bounds that still tell 20 ms from 400 ms.
    assert(ttft(fast) >= 20 && ttft(fast) < 200, `fast ${ttft(fast)}`);
    assert(ttft(slow) >= 400 && ttft(slow) < 800, `slow ${ttft(slow)}`);

    // `llmperf report` recomputes the same rows from the DB's endpoint column.
    const rep = await runCli(["report", r.dir, "--json"]);
    assertEquals(rep.code, 0, rep.stderr);
    assertSameRows(JSON.parse(rep.stdout).endpoints, table);
    const printed = await runCli(["report", r.dir]);
    assert(printed.stdout.includes("Per-endpoint metrics:"), printed.stdout);
  } finally {
    await Promise.all([fast.close(), slow.close()]);
  }
});

Deno.test("shards over two endpoints merge into one per-endpoint breakdown", async () => {
  const mocks = [10, 30].map((ttftMs) =>
    startMockServer({ port: 0, ttftMs, itlMs: 2, outputTokens: 4 })
  );
  await using tmp = await tempDir();
  try {
    const shards = await Promise.all([0, 1].map((i) =>
      perfRun({
        args: urlArgs(mocks),
        flags: { number: 12, parallel: 2, stream: true, shard: `${i}/2`, workers: 1 },
      })
    ));
    try {
      for (const s of shards) assertEquals(s.code, 0, s.stderr);
      const merged = `${tmp.path}/merged`;
      const m = await runCli(["merge", ...shards.map((s) => s.dir), "--output", merged, "--json"]);
      assertEquals(m.code, 0, m.stderr);
      const rows = JSON.parse(m.stdout).endpoints as Row[];
      // Each shard round-robins its own six: three to each endpoint, six in all per endpoint.
      assertEquals(rows.map((t) => t["Requests"]), [6, 6]);
      assertEquals(rows.map((t) => t["Endpoint"]), mocks.map((x) => `${x.url}${PATH}`));
      assertEquals(await readJson<Row[]>(`${merged}/benchmark_endpoints.json`), rows);
    } finally {
      for (const s of shards) await s[Symbol.asyncDispose]();
    }
  } finally {
    await Promise.all(mocks.map((x) => x.close()));
  }
});

Deno.test("a dead endpoint among several fails the start-up check, naming it", async () => {
  const live = startMockServer({ port: 0, ttftMs: 5, itlMs: 1, outputTokens: 2 });
  const dead = startMockServer({ port: 0 });
  const deadUrl = `${dead.url}${PATH}`;
  await dead.close();
  try {
    await using r = await perfRun({
      args: [...urlArgs([live]), "--url", deadUrl],
      flags: { number: 2, connectTimeout: 2 },
    });
    assertEquals(r.code, 1, r.stderr);
    assert(r.stderr.includes(new URL(deadUrl).host), r.stderr);
    assertEquals(live.stats.requests, 1); // its check, then nothing: the run never started
  } finally {
    await live.close();
  }
});

Deno.test("a single --url run writes no per-endpoint table and no new settings", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 5, itlMs: 1, outputTokens: 2 });
  try {
    await using r = await perfRun({ server: mock, flags: { number: 3, stream: true } });
    assertEquals(r.code, 0, r.stderr);
    assert(!r.stdout.includes("Per-endpoint"), r.stdout);
    assert(!r.entries.includes("benchmark_endpoints.json"));
    assert(!("urls" in r.args) && !("url_strategy" in r.args), JSON.stringify(r.args));
    await assertRejects(() => Deno.stat(`${r.dir}/benchmark_endpoints.json`));
    // Its rows still say which endpoint served them.
    const rows = r.sql<{ endpoint: string }>("SELECT endpoint FROM result");
    assertEquals(rows.map((x) => x.endpoint), Array(3).fill(`${mock.url}${PATH}`));
    const rep = await runCli(["report", r.dir, "--json"]);
    assertEquals(JSON.parse(rep.stdout).endpoints, undefined);
  } finally {
    await mock.close();
  }
});

Deno.test("bad endpoints and strategies are one line and exit 2", async () => {
  const ok = "http://127.0.0.1:9/v1/chat/completions";
  for (
    const [args, want] of [
      [["--url", ok, "--url", "not a url"], "--url: not a valid URL: 'not a url'"],
      [["--url", ok, "--url", "ftp://x/y"], "--url: must be an http:// or https:// URL"],
      [["--url", ok, "--url", ok, "--url-strategy", "fastest"], "--url-strategy: expected one of"],
    ] as const
  ) {
    const r = await runCli(["perf", "--model", "m", "--prompt", "hi", ...args]);
    assertEquals(r.code, 2, r.stderr);
    assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert(r.stderr.includes(want), r.stderr);
  }
});
