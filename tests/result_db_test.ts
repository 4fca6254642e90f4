/**
 * The result DB, end to end: written by a real CLI run against the mock, read by Python's
 * standard library with evalscope's documented recipe.
 */
import { assert, assertEquals } from "./assert.ts";
import { perfRun } from "./helpers/perf_run.ts";
import { onlyRunDir, tempDir } from "./helpers/cli.ts";
import { pinnable, pinned } from "./helpers/pin.ts";
import { plainRow } from "./helpers/result_rows.ts";
import { countRows, LONG_RUN_MOCK, longRunArgs, waitForRows } from "./helpers/long_run.ts";
import { openForReading } from "../src/store/open_read.ts";
import { ResultDb } from "../src/store/result_db.ts";
import { runRow } from "../src/store/run_meta.ts";
import { Telemetry } from "../src/telemetry/telemetry.ts";
import { startMockServer } from "../src/mock/server.ts";
import { planReply } from "../src/mock/generator.ts";
import { DatabaseSync } from "node:sqlite";
import {
  createTable,
  EVALSCOPE_COLUMNS,
  EXTRA_COLUMNS,
  insertInto,
  RESULT_COLUMNS,
} from "../src/store/schema.ts";

const SEED = 5;

/** evalscope's analysis recipe, plus a dump of what it decoded, as JSON on stdout. */
const RECIPE = `
import sqlite3, base64, pickle, json, sys
con = sqlite3.connect(sys.argv[1])
out = []
for request, response_messages, prompt_tokens, completion_tokens in con.execute(
        "SELECT request, response_messages, prompt_tokens, completion_tokens FROM result WHERE success='True'"):
    req = pickle.loads(base64.b64decode(request))
    msgs = pickle.loads(base64.b64decode(response_messages))
    text = ''
    for m in msgs:
        js = json.loads(m)
        if js['choices']:
            text += js['choices'][0]['delta'].get('content') or ''
    out.append({'prompt': req['messages'][0]['content'], 'model': req['model'], 'text': text,
                'prompt_tokens': prompt_tokens, 'completion_tokens': completion_tokens})
failed = con.execute("SELECT COUNT(*) FROM result WHERE success='False'").fetchone()[0]
print(json.dumps({'ok': out, 'failed': failed}))
`;

