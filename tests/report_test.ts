/**
 * `llmperf report`: the tables recomputed from a DB alone — ours, and one in the layout evalscope
 * wrote in late 2024 (built here with Python's standard library).
 */
import { assert, assertAlmostEquals, assertEquals } from "./assert.ts";
import { block, onlyRunDir, runCli, tempDir } from "./helpers/cli.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { LONG_RUN_MOCK, spawnLongRun, waitForRows } from "./helpers/long_run.ts";
import { openForReading } from "../src/store/open_read.ts";
import { startMockServer } from "../src/mock/server.ts";
import { reportFromDb, rowMetrics } from "../src/report/from_db.ts";
import { resolveConfig } from "../src/config.ts";
import OpenAIApi from "../plugins/api/openai.ts";
import { pickleBase64 } from "../src/store/pickle.ts";

Deno.test("report: recomputes exactly what the run printed, from the DB alone", async () => {
  const mock = startMockServer({
    port: 0,
    ttftMs: 5,
    itlMs: 1,
    outputTokens: 8,
    outputTokensMax: 30,
  });
  try {
    await using run = await perfRun({
      server: mock,
      flags: { prompt: "hello", number: 30, parallel: 3, stream: true },
    });
    assertEquals(run.code, 0, run.stderr);
    const dir = run.dir;
    // Move the JSON files away: the DB alone must suffice.
    for (
      const f of ["benchmark_args.json", "benchmark_summary.json", "benchmark_percentile.json"]
    ) {
      await Deno.remove(`${dir}/${f}`);
    }
    for (const target of [dir, `${dir}/benchmark_data.db`]) {
      const rep = await runCli(["report", target]);
      assertEquals(rep.code, 0, rep.stderr);
      for (
        const title of [
          "Benchmarking summary:",
          "Percentile results:",
          "Per-request metrics summary:",
          "Per-request percentiles:",
        ]
      ) {
        assertEquals(block(rep.stdout, title), block(run.stdout, title));
      }
      assert(!rep.stdout.includes("Warning:"), "a finished run is presented as complete");
    }
    const json = JSON.parse((await runCli(["report", dir, "--json"])).stdout);
    assertEquals([json.finished, json.interrupted, json.warning, json.rows], [
      true,
      false,
      undefined,
      30,
    ]);
  } finally {
    await mock.close();
  }
});

/** Builds a DB the way evalscope's late-2024 release wrote it (pickles in Python's default protocol). */
const EVALSCOPE_DB = `
import sqlite3, base64, pickle, json, sys
con = sqlite3.connect(sys.argv[1])
con.execute('''CREATE TABLE result(request TEXT, start_time REAL, chunk_times TEXT, success TEXT,
  response_messages TEXT, completed_time REAL, latency REAL, first_chunk_latency REAL, n_chunks INTEGER,
  chunk_time REAL, prompt_tokens INTEGER, completion_tokens INTEGER, max_gpu_memory_cost REAL)''')
def enc(x): return base64.b64encode(pickle.dumps(x)).decode()
def chunk(content=None, role=False, usage=None, finish=None):
    d = {'object': 'chat.completion.chunk', 'choices': []}
    if content is not None or role:
        delta = {'content': content or ''}
        if role: delta['role'] = 'assistant'
        d['choices'] = [{'index': 0, 'delta': delta, 'finish_reason': finish}]
    if usage: d['usage'] = usage
    return json.dumps(d)
def row(start, ttft, gap, tokens, prompt_tokens):
    # role chunk and first token together at ttft, then one token per gap, then the usage chunk
    times = [start + ttft] + [start + ttft + i * gap for i in range(tokens)]
    times.append(times[-1])
    msgs = [chunk(role=True)] + [chunk('t%d' % i, finish='length' if i == tokens - 1 else None) for i in range(tokens)] + [chunk(usage={'prompt_tokens': prompt_tokens, 'completion_tokens': tokens})]
    latency = times[-1] - start
    return (enc({'model': 'm', 'messages': [{'role': 'user', 'content': 'q'}], 'stream': True}), start,
            json.dumps(times), 'True', enc(msgs), start + latency, latency, times[0] - start,
            len(times) - 2, times[-2] - times[0], prompt_tokens, tokens, 0.0)
rows = [row(100.0, 0.2, 0.2, 5, 10), row(100.5, 0.4, 0.2, 9, 20), row(101.0, 0.1, 0.1, 5, 30)]
rows.append((enc({'model': 'm'}), 101.2, '[]', 'False', enc([]), 101.3, None, None, None, None, None, None, 0.0))
con.executemany('INSERT INTO result VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)', rows)
con.commit()
`;

