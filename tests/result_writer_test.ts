/**
 * The result DB's writer on the thread that sends (`ResultDbOptions.onThisThread`, a one-core
 * run): another connection's lock never blocks that thread (the rows are kept and written once the
 * lock is gone), the telemetry tables do the same, and a one-core CLI run starts no writer thread.
 */
import { assert, assertEquals } from "./assert.ts";
import { onlyRunDir, ROOT_DIR, tempDir } from "./helpers/cli.ts";
import { pinnable, pinned } from "./helpers/pin.ts";
import { DatabaseSync } from "node:sqlite";
import { startMockServer } from "../src/mock/server.ts";
import { openForReading } from "../src/store/open_read.ts";
import { ResultDb } from "../src/store/result_db.ts";
import { runRow } from "../src/store/run_meta.ts";
import { RESULT_COLUMNS } from "../src/store/schema.ts";
import { TelemetryDb } from "../src/store/telemetry_db.ts";

/** A `result` row for ResultDb.add: one payload, `start_time` = `i`. */
function row(i: number): unknown[] {
  return RESULT_COLUMNS.map((c) => {
    switch (c.encoding) {
      case "pickle-request":
        return `{"i":${i}}`;
      case "pickle-payloads":
        return { utf8: new TextEncoder().encode(`{"i":${i}}`), count: 1 };
      case "json":
        return c.name === "chunk_times" ? new Float64Array([1]) : null;
      case "true-false":
        return true;
      case "failure":
        return null;
      default:
        return c.name === "start_time" ? i : null;
    }
  });
}

function count(path: string, table = "result"): number {
  const db = openForReading(path);
  try {
    return (db.prepare(`SELECT COUNT(*) AS c FROM ${table}`).get() as { c: number }).c;
  } finally {
    db.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait until `ok()` holds (at most `ms`). */
async function until(ok: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error("timed out");
    await sleep(10);
  }
}

Deno.test("result writer: on this thread, rows a reader's lock holds off are kept while the thread runs on, then all written", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.path}/benchmark_data.db`;
  const warnings: string[] = [];
  const db = await ResultDb.open(path, runRow("t", {}), {
    onThisThread: true,
    onWarning: (w) => warnings.push(w),
    onFailure: (f) => {
      throw new Error(`no failure expected: ${f}`);
    },
  });
  for (let i = 0; i < 10; i++) db.add(row(i));
  await until(() => count(path) === 10); // the queue's 20 ms, then a task of the writer's
  const reader = new DatabaseSync(path, { readOnly: true });
  reader.exec("BEGIN");
  assertEquals((reader.prepare("SELECT COUNT(*) AS c FROM result").get() as { c: number }).c, 10);
  for (let i = 10; i < 30; i++) db.add(row(i));
  // While the read holds the lock, this thread's timers run on time: nothing waits in SQLite.
  let ticks = 0;
  const t0 = performance.now();
  let late = 0;
  const tick = setInterval(() => {
    ticks++;
    late = Math.max(late, performance.now() - t0 - ticks * 10);
  }, 10);
  await sleep(400);
  clearInterval(tick);
  assert(ticks >= 20, `only ${ticks} ticks of 10 ms in 400 ms: the thread was held`);
  assert(late < 200, `a tick ${late.toFixed(0)} ms late`);
  assertEquals(warnings.length, 1, warnings.join("\n"));
  assert(warnings[0].includes("locked by another connection"), warnings[0]);
  assert(warnings[0].endsWith(`(${path})`), warnings[0]);
  reader.exec("COMMIT");
  reader.close();
  assertEquals(await db.close(), 30);
  assertEquals(db.failure, undefined);
  const read = openForReading(path);
  try {
    const starts = read.prepare("SELECT start_time FROM result ORDER BY rowid").all()
      .map((r) => (r as { start_time: number }).start_time);
    assertEquals(starts, Array.from({ length: 30 }, (_, i) => i), "each row once, in order");
    const run = read.prepare("SELECT requests, ended_at FROM run").get() as {
      requests: number;
      ended_at: number | null;
    };
    assertEquals(run.requests, 30);
    assert(run.ended_at !== null, "the run row is finished");
  } finally {
    read.close();
  }
});

Deno.test("result writer: closing on this thread waits for the rows a lock still holds off", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.path}/benchmark_data.db`;
  const db = await ResultDb.open(path, runRow("t", {}), { onThisThread: true });
  const reader = new DatabaseSync(path, { readOnly: true });
  reader.exec("BEGIN");
  reader.prepare("SELECT COUNT(*) FROM result").get();
  for (let i = 0; i < 5; i++) db.add(row(i));
  let closed = false;
  const closing = db.close().then((n) => {
    closed = true;
    return n;
  });
  await sleep(300);
  assert(!closed, "closed while its rows waited for the lock");
  reader.exec("COMMIT");
  reader.close();
  assertEquals(await closing, 5);
  assertEquals(count(path), 5);
});

