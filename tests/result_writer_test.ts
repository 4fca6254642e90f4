/**
 * The result DB's writer on the thread that sends (`ResultDbOptions.onThisThread`, a one-core
 * run): another connection's lock never blocks that thread (the rows are kept and written once the
 * lock is gone), the telemetry tables do the same, and a one-core CLI run starts no writer thread.
 */
import { assert, assertEquals } from "./assert.ts";
import { onlyRunDir, ROOT_DIR, tempDir } from "./helpers/cli.ts";
import { pinnable, pinned } from "./helpers/pin.ts";
import { plainRow } from "./helpers/result_rows.ts";
import { DatabaseSync } from "node:sqlite";
import { startMockServer } from "../src/mock/server.ts";
import { openForReading } from "../src/store/open_read.ts";
import { ResultDb } from "../src/store/result_db.ts";
import { type DbWorkerOut, ResultWriter, SAY_LOCKED_AFTER_MS } from "../src/store/result_writer.ts";
import { runRow } from "../src/store/run_meta.ts";
import { LOCKED_FOR_MS, RESULT_COLUMNS } from "../src/store/schema.ts";
import { TelemetryDb } from "../src/store/telemetry_db.ts";

const row = (i: number) => plainRow(i);

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
  await sleep(1500); // past SAY_LOCKED_AFTER_MS: the run is told
  clearInterval(tick);
  assert(ticks >= 60, `only ${ticks} ticks of 10 ms in 1.5 s: the thread was held`);
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

/** A writer on this thread with its own clock; what it says is kept in `said`. */
function yieldingWriter(path: string) {
  const said: DbWorkerOut[] = [];
  const clock = { ms: 1 };
  const writer = new ResultWriter({
    post: (m) => said.push(m),
    locks: "yield",
    now: () => clock.ms,
  });
  writer.handle({ type: "open", path, run: runRow("t", {}) });
  return { writer, said, clock };
}

/** A read that holds the file's shared lock until `release`. */
function holdRead(path: string) {
  const reader = new DatabaseSync(path, { readOnly: true });
  reader.exec("BEGIN");
  reader.prepare("SELECT COUNT(*) FROM result").get();
  return {
    release() {
      reader.exec("COMMIT");
      reader.close();
    },
  };
}

/** Hand `writer` 100 batches of 64 rows of 8 KB payloads (rows 0 on); how many rows. */
function backlog(writer: ResultWriter): number {
  let n = 0;
  for (let b = 0; b < 100; b++) {
    writer.handle({ type: "rows", rows: Array.from({ length: 64 }, () => bigRow(n++)) });
  }
  return n;
}

/** Row `i` with an 8 KB payload: a backlog of them takes more than one task to write. */
function bigRow(i: number): unknown[] {
  const r = row(i);
  const p = RESULT_COLUMNS.findIndex((c) => c.encoding === "pickle-payloads");
  r[p] = { utf8: new TextEncoder().encode(`{"i":${i},"pad":"${"x".repeat(8000)}"}`), count: 1 };
  return r;
}