async function python(script: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command("python3", { args: ["-c", script, ...args], stderr: "piped" })
    .output();
  if (out.code !== 0) throw new Error(new TextDecoder().decode(out.stderr));
}

Deno.test("report: reads a DB in evalscope's late-2024 layout and recomputes its summary", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.path}/benchmark_data.db`;
  await python(EVALSCOPE_DB, path);
  await Deno.writeTextFile(
    `${tmp.path}/benchmark_args.json`,
    JSON.stringify({ parallel: 2, number: 4 }),
  );
  const r = await reportFromDb(path, OPENAI);
  const s = r.summary;
  // Hand-computed. Latencies: 1.0 (0.2 + 4 × 0.2), 2.0 (0.4 + 8 × 0.2), 0.5 (0.1 + 4 × 0.1).
  // T = 102.5 − 100.0 = 2.5 s.
  assertAlmostEquals(s["Time taken for tests (senconds)"] as number, 2.5, 1e-9);
  assertEquals(s["Number of concurrency"], 2);
  assertEquals([s["Total requests"], s["Succeed requests"], s["Failed requests"]], [4, 3, 1]);
  assertAlmostEquals(s["Average QPS"] as number, 3 / 2.5, 1e-9);
  assertAlmostEquals(s["Average latency"] as number, 3.5 / 3, 1e-9);
  assertAlmostEquals(s["Average time to first token"] as number, 0.7 / 3, 1e-9);
  assertAlmostEquals(s["Throughput(average output tokens per second)"] as number, 19 / 2.5, 1e-9);
  assertAlmostEquals(s["Average time per output token"] as number, 2.5 / 19, 1e-9);
  // n_chunks = len(chunk_times) − 2 = tokens; chunk_time = last token − first chunk.
  assertAlmostEquals(s["Average package per request"] as number, 19 / 3, 1e-9);
  assertAlmostEquals(s["Average package latency"] as number, (0.8 + 1.6 + 0.4) / 19, 1e-9);
  assertAlmostEquals(s["Average input tokens per request"] as number, 20, 1e-9);
  assertAlmostEquals(s["Average output tokens per request"] as number, 19 / 3, 1e-9);
  assertEquals(s["Expected number of requests"], 4);
  // Modern metrics from the pickled payloads: TTFT at the first token chunk; ITL = the gaps.
  assertAlmostEquals(r.requestSummary["Mean TTFT (ms)"] as number, 700 / 3, 1e-6);
  // No reasoning in these replies: TTFO is TTFT; no reasoning count in such a DB.
  assertAlmostEquals(r.requestSummary["Mean TTFO (ms)"] as number, 700 / 3, 1e-6);
  assertEquals(r.requestSummary["Mean reasoning tokens"], null);
  assertAlmostEquals(
    r.requestSummary["Mean ITL (ms)"] as number,
    (4 * 200 + 8 * 200 + 4 * 100) / 16,
    1e-6,
  );
  assertEquals(r.failures, { unknown: 1 });
  // No run row: whether it finished cannot be known, and nothing is claimed.
  assertEquals([r.finished, r.warning], [undefined, undefined]);
});

Deno.test("report: a pickle that would run code is refused with one line, and nothing runs", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.path}/benchmark_data.db`;
  const marker = `${tmp.path}/pwned`;
  await python(
    `
import sqlite3, base64, pickle, os, sys
class Evil:
    def __reduce__(self):
        return (os.system, ('touch ${marker}',))
con = sqlite3.connect(sys.argv[1])
con.execute('CREATE TABLE result(request TEXT, start_time REAL, chunk_times TEXT, success TEXT, response_messages TEXT, completed_time REAL, latency REAL, first_chunk_latency REAL, n_chunks INTEGER, chunk_time REAL, prompt_tokens INTEGER, completion_tokens INTEGER, max_gpu_memory_cost REAL)')
con.execute('INSERT INTO result VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)', ('', 1.0, '[1.1, 1.2, 1.3]', 'True',
  base64.b64encode(pickle.dumps(Evil())).decode(), 1.5, 0.5, 0.1, 1, 0.2, 1, 1, 0.0))
con.commit()
`,
    path,
  );
  const r = await runCli(["report", path]);
  assertEquals(r.code, 1);
  assertEquals(r.stderr.trim().split("\n").length, 1);
  assert(r.stderr.includes("refusing"), r.stderr);
  assert(r.stderr.includes("row 0"), r.stderr);
  let exists = true;
  try {
    await Deno.stat(marker);
  } catch {
    exists = false;
  }
  assertEquals(exists, false);
});

