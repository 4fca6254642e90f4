/**
 * Opening a result DB to read it, whatever state its writer left it in. The writer keeps a
 * rollback journal (`JOURNAL_PRAGMAS` in `schema.ts`): a process killed inside a transaction
 * leaves a "hot" journal beside the file, which the next connection that can write must roll
 * back before anyone reads. A read-only connection cannot, and SQLite refuses it
 * (`SQLITE_READONLY_ROLLBACK`); so {@link openForReading} rolls the journal back once through a
 * read-write connection, then opens the file read-only. While a run is writing the file, a
 * reader waits for the writer's commit (`timeoutMs`) rather than failing with "database is
 * locked".
 *
 * @example
 * ```ts
 * import { openForReading } from "./open_read.ts";
 * const path = await Deno.makeTempFile({ suffix: ".db" });
 * const db = openForReading(path);
 * db.close();
 * ```
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { primaryCode, SQLITE } from "./sqlite_errors.ts";

/** SQLite's extended result code for "a hot journal needs rolling back, and this is read-only". */
export const SQLITE_READONLY_ROLLBACK = 776;

/** How long a reader waits for a writer's lock by default, ms. */
export const READ_TIMEOUT_MS = 10_000;

/**
 * Open `path` read-only, first rolling back a transaction its writer left unfinished (a killed
 * process). Throws SQLite's error when the file cannot be opened or read, or when its journal
 * needs rolling back and the file cannot be written here (the error then says so).
 */
export function openForReading(path: string, timeoutMs = READ_TIMEOUT_MS): DatabaseSync {
  const db = readOnly(path, timeoutMs);
  try {
    db.prepare("SELECT 1 FROM sqlite_master LIMIT 1").get(); // the first read meets the journal
    return db;
  } catch (e) {
    db.close();
    if ((e as { errcode?: unknown }).errcode !== SQLITE_READONLY_ROLLBACK) throw e;
  }
  try {
    const rw = new DatabaseSync(path, { timeout: timeoutMs });
    try {
      rw.prepare("SELECT 1 FROM sqlite_master LIMIT 1").get(); // rolls the journal back
    } finally {
      rw.close();
    }
  } catch (e) {
    const code = primaryCode(e);
    if (code !== SQLITE.READONLY && code !== SQLITE.PERM && code !== SQLITE.CANTOPEN) throw e;
    throw new Error(
      `its writer stopped inside a transaction and the file cannot be written here to roll it ` +
        `back (${(e as Error).message}): open it once with write access, or copy it together ` +
        "with its -journal file somewhere writable",
    );
  }
  return readOnly(path, timeoutMs);
}

/**
 * A read-only connection that waits `timeoutMs` for a writer's lock: node:sqlite does not apply
 * its `timeout` option to a read-only connection (it keeps SQLite's 5 s), so the pragma sets it.
 */
function readOnly(path: string, timeoutMs: number): DatabaseSync {
  const db = new DatabaseSync(path, { readOnly: true, timeout: timeoutMs });
  db.exec(`PRAGMA busy_timeout=${Math.max(0, Math.floor(timeoutMs))}`);
  return db;
}

/**
 * The `result` table's rows in order, read `chunk` rows per query: each query is a short read
 * of its own, so a caller that takes its time over each row (a report on a live run's file)
 * never holds the writer's commits off for longer than one chunk's read.
 */
export function* resultRows(
  db: DatabaseSync,
  chunk = 512,
): Generator<Record<string, unknown>> {
  const ids = db.prepare("SELECT rowid AS id FROM result WHERE rowid > ? ORDER BY rowid LIMIT ?");
  const rows = db.prepare("SELECT * FROM result WHERE rowid BETWEEN ? AND ? ORDER BY rowid");
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const got = ids.all(after, chunk) as { id: number }[];
    if (got.length === 0) return;
    const last = got[got.length - 1].id;
    yield* rows.all(got[0].id, last) as Record<string, unknown>[];
    after = last;
  }
}
