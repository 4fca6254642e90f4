/**
 * Where the telemetry service runs: on the result DB's writer thread when the run has a DB (no
 * worker of its own), on its own worker otherwise; either way its scrapes of the mock's
 * `/metrics` reach the summary data and the DB's `server_metrics` table. A host thread that
 * goes away before the service is stopped leaves a stop that resolves (nothing measured, the
 * reason said), never one that hangs.
 */
import { assert, assertEquals } from "./assert.ts";
import { tempDir } from "./helpers/cli.ts";
import { startMockServer } from "../src/mock/server.ts";
import { ResultDb } from "../src/store/result_db.ts";
import { runRow } from "../src/store/run_meta.ts";
import { Telemetry } from "../src/telemetry/telemetry.ts";
import { openForReading } from "../src/store/open_read.ts";

/** The module URLs of the Workers this process starts while `fn` runs. */
async function workersStarted(fn: () => Promise<void>): Promise<string[]> {
  const Original = globalThis.Worker;
  const started: string[] = [];
  globalThis.Worker = class extends Original {
    constructor(url: string | URL, opts?: WorkerOptions) {
      started.push(String(url));
      super(url, opts);
    }
  };
  try {
    await fn();
  } finally {
    globalThis.Worker = Original;
  }
  return started;
}

const quiet = () => {};

Deno.test("telemetry: with a result DB the service runs on its writer's thread and fills server_metrics", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 1, itlMs: 0, outputTokens: 2 });
  await using tmp = await tempDir();
  const path = `${tmp.path}/benchmark_data.db`;
  try {
    let data;
    const started = await workersStarted(async () => {
      const db = await ResultDb.open(path, runRow("t", {}));
      const t = await Telemetry.start({
        server: { url: `${mock.url}/metrics`, headers: {}, extra: [] },
        gpu: false,
        dbPath: path,
        intervalMs: 100,
        host: () => db.hostTelemetry(),
      }, quiet);
      assert(t !== undefined, "the mock's /metrics was not read");
      await new Promise((r) => setTimeout(r, 350));
      data = await t.stop();
      await db.close();
    });
    assertEquals(started.filter((u) => u.includes("telemetry_worker")), []);
    assertEquals(started.filter((u) => u.includes("db_worker")).length, 1);
    assert(data!.server !== undefined && data!.rows.server > 0, JSON.stringify(data));
    assertEquals(data!.dbFailure, undefined);
    const read = openForReading(path);
    try {
      const n = (read.prepare("SELECT COUNT(*) AS c FROM server_metrics").get() as { c: number }).c;
      assertEquals(n, data!.rows.server);
    } finally {
      read.close();
    }
  } finally {
    await mock.close();
  }
});

Deno.test("telemetry: without a host the service has a worker of its own", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 1, itlMs: 0, outputTokens: 2 });
  try {
    let data;
    const started = await workersStarted(async () => {
      const t = await Telemetry.start({
        server: { url: `${mock.url}/metrics`, headers: {}, extra: [] },
        gpu: false,
        intervalMs: 100,
      }, quiet);
      assert(t !== undefined);
      data = await t.stop();
    });
    assertEquals(started.filter((u) => u.includes("telemetry_worker")).length, 1);
    assert(data!.server !== undefined);
    assertEquals(data!.rows.server, 0); // no DB: nothing written
  } finally {
    await mock.close();
  }
});

Deno.test("telemetry: a host thread gone before the stop leaves a stop that resolves", async () => {
  const mock = startMockServer({ port: 0, ttftMs: 1, itlMs: 0, outputTokens: 2 });
  await using tmp = await tempDir();
  const path = `${tmp.path}/benchmark_data.db`;
  try {
    const db = await ResultDb.open(path, runRow("t", {}));
    const t = await Telemetry.start({
      server: { url: `${mock.url}/metrics`, headers: {}, extra: [] },
      gpu: false,
      dbPath: path,
      host: () => db.hostTelemetry(),
    }, quiet);
    assert(t !== undefined);
    await db.close(); // the wrong order: the DB's thread goes first
    const data = await t.stop();
    assertEquals(data.rows, { server: 0, gpu: 0 });
    assert(String(data.dbFailure).includes("closed"), String(data.dbFailure));
  } finally {
    await mock.close();
  }
});