Deno.test("report: bad targets are one line, exit 2", async () => {
  await using tmp = await tempDir();
  const missing = await runCli(["report", `${tmp.path}/nope`]);
  assertEquals(missing.code, 2);
  assert(missing.stderr.includes("no such file"));
  const empty = await runCli(["report", tmp.path]);
  assertEquals(empty.code, 2);
  assert(empty.stderr.includes("has no benchmark_data.db"));
  const none = await runCli(["report"]);
  assertEquals(none.code, 2);
});

Deno.test("report: the JSON files beside our DB agree with it", async () => {
  const mock = startMockServer({ port: 0, outputTokens: 4 });
  try {
    await using run = await perfRun({
      server: mock,
      flags: { prompt: "x", number: 12, stream: true },
    });
    assertEquals(run.code, 0, run.stderr);
    const saved = run.summary;
    const r = await reportFromDb(`${run.dir}/benchmark_data.db`);
    // Every summary key the DB gives is in the file with the same value (and there are many).
    const keys = Object.keys(r.summary);
    assert(keys.length >= 15, `only ${keys.length} keys: ${keys}`);
    for (const [k, v] of Object.entries(r.summary)) assertEquals(saved[k], v, k);
    assertEquals(saved["Total requests"], 12);
    assertEquals(r.summary["Succeed requests"], 12);
  } finally {
    await mock.close();
  }
});

/** What `llmperf report` reads evalscope's pickled payloads with. */
const OPENAI = new OpenAIApi(resolveConfig({ model: "report" }));

