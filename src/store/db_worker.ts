/**
 * The result DB writer, in its own Web Worker so that pickling and SQLite never run on the
 * thread that times requests. It receives batches of rows and writes each in one transaction
 * (WAL mode), so a killed process leaves a DB that opens and holds every committed batch.
 *
 * A write that fails (a full disk, an I/O error) stops the writing: the worker says why at once,
 * in one unasked `failed` message naming SQLite's result code (`disk full (SQLITE_FULL)`), drops
 * later rows, and still tries to finish the `run` row and close the file, so what was committed
 * stays readable.
 *
 * Messages in: `open`, `rows`, `finish`, `close`. Messages out: `opened`, `closed`, `error`
 * (answers to `open` and `close`), `failed` (unasked, once).
 *
 * @module
 */
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { pickleBase64 } from "./pickle.ts";
import { splitPayloads } from "../workers/messages.ts";
import { Redactor } from "../redact.ts";
import {
  createTable,
  type Encoding,
  insertInto,
  RESULT_COLUMNS,
  type ResultValues,
  RUN_COLUMNS,
  type RunRow,
} from "./schema.ts";

/** Messages the worker accepts. */
export type DbWorkerIn =
  | { type: "open"; path: string; run: RunRow; secrets?: readonly string[] }
  | { type: "rows"; rows: ResultValues[] }
  | { type: "finish"; endedAt: number; interrupted: boolean; client: string | null }
  | { type: "close" };

/** Messages the worker sends. */
export type DbWorkerOut =
  | { type: "opened" }
  | { type: "closed"; rows: number }
  | { type: "error"; message: string; rows: number }
  | { type: "failed"; message: string };

/**
 * SQLite's primary result codes that a write can meet: number, name, what it means, and
 * SQLite's own text for it (errors from `exec` carry only the text).
 */
const SQLITE_CODES: ReadonlyArray<[number, string, string, string]> = [
  [3, "SQLITE_PERM", "permission denied", "access permission denied"],
  [5, "SQLITE_BUSY", "the file is locked", "database is locked"],
  [8, "SQLITE_READONLY", "read-only", "attempt to write a readonly database"],
  [10, "SQLITE_IOERR", "I/O error", "disk I/O error"],
  [11, "SQLITE_CORRUPT", "the file is corrupt", "database disk image is malformed"],
  [13, "SQLITE_FULL", "disk full", "database or disk is full"],
  [14, "SQLITE_CANTOPEN", "cannot open the file", "unable to open database file"],
  [26, "SQLITE_NOTADB", "not a database", "file is not a database"],
];

/** A SQLite error in words with its result code: `disk full (SQLITE_FULL)`. */
function describeSqliteError(e: unknown): string {
  const code = (e as { errcode?: unknown })?.errcode;
  const message = e instanceof Error ? e.message : String(e);
  const known = SQLITE_CODES.find(([n, , , text]) =>
    typeof code === "number" ? (code & 0xff) === n : message.startsWith(text)
  );
  if (known) return `${known[2]} (${known[1]})`;
  return typeof code === "number" ? `${message} (SQLite code ${code})` : message;
}

let db: DatabaseSync | undefined;
let insert: ReturnType<DatabaseSync["prepare"]> | undefined;
let written = 0;
/** The run's secrets: replaced in request bodies and responses before they are written. */
let redactor = new Redactor();
let failed: string | undefined;

/** The worker's global scope, typed without a `deno.worker` lib directive (JSR refuses those). */
const scope = self as unknown as {
  postMessage(m: DbWorkerOut): void;
  onmessage: ((ev: MessageEvent<DbWorkerIn>) => void) | null;
};

function post(m: DbWorkerOut): void {
  scope.postMessage(m);
}

/** What the DB writer stores for a value, by the column's encoding (see `schema.ts`). */
const ENCODE: Record<Encoding, (v: unknown) => SQLInputValue> = {
  "pickle-request": (v) => pickleBase64(requestValue(v)),
  "pickle-payloads": (v) => pickleBase64(responseValue(v as string[] | string)),
  "json": (v) => JSON.stringify(Array.from(v as ArrayLike<number>)),
  "true-false": (v) => (v ? "True" : "False"),
};

/** Each `result` column's `:name` parameter, and its encoder. */
const PARAMS = RESULT_COLUMNS.map((c) => `:${c.name}`);
const ENCODERS = RESULT_COLUMNS.map((c) => (c.encoding ? ENCODE[c.encoding] : undefined));

/** A row's values, encoded, keyed by their columns' `:name` parameters. */
function bindings(row: ResultValues): Record<string, SQLInputValue> {
  const out: Record<string, SQLInputValue> = {};
  for (let i = 0; i < PARAMS.length; i++) {
    const encode = ENCODERS[i];
    out[PARAMS[i]] = encode ? encode(row[i]) : row[i] as SQLInputValue;
  }
  return out;
}

