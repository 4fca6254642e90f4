/**
 * Reading a result DB whatever its writer left: a process killed inside a transaction (a hot
 * rollback journal beside the file), or a writer holding its lock while the reader opens it.
 * The writers here are real processes that keep the writer's journal (`JOURNAL_PRAGMAS`) on the
 * `result` table, stopped with SIGKILL.
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { tempDir } from "./helpers/cli.ts";
import { DatabaseSync } from "node:sqlite";
import { openForReading, resultRows, SQLITE_READONLY_ROLLBACK } from "../src/store/open_read.ts";
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
  await killWhenReady(writerScript(path, 5, 300)); // 9 MB: past the page cache, into the file
  // The kill left a hot journal: a plain read-only connection cannot read the file.
  assert((await Deno.stat(`${path}-journal`)).size > 0, "no journal left by the killed writer");
  const plain = new DatabaseSync(path, { readOnly: true });
  const err = assertThrows(() => plain.prepare("SELECT COUNT(*) FROM result").get());
  assertEquals((err as { errcode?: number }).errcode, SQLITE_READONLY_ROLLBACK);
  plain.close();

  const db = openForReading(path);
  try {
    // The 300 uncommitted rows are gone (written to the file, then rolled back) and the update undone.
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

Deno.test("openForReading: the reader's timeout is its own, not SQLite's default 5 s", () => {
  const path = Deno.makeTempFileSync({ suffix: ".db" });
  try {
    const setup = new DatabaseSync(path);
    setup.exec("CREATE TABLE result(latency REAL)");
    setup.close();
    for (const ms of [200, 20_000]) {
      const db = openForReading(path, ms);
      assertEquals((db.prepare("PRAGMA busy_timeout").get() as { timeout: number }).timeout, ms);
      db.close();
    }
  } finally {
    Deno.removeSync(path);
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

Deno.test("resultRows: every row in rowid order, a chunk per query; between chunks a writer commits", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.path}/t.db`;
  const setup = new DatabaseSync(path);
  setup.exec("CREATE TABLE result(latency REAL, note TEXT)");
  const ins = setup.prepare("INSERT INTO result VALUES (?, ?)");
  setup.exec("BEGIN");
  for (let i = 0; i < 1300; i++) ins.run(i, `row ${i}`);
  setup.exec("COMMIT");
  setup.exec("DELETE FROM result WHERE latency % 7 = 3"); // gaps in the rowids
  const expected = setup.prepare("SELECT * FROM result ORDER BY rowid").all();
  setup.close();

  const db = openForReading(path);
  const writer = new DatabaseSync(path, { timeout: 0 }); // no waiting: fails if a read is held
  try {
    const got: unknown[] = [];
    let chunks = 0;
    for (const row of resultRows(db, 100)) {
      got.push(row);
      if (got.length % 100 === 0) {
        chunks++;
        // Between two chunks no read is open: a commit goes through at once. The row it adds
        // (rowid past the last) is read too, as a report on a live file reads what came meanwhile.
        if (chunks === 3) writer.exec("INSERT INTO result VALUES (-1, 'late')");
      }
    }
    assertEquals(got.slice(0, expected.length), expected);
    assertEquals(got.length, expected.length + 1);
    assertEquals((got.at(-1) as { note: string }).note, "late");
  } finally {
    writer.close();
    db.close();
  }
});