Deno.test("report: a DB from before the ttfo column gets TTFO from its payloads", async () => {
  const ev = (delta: unknown, finish: string | null = null) =>
    JSON.stringify({
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
  const row = {
    success: "True",
    start_time: 100,
    completed_time: 100.3,
    chunk_times: JSON.stringify([100.05, 100.1, 100.3]),
    response_messages: pickleBase64([
      ev({ reasoning: "hm" }),
      ev({ content: "a" }),
      ev({ content: "b" }, "stop"),
    ]),
    is_stream: 1,
    latency: 0.3,
    ttft: 0.05,
    inter_token_latencies: "[0.05, 0.2]",
    completion_tokens: 3,
  };
  const m = await rowMetrics(row, 0, OPENAI);
  assertAlmostEquals(m.ttftS, 0.05, 1e-9);
  assertAlmostEquals(m.ttfoS!, 0.1, 1e-9);
  assertEquals(m.reasoningTokens, undefined);
  // The column, when there, is read as it is (NULL: no answer came).
  assertEquals(
    (await rowMetrics({ ...row, ttfo: null, reasoning_tokens: 1 }, 0, OPENAI)).ttfoS,
    undefined,
  );
  assertEquals(
    (await rowMetrics({ ...row, ttfo: 0.2, reasoning_tokens: 1 }, 0, OPENAI)).reasoningTokens,
    1,
  );
});

Deno.test("report: after a kill -9 the DB opens and the report says the run did not finish", async () => {
  const mock = startMockServer({ port: 0, ...LONG_RUN_MOCK }); // killed well before the end
  await using tmp = await tempDir();
  try {
    const child = spawnLongRun(mock.url, tmp.path);
    await waitForRows(tmp.path, 4); // committed rows; then kill it without warning
    child.kill("SIGKILL");
    assertEquals((await child.output()).signal, "SIGKILL");
    const dir = await onlyRunDir(tmp.path);
    // Killed maybe inside a transaction: read as `llmperf report` does (rolled back first).
    const db = openForReading(`${dir}/benchmark_data.db`);
    const kept = (db.prepare("SELECT COUNT(*) AS c FROM result").get() as { c: number }).c;
    const run = db.prepare("SELECT ended_at FROM run").get() as { ended_at: unknown };
    db.close();
    assert(kept >= 4 && kept < 100, `kept ${kept}`);
    assertEquals(run.ended_at, null);

    const rep = await runCli(["report", dir]);
    assertEquals(rep.code, 0, rep.stderr);
    const warning = rep.stdout.trim().split("\n")[0];
    assert(warning.startsWith("Warning: the run did not finish"), rep.stdout);
    assert(warning.includes(`only the ${kept} requests`), warning);
    assert(/\| Total requests +\| (\d+)/.exec(rep.stdout)?.[1] === String(kept), rep.stdout);
    const json = JSON.parse((await runCli(["report", dir, "--json"])).stdout);
    assertEquals([json.finished, json.rows], [false, kept]);
    assert(String(json.warning).startsWith("the run did not finish"), json.warning);
  } finally {
    await mock.close();
  }
});

Deno.test("report: from chunk times and payloads alone, each row's metrics are the ones the run measured", async () => {
  // The live run and `llmperf report` derive metrics with one function: a DB stripped of
  // llmperf's timing columns (as evalscope writes it) gives back the same TTFT, ITL, TPOT, TTFO.
  const timing = { ttftMs: 20, itlMs: 3, outputTokens: 6, reasoningTokens: 2 };
  const mock = startMockServer({ port: 0, ...timing });
  try {
    await using run = await perfRun({ server: mock, flags: { number: 8, stream: true } });
    assertEquals(run.code, 0, run.stderr);
    const rows = run.sql("SELECT * FROM result ORDER BY rowid");
    assertEquals(rows.length, 8);
    const kept = ["ttft", "inter_token_latencies", "time_per_output_token", "ttfo"];
    for (const [i, row] of rows.entries()) {
      const stored = await rowMetrics(row, i, OPENAI);
      const bare = Object.fromEntries(Object.entries(row).filter(([k]) => !kept.includes(k)));
      const derived = await rowMetrics(bare, i, OPENAI);
      // Epoch seconds in the DB are exact to about a microsecond.
      assertAlmostEquals(derived.ttftS, stored.ttftS, 1e-5);
      assertAlmostEquals(derived.ttfoS!, stored.ttfoS!, 1e-5);
      assertAlmostEquals(derived.tpotS!, stored.tpotS!, 1e-5);
      assertEquals(derived.itlS.length, stored.itlS.length);
      derived.itlS.forEach((g, k) => assertAlmostEquals(g, stored.itlS[k], 1e-5));
      assertEquals(stored.reasoningTokens, 2);
      assert(stored.ttfoS! >= stored.ttftS, "reasoning came first: TTFO is not before TTFT");
    }
  } finally {
    await mock.close();
  }
});
