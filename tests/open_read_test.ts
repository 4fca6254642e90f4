/**
 * Reading a result DB whatever its writer left: a process killed inside a transaction (a hot
 * rollback journal beside the file), or a writer holding its lock while the reader opens it.
 * The writers here are real processes that keep the writer's journal (`JOURNAL_PRAGMAS`) on the
 * `result` table, stopped with SIGKILL.
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { tempDir } from "./helpers/cli.ts";
import { DatabaseSync } from "node:sqlite";
import { openForReading, SQLITE_READONLY_ROLLBACK } from "../src/store/open_read.ts";
import { openResultDb } from "../src/report/from_db.ts";

const SCHEMA = new URL("../src/store/schema.ts", import.meta.url).href;

/**
 * A child that writes `committed` rows in one transaction, then opens another with `pending`
 * more rows and an update of the committed ones, says `ready`, and waits to be killed.
 */
function writerScript(path: string, committed: number, pending: number): string {
  return `
    import { DatabaseSync } from "node:sqlite";
    import { createTable, insertInOrder, JOURNAL_PRAGMAS, RESULT_COLUMNS } from "${SCHEMA}";
    const db = new DatabaseSync(${JSON.stringify(path)});
    db.exec("PRAGMA page_size=16384");
    for (const p of JOURNAL_PRAGMAS) db.exec(p);
    db.exec(createTable("result", RESULT_COLUMNS));
    const insert = db.prepare(insertInOrder("result", RESULT_COLUMNS));
    const row = (i) => RESULT_COLUMNS.map((c) =>
      c.name === "response_messages" ? "x".repeat(30000) : c.name === "latency" ? i : null);
    db.exec("BEGIN");
    for (let i = 0; i < ${committed}; i++) insert.run(...row(i));
    db.exec("COMMIT");
    db.exec("BEGIN");
    for (let i = 0; i < ${pending}; i++) insert.run(...row(1000 + i));
    db.exec("UPDATE result SET latency = -1");
    console.log("ready");
    setInterval(() => {}, 1000);
  `;
}

/** Run `script` in a child until it prints `ready`, then kill it (SIGKILL). */
async function killWhenReady(script: string): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", script],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("ready")) {
    const r = await reader.read();
    if (r.done) throw new Error(`the writer ended before it was ready: ${out}`);
    out += r.value;
  }
  child.kill("SIGKILL");
  await reader.cancel();
  assertEquals((await child.status).signal, "SIGKILL");
}

function latencies(db: DatabaseSync): number[] {
  return (db.prepare("SELECT latency FROM result ORDER BY rowid").all() as { latency: number }[])
    .map((r) => r.latency);
}

Deno.test("openForReading: a writer killed inside a transaction leaves exactly the committed rows", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.path}/benchmark_data.db`;
  await killWhenReady(writerScript(path, 5, 40));
  // The kill left a hot journal: a plain read-only connection cannot read the file.
  assert((await Deno.stat(`${path}-journal`)).size > 0, "no journal left by the killed writer");
  const plain = new DatabaseSync(path, { readOnly: true });
  const err = assertThrows(() => plain.prepare("SELECT COUNT(*) FROM result").get());
  assertEquals((err as { errcode?: number }).errcode, SQLITE_READONLY_ROLLBACK);
  plain.close();

  const db = openForReading(path);
  try {
    // The 40 uncommitted rows are gone and the uncommitted update undone.
    assertEquals(latencies(db), [0, 1, 2, 3, 4]);
  } finally {
    db.close();
  }
  assertEquals((await Deno.stat(`${path}-journal`).catch(() => ({ size: 0 }))).size, 0);
});

Deno.test("openResultDb (report, merge): reads a DB whose writer was killed inside a transaction", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.path}/benchmark_data.db`;
  await killWhenReady(writerScript(path, 3, 10));
  const db = openResultDb(path);
  try {
    assertEquals(latencies(db), [0, 1, 2]);
  } finally {
    db.close();
  }
});

Deno.test("openForReading: while a writer holds its lock, the reader waits for the commit", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.path}/t.db`;
  const setup = new DatabaseSync(path);
  setup.exec("CREATE TABLE result(latency REAL); INSERT INTO result VALUES (1)");
  setup.close();
  // A child takes the write lock for 400 ms, adds a row, and commits.
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { DatabaseSync } from "node:sqlite";
       const db = new DatabaseSync(${JSON.stringify(path)});
       db.exec("BEGIN EXCLUSIVE; INSERT INTO result VALUES (2)");
       console.log("locked");
       await new Promise((r) => setTimeout(r, 400));
       db.exec("COMMIT"); db.close();`,
    ],
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("locked")) out += (await reader.read()).value ?? "";
  const t0 = performance.now();
  const db = openForReading(path);
  try {
    assertEquals(latencies(db), [1, 2]); // read after the commit, not "database is locked"
    assert(performance.now() - t0 > 100, "the reader did not wait for the writer");
  } finally {
    db.close();
    await reader.cancel();
    await child.status;
  }
});