/** The same keyed by `:name`, for any table's row of plain values. */
function named(row: Record<string, unknown>): Record<string, SQLInputValue> {
  const out: Record<string, SQLInputValue> = {};
  for (const [k, v] of Object.entries(row)) out[`:${k}`] = v as SQLInputValue;
  return out;
}

function writeRows(rows: ResultValues[]): void {
  if (!db || !insert) return;
  db.exec("BEGIN");
  try {
    for (const r of rows) insert.run(bindings(r));
    db.exec("COMMIT");
    written += rows.length;
  } catch (e) {
    // SQLite rolls back by itself on some errors (SQLITE_FULL among them): a ROLLBACK then
    // fails with "no transaction is active", which must not hide the real cause.
    try {
      if (db.isTransaction) db.exec("ROLLBACK");
    } catch { /* the cause is e */ }
    throw e;
  }
}

function quietly(fn: () => void): void {
  try {
    fn();
  } catch { /* nothing is lost */ }
}

/** The request body to store: the secrets it holds (a template can put one there) replaced. */
function requestValue(request: unknown): unknown {
  if (typeof request !== "string") return redactor.value(request);
  const body = JSON.parse(request);
  return redactor.has(request) ? redactor.value(body) : body;
}

/** The response payloads to store: a secret the server echoed (a header, the key) replaced. */
function responseValue(joined: string[] | string): string[] {
  const payloads = splitPayloads(joined);
  const found = typeof joined === "string"
    ? redactor.has(joined)
    : payloads.some((p) => redactor.has(p));
  return found ? payloads.map((p) => redactor.scrub(p)) : payloads;
}

/** Keep the first failure, and say it at once in a `failed` message. */
function fail(e: unknown): void {
  if (failed !== undefined) return;
  failed = describeSqliteError(e);
  post({ type: "failed", message: failed });
}

/** Run `fn`; a failure is kept (see {@link fail}). */
function attempt(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    fail(e);
  }
}

scope.onmessage = (ev: MessageEvent<DbWorkerIn>) => {
  const m = ev.data;
  if (m.type === "open") {
    try {
      redactor = new Redactor(m.secrets ?? []);
      open(m.path, m.run);
      post({ type: "opened" });
    } catch (e) {
      post({ type: "error", message: describeSqliteError(e), rows: 0 });
    }
  } else if (m.type === "rows") {
    if (failed === undefined) {
      // A batch that does not fit is tried again row by row, so the file keeps all that fits.
      try {
        writeRows(m.rows);
      } catch (e) {
        if (m.rows.length === 1) fail(e);
        for (const row of m.rows) {
          if (failed !== undefined) break;
          attempt(() => writeRows([row]));
        }
      }
    }
  } else if (m.type === "finish") {
    // Not after a failure: a DB that lost rows keeps no end time, so it never reads as complete.
    if (failed === undefined) {
      const end: Partial<RunRow> = {
        ended_at: m.endedAt,
        interrupted: m.interrupted ? 1 : 0,
        requests: written,
        client: m.client,
      };
      const sets = Object.keys(end).map((k) => `${k} = :${k}`).join(", ");
      attempt(() => db && prepareNamed(`UPDATE run SET ${sets}`).run(named(end)));
    }
  } else if (m.type === "close") {
    // A checkpoint that does not fit leaves the rows in the WAL file, which is read with the DB.
    quietly(() => db?.exec("PRAGMA wal_checkpoint(TRUNCATE)"));
    quietly(() => db?.close());
    db = undefined;
    if (failed !== undefined) post({ type: "error", message: failed, rows: written });
    else post({ type: "closed", rows: written });
  }
};

function open(path: string, r: RunRow): void {
  // The telemetry thread writes its tables through a second connection: wait for its lock.
  db = new DatabaseSync(path, { timeout: 10_000 });
  db.exec("PRAGMA journal_mode=WAL");
  db.exec("PRAGMA synchronous=NORMAL");
  db.exec(createTable("result", RESULT_COLUMNS));
  db.exec(createTable("run", RUN_COLUMNS));
  insert = prepareNamed(insertInto("result", RESULT_COLUMNS));
  prepareNamed(insertInto("run", RUN_COLUMNS)).run(named(r));
}

/** A statement whose parameters are bound by `:name` keys only. */
function prepareNamed(sql: string): ReturnType<DatabaseSync["prepare"]> {
  const stmt = db!.prepare(sql);
  stmt.setAllowBareNamedParameters(false); // keys carry their `:`: one lookup per value
  return stmt;
}