async function python(script: string, ...args: string[]) {
  const out = await new Deno.Command("python3", {
    args: ["-c", script, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  if (out.code !== 0) throw new Error(dec.decode(out.stderr));
  return JSON.parse(dec.decode(out.stdout));
}

Deno.test("result DB: Python's standard library reads it with evalscope's recipe; texts match the mock", async () => {
  const mock = startMockServer({ port: 0, outputTokens: 5, outputTokensMax: 20, seed: SEED });
  try {
    await using r = await perfRun({
      server: mock,
      flags: {
        dataset: "openqa",
        datasetPath: "data/open_qa_sample.jsonl",
        parallel: 4,
        stream: true,
        maxTokens: 15,
      },
    });
    assertEquals(r.code, 0, r.stderr);
    const dir = r.dir;
    assertEquals(r.summary["Result DB path"], `${dir}/benchmark_data.db`);
    const got = await python(RECIPE, `${dir}/benchmark_data.db`);
    assertEquals(got.ok.length, 20);
    assertEquals(got.failed, 0);
    for (const row of got.ok) {
      const plan = planReply(row.prompt, 15, { outputTokens: 5, outputTokensMax: 20, seed: SEED });
      let expected = "";
      for (let i = 0; i < plan.tokens; i++) expected += plan.token(i, 0);
      assertEquals(row.text, expected, `text for '${row.prompt}'`);
      assertEquals(row.completion_tokens, plan.tokens);
      assertEquals(row.model, "m");
    }
    // Epoch seconds with sub-millisecond precision; chunk_times is a JSON list; the run row.
    const [row] = r.sql<Record<string, number | string>>(
      "SELECT start_time, completed_time, chunk_times, latency FROM result LIMIT 1",
    );
    const now = Date.now() / 1000;
    assert(Math.abs((row.start_time as number) - now) < 600, "start_time is epoch seconds");
    assert((row.start_time as number) % 1 !== 0);
    const times = JSON.parse(row.chunk_times as string);
    assert(times.length >= 3 && times.every((t: number) => t >= (row.start_time as number)));
    assert(
      Math.abs(
        (row.completed_time as number) - (row.start_time as number) - (row.latency as number),
      ) < 1e-6,
    );
    const [run] = r.sql<Record<string, string | number>>("SELECT * FROM run");
    assertEquals(run.llmperf_version, "0.1.0");
    assertEquals(run.requests, 20);
    assertEquals(run.interrupted, 0);
    assert((run.ended_at as number) > (run.started_at as number));
    assertEquals(JSON.parse(run.args as string).parallel, 4);
    assert(typeof run.host === "string" && run.host.length > 0);
  } finally {
    await mock.close();
  }
});

Deno.test("result DB: failed requests are rows too, with status, reason and body excerpt", async () => {
  const mock = startMockServer({ port: 0 });
  try {
    await using r = await perfRun({
      server: mock,
      path: "/v1/nowhere",
      flags: { number: 3, noTestConnection: true }, // the start-up check would stop at the 404
    });
    assertEquals(r.code, 0, r.stderr);
    assert(r.stdout.includes("| Failed requests                              | 3"), r.stdout);
    assert(r.stdout.includes("Failures:"));
    const rows = r.sql("SELECT success, error, status_code, latency FROM result");
    assertEquals(rows.length, 3);
    for (const row of rows) {
      assertEquals(row.success, "False");
      assertEquals(row.status_code, 404);
      assertEquals(row.latency, null);
      const err = JSON.parse(row.error as string);
      assertEquals(err.kind, "http");
      assert(err.message.includes("404"));
      assert(err.body.includes("no route"));
    }
  } finally {
    await mock.close();
  }
});

Deno.test("result DB schema: evalscope's 13 columns in its order, then llmperf's, declared once", () => {
  // evalscope's late-2024 `result` table (../shared/reference/evalscope-perf.md).
  const evalscope = [
    ["request", "TEXT"],
    ["start_time", "REAL"],
    ["chunk_times", "TEXT"],
    ["success", "TEXT"],
    ["response_messages", "TEXT"],
    ["completed_time", "REAL"],
    ["latency", "REAL"],
    ["first_chunk_latency", "REAL"],
    ["n_chunks", "INTEGER"],
    ["chunk_time", "REAL"],
    ["prompt_tokens", "INTEGER"],
    ["completion_tokens", "INTEGER"],
    ["max_gpu_memory_cost", "REAL"],
  ];
  const db = new DatabaseSync(":memory:");
  db.exec(createTable("result", RESULT_COLUMNS));
  const info = db.prepare("PRAGMA table_info(result)").all() as { name: string; type: string }[];
  assertEquals(info.slice(0, 13).map((c) => [c.name, c.type]), evalscope);
  assertEquals([...EVALSCOPE_COLUMNS], evalscope.map(([n]) => n));
  assertEquals(info.slice(13).map((c) => c.name), [...EXTRA_COLUMNS]);
  // Every value is bound by its column's name.
  const insert = insertInto("result", RESULT_COLUMNS);
  for (const c of info) assert(insert.includes(`:${c.name}`), `${c.name} is bound by name`);
  assertEquals(insert.match(/\?/g), null, "no positional parameter");
  db.close();
});

/**
 * A reader holds the live DB of a CLI run (12 requests of 1.05 s, 4 in flight: about 3 s) for 2.5
 * s; the rows wait and all are written. `pin`: on one core, where the main thread writes the DB.
 */
async function readerHoldsTheFile(pin: boolean): Promise<void> {
  const mock = startMockServer({ port: 0, ...LONG_RUN_MOCK });
  await using tmp = await tempDir();
  try {
    const [program, args] = pinned([Deno.execPath(), ...longRunArgs(mock.url, tmp.path, 12)], pin);
    const t0 = performance.now();
    const child = new Deno.Command(program, {
      args,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    await waitForRows(tmp.path, 1);
    const path = `${await onlyRunDir(tmp.path)}/benchmark_data.db`;
    const reader = openForReading(path);
    reader.exec("BEGIN");
    const held = (reader.prepare("SELECT COUNT(*) AS c FROM result").get() as { c: number }).c;
    await new Promise((r) => setTimeout(r, 2500)); // the run's later batches wait for this read
    const during = mock.stats.requests;
    reader.exec("COMMIT");
    reader.close();
    const out = await child.output();
    const stderr = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 0, stderr);
    assert(!stderr.includes("could not be written"), stderr);
    // Said at once when nothing waits in SQLite (one core); a writer's thread waits a minute first.
    if (pin) assert(stderr.includes("locked by another connection"), stderr);
    assert(held >= 1 && held < 12, `held ${held}`);
    assertEquals(countRows(path), 12);
    // Sending went on while the rows waited (13: the 12 and the start-up check).
    assertEquals(during, 13, "every request was sent while the DB was held");
    assert(performance.now() - t0 < 20_000, "the run was held up");
    // The run folder holds the DB file alone: no journal, log or shared-memory file beside it.
    const dir = path.slice(0, path.lastIndexOf("/"));
    const beside = [...Deno.readDirSync(dir)].map((f) => f.name).filter((n) =>
      /\.db-(journal|wal|shm)$/.test(n)
    );
    assertEquals(beside, []);
  } finally {
    await mock.close();
  }
}

Deno.test("result DB: a reader holding the live file holds commits off; the rows wait, then all are written", async () => {
  await readerHoldsTheFile(false);
});

Deno.test({
  name: "result DB: on one core (the main thread writes) a reader's lock holds no request back",
  ignore: !pinnable,
  fn: () => readerHoldsTheFile(true),
});

Deno.test("result DB: a transaction that fails after others of its batch committed adds no row twice", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.path}/benchmark_data.db`;
  let failure = "";
  // --db-commit-interval 2: the batch of 4 goes in two transactions; the second fails (row 2's
  // body cannot be read), after the first (rows 0 and 1) is in the file.
  const db = await ResultDb.open(path, runRow("t", {}), {
    commitEvery: 2,
    onFailure: (m) => failure = m,
  });
  for (let i = 0; i < 4; i++) db.add(plainRow(i, i === 2 ? "{not json" : `{"i":${i}}`));
  await db.close();
  assert(failure.startsWith("the result DB could not be written"), failure);
  const read = openForReading(path);
  try {
    const starts = read.prepare("SELECT start_time FROM result ORDER BY rowid").all()
      .map((r) => (r as { start_time: number }).start_time);
    assertEquals(starts, [0, 1]); // before the fix: 0, 1, 0, 1
  } finally {
    read.close();
  }
});

Deno.test("result DB: after its writer thread died, close and the telemetry's start still answer", async () => {
  await using tmp = await tempDir();
  const Original = globalThis.Worker;
  const started: Worker[] = [];
  globalThis.Worker = class extends Original {
    constructor(url: string | URL, opts?: WorkerOptions) {
      super(url, opts);
      started.push(this);
    }
  };
  let db: ResultDb;
  try {
    db = await ResultDb.open(`${tmp.path}/benchmark_data.db`, runRow("t", {}), {
      onFailure: () => {},
    });
  } finally {
    globalThis.Worker = Original;
  }
  started[0].postMessage({ type: "port", id: 1 }); // no port in it: the writer's handler throws
  await new Promise((r) => setTimeout(r, 300));
  assert(db.failure !== undefined, "the writer's death was not noticed");
  const t = await Telemetry.start({
    server: { url: "http://127.0.0.1:1/metrics", headers: {}, extra: [] },
    gpu: false,
    dbPath: db.path,
    host: () => db.hostTelemetry(),
  }, () => {});
  assertEquals(t, undefined); // nothing read: the host is gone
  assertEquals(await db.close(), 0);
});