Deno.test("telemetry DB: yielding, rows a lock holds off are written with the next batch, each once", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.path}/benchmark_data.db`;
  new DatabaseSync(path).close();
  const t = new TelemetryDb(path, { locks: "yield" });
  const sample = (time: number) => ({ time, name: "n", labels: "{}", value: time });
  t.writeServer([sample(1)]);
  const reader = new DatabaseSync(path, { readOnly: true });
  reader.exec("BEGIN");
  reader.prepare("SELECT COUNT(*) FROM server_metrics").get();
  const t0 = performance.now();
  t.writeServer([sample(2), sample(3)]);
  assert(performance.now() - t0 < 1000, "the write waited for the lock");
  assertEquals(t.written.server, 1, "held off, not written");
  assertEquals(t.failure, undefined, "held off, not failed");
  reader.exec("COMMIT");
  reader.close();
  t.writeServer([sample(4)]);
  assertEquals(t.written.server, 4);
  t.close();
  const read = openForReading(path);
  try {
    const times = read.prepare("SELECT time FROM server_metrics ORDER BY rowid").all()
      .map((r) => (r as { time: number }).time);
    assertEquals(times, [1, 2, 3, 4]);
  } finally {
    read.close();
  }
});

/** A run through the library API that prints the Web Workers it started, as JSON. */
const SPY = `
const started = [];
const Original = globalThis.Worker;
globalThis.Worker = class extends Original {
  constructor(url, opts) { super(url, opts); started.push(String(url)); }
};
const { runPerfBenchmark } = await import(${JSON.stringify(`file://${ROOT_DIR}/src/perf.ts`)});
const { silentLogger } = await import(${JSON.stringify(`file://${ROOT_DIR}/src/log.ts`)});
const [url, outputsDir] = Deno.args;
const r = await runPerfBenchmark({ url, model: "m", prompt: "hello", stream: true, parallel: 4,
  number: 12, outputsDir }, { log: silentLogger });
console.log(JSON.stringify({ started, succeeded: r.summary["Succeed requests"] }));
`;

Deno.test({
  name:
    "result writer: pinned to one core, a run writes its DB and telemetry from the main thread: no thread starts",
  ignore: !pinnable,
  async fn() {
    const mock = startMockServer({ port: 0, ttftMs: 5, itlMs: 2, outputTokens: 4 });
    await using tmp = await tempDir();
    try {
      const script = `${tmp.path}/spy.js`;
      await Deno.writeTextFile(script, SPY);
      const run = async (pin: boolean) => {
        const [program, args] = pinned([
          Deno.execPath(),
          "run",
          "-A",
          "--config",
          `${ROOT_DIR}/deno.json`,
          script,
          `${mock.url}/v1/chat/completions`,
          `${tmp.path}/${pin}`,
        ], pin);
        const out = await new Deno.Command(program, {
          args,
          stdout: "piped",
          stderr: "piped",
        }).output();
        const dec = new TextDecoder();
        assertEquals(out.code, 0, dec.decode(out.stderr));
        const r = JSON.parse(dec.decode(out.stdout).trim().split("\n").at(-1)!);
        const dir = await onlyRunDir(`${tmp.path}/${pin}`);
        return { ...r, rows: count(`${dir}/benchmark_data.db`) } as {
          started: string[];
          succeeded: number;
          rows: number;
        };
      };
      const one = await run(true);
      assertEquals(one.started, [], "no Web Worker on one core");
      assertEquals(one.succeeded, 12);
      assertEquals(one.rows, 12);
      const dir = await onlyRunDir(`${tmp.path}/true`);
      assert(count(`${dir}/benchmark_data.db`, "server_metrics") > 0, "the mock's /metrics stored");
      if (navigator.hardwareConcurrency > 1) {
        const all = await run(false);
        assert(all.started.some((u) => u.endsWith("/db_worker.ts")), all.started.join(", "));
        assertEquals(all.rows, 12);
      }
    } finally {
      await mock.close();
    }
  },
});