Deno.test("result writer: yielding, a lock fails the writing only after ten minutes with no transaction through", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.path}/benchmark_data.db`;
  const { writer, said, clock } = yieldingWriter(path);
  let lock = holdRead(path);
  const n = backlog(writer);
  assertEquals(writer.written, 0, "all kept at t = 0");
  clock.ms += 9 * 60_000;
  lock.release();
  // Part of the backlog goes through at 9 minutes; then a reader holds the file again, the rest
  // still kept: the limit counts from the last transaction through, not from the first lock.
  await until(() => writer.written > 0, 10_000);
  lock = holdRead(path);
  const through = writer.written;
  assert(through < n, `the whole backlog went in one task (${through} of ${n})`);
  await sleep(100); // the drain meets the lock at 9 minutes
  clock.ms += 6 * 60_000; // 15 minutes since the first lock, 6 since the last transaction
  await sleep(150); // retries meet the lock
  assertEquals(said.filter((m) => m.type === "failed"), [], "failed 6 minutes after a transaction");
  assertEquals(said.filter((m) => m.type === "waiting").length, 1, "told once, after 1 s");
  assertEquals(writer.written, through);
  clock.ms += LOCKED_FOR_MS - 6 * 60_000;
  await until(() => said.some((m) => m.type === "failed"));
  const failed = said.find((m) => m.type === "failed") as { message: string };
  assert(failed.message.includes("locked"), failed.message);
  writer.handle({ type: "rows", rows: [row(n)] }); // dropped after the failure
  writer.handle({ type: "close" });
  await until(() => said.some((m) => m.type === "error"));
  assertEquals(said.at(-1), { type: "error", message: failed.message, rows: through });
  lock.release();
  assertEquals(count(path), through);
});

Deno.test("result writer: yielding, a short lock is not said; a backlog is written in slices, in order", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.path}/benchmark_data.db`;
  const { writer, said, clock } = yieldingWriter(path);
  const lock = holdRead(path);
  const n = backlog(writer);
  clock.ms += SAY_LOCKED_AFTER_MS / 2;
  await sleep(120);
  lock.release();
  // A task of this thread runs while the backlog is being written: it is not written in one.
  let seen = -1;
  await until(() => {
    if (seen === -1 && writer.written > 0) seen = writer.written;
    return writer.written === n;
  }, 30_000);
  assert(seen > 0 && seen < n, `first seen ${seen} of ${n} rows written`);
  assertEquals(said.filter((m) => m.type === "waiting"), [], "a lock shorter than 1 s is not said");
  writer.handle({ type: "close" });
  assertEquals(said.at(-1), { type: "closed", rows: n });
  const read = openForReading(path);
  try {
    const starts = read.prepare("SELECT start_time FROM result ORDER BY rowid").all()
      .map((r) => (r as { start_time: number }).start_time);
    assertEquals(starts, Array.from({ length: n }, (_, i) => i));
  } finally {
    read.close();
  }
});

Deno.test("result writer: yielding, closing under a lock finishes the run row once it is free", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.path}/benchmark_data.db`;
  const { writer, said } = yieldingWriter(path);
  writer.handle({ type: "rows", rows: [row(0)] });
  const lock = holdRead(path);
  writer.handle({
    type: "finish",
    endedAt: 123,
    interrupted: false,
    client: null,
    loadStartedAt: 100,
  });
  writer.handle({ type: "close" });
  await sleep(150);
  assertEquals(said.filter((m) => m.type === "closed" || m.type === "error"), [], "closed locked");
  lock.release();
  await until(() => said.some((m) => m.type === "closed"));
  assertEquals(said.at(-1), { type: "closed", rows: 1 });
  const read = openForReading(path);
  try {
    assertEquals({ ...read.prepare("SELECT ended_at, requests FROM run").get() }, {
      ended_at: 123,
      requests: 1,
    });
  } finally {
    read.close();
  }
  const dir = path.slice(0, path.lastIndexOf("/"));
  assertEquals([...Deno.readDirSync(dir)].map((f) => f.name), ["benchmark_data.db"]);
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

Deno.test("telemetry DB: yielding, the end of a run writes the rows a lock kept back, or says how many were lost", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.path}/benchmark_data.db`;
  new DatabaseSync(path).close();
  const clock = { ms: 1 };
  const t = new TelemetryDb(path, { locks: "yield", now: () => clock.ms });
  const sample = (time: number) => ({ time, name: "n", labels: "{}", value: time });
  let reader = new DatabaseSync(path, { readOnly: true });
  reader.exec("BEGIN");
  reader.prepare("SELECT COUNT(*) FROM server_metrics").get();
  t.writeServer([sample(1)]);
  assertEquals(t.kept, 1);
  const flushing = t.flush(10);
  await sleep(100);
  reader.exec("COMMIT");
  reader.close();
  await flushing;
  assertEquals([t.kept, t.written.server, t.failure], [0, 1, undefined]);
  reader = new DatabaseSync(path, { readOnly: true });
  reader.exec("BEGIN");
  reader.prepare("SELECT COUNT(*) FROM server_metrics").get();
  t.writeServer([sample(2), sample(3)]);
  clock.ms += LOCKED_FOR_MS; // the lock outlasts the limit
  await t.flush(10);
  assertEquals(t.written.server, 1);
  assert(
    t.failure?.startsWith("2 telemetry rows were not written: ") && t.failure.includes("locked"),
    t.failure,
  );
  reader.exec("COMMIT");
  reader.close();
  t.close();
});
