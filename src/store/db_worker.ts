/**
 * The result DB writer, in its own Web Worker so that pickling and SQLite never run on the
 * thread that times requests. It receives batches of rows and writes each in one transaction
 * (a rollback journal, no syncs), so a killed process leaves a DB that opens and holds every
 * committed batch. Rows come from the threads that finished the requests: each transport worker
 * posts its own on a `MessagePort` of its own (registered with a `port` message), the main thread
 * on the worker's channel; the main thread never handles a worker's payloads. It also hosts the
 * run's telemetry service on a port of its own (`telemetry` message). Closing waits for every
 * port's `end` (or `lost`, for a thread that died), so the DB holds every row sent.
 *
 * A write that fails (a full disk, an I/O error) stops the writing: the worker says why at once,
 * in one unasked `failed` message naming SQLite's result code (`disk full (SQLITE_FULL)`), drops
 * later rows, and still tries to finish the `run` row and close the file, so what was committed
 * stays readable.
 *
 * Messages in: `open`, `port`, `telemetry`, `lost`, `secrets`, `rows`, `finish`, `close` (on a
 * port: `rows`, `secrets`, `end`).
 * Messages out: `opened`, `closed`, `error` (answers to `open` and `close`), `failed` and
 * `waiting` (unasked, once each: writing stopped; rows wait for a reader's lock).
 *
 * @module
 */
import { jsonNumbers } from "../util/json_numbers.ts";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import type { Failure } from "../records/record.ts";
import { type PayloadBlob, unpackPayloads } from "../records/payloads.ts";
import { base64PickleUtf8List, pickleBase64 } from "./pickle.ts";
import { describeSqliteError, primaryCode, SQLITE } from "./sqlite_errors.ts";
import { Redactor } from "../redact.ts";
import type { RowsMessage } from "./rows.ts";
import {
  createTable,
  type Encoding,
  insertInOrder,
  insertInto,
  JOURNAL_PRAGMAS,
  RESULT_COLUMNS,
  type ResultValues,
  RUN_COLUMNS,
  type RunRow,
  WRITE_TIMEOUT_MS,
} from "./schema.ts";

/** Messages the worker accepts. */
export type DbWorkerIn =
  | {
    type: "open";
    path: string;
    run: RunRow;
    secrets?: readonly string[];
    /** Rows per transaction at most (`--db-commit-interval`); default: a batch in one. */
    commitEvery?: number;
  }
  /** Rows will come on `port` too (from a transport worker), until its `end`. */
  | { type: "port"; id: number; port: MessagePort }
  /** Host the run's telemetry service on `port` (`telemetry/telemetry_service.ts`). */
  | { type: "telemetry"; port: MessagePort }
  /** The thread that held port `id` is gone: its `end` will not come. */
  | { type: "lost"; id: number }
  /** More values to keep out of the rows (found after the DB opened: a request's own headers). */
  | { type: "secrets"; secrets: readonly string[] }
  | RowsMessage
  | {
    type: "finish";
    endedAt: number;
    interrupted: boolean;
    client: string | null;
    loadStartedAt: number | null;
  }
  | { type: "close" };

/** Messages the worker sends. */
export type DbWorkerOut =
  | { type: "opened" }
  /** Unasked, once: rows are waiting for another connection's lock (a reader of the file). */
  | { type: "waiting"; message: string }
  | { type: "closed"; rows: number }
  | { type: "error"; message: string; rows: number }
  | { type: "failed"; message: string };

let db: DatabaseSync | undefined;
let insert: ReturnType<DatabaseSync["prepare"]> | undefined;
let written = 0;
/** The run's secrets: replaced in request bodies and responses before they are written. */
let redactor = new Redactor();
let failed: string | undefined;
let commitEvery = Infinity;

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
  "pickle-request": (v) => storedRequest(v),
  "pickle-payloads": (v) => responseValue(v as PayloadBlob),
  "json": (v) => (v === null ? null : jsonNumbers(v as ArrayLike<number>)),
  "failure": (v) => (v === null ? null : JSON.stringify(failureValue(v as Failure))),
  "true-false": (v) => (v ? "True" : "False"),
};

/** Each `result` column's encoder. */
const ENCODERS = RESULT_COLUMNS.map((c) => (c.encoding ? ENCODE[c.encoding] : undefined));

/** A row's values, encoded, in {@link RESULT_COLUMNS} order (the insert's `?` parameters). */
function bindings(row: ResultValues): SQLInputValue[] {
  const out = new Array<SQLInputValue>(ENCODERS.length);
  for (let i = 0; i < ENCODERS.length; i++) {
    const encode = ENCODERS[i];
    out[i] = encode ? encode(row[i]) : row[i] as SQLInputValue;
  }
  return out;
}

/** The same keyed by `:name`, for any table's row of plain values. */
function named(row: Record<string, unknown>): Record<string, SQLInputValue> {
  const out: Record<string, SQLInputValue> = {};
  for (const [k, v] of Object.entries(row)) out[`:${k}`] = v as SQLInputValue;
  return out;
}

/**
 * A batch, in transactions of at most `commitEvery` rows (`--db-commit-interval`). When one of a
 * split batch's transactions fails it throws {@link ChunkError}, saying how many rows are in.
 */
function writeRows(rows: ResultValues[]): void {
  if (rows.length <= commitEvery) return writeTransaction(rows);
  for (let i = 0; i < rows.length; i += commitEvery) {
    try {
      writeTransaction(rows.slice(i, i + commitEvery));
    } catch (e) {
      throw new ChunkError(e, i);
    }
  }
}

/** A transaction of a split batch failed after `committed` rows of it were in the file. */
class ChunkError {
  constructor(readonly cause: unknown, readonly committed: number) {}
}

/**
 * Times one transaction waits out another connection's lock (each wait `WRITE_TIMEOUT_MS`, a
 * minute) before the write counts as failed: a reader of the live file holds commits off for as
 * long as it reads (a rollback journal's rule), and its rows wait in memory meanwhile.
 */
const LOCKED_WAITS = 10;

/** Whether `e` is SQLite's "database is locked" (`SQLITE_BUSY`). */
function isLocked(e: unknown): boolean {
  return primaryCode(e) === SQLITE.BUSY;
}

let saidLocked = false;

function writeTransaction(rows: ResultValues[]): void {
  for (let wait = 1;; wait++) {
    try {
      return writeOnce(rows);
    } catch (e) {
      if (!isLocked(e) || wait >= LOCKED_WAITS) throw e;
      if (!saidLocked) {
        saidLocked = true;
        post({
          type: "waiting",
          message: "the result DB is locked by another connection (a reader of the live file?): " +
            `its rows wait in memory; writing stops after ${LOCKED_WAITS} minutes of it`,
        });
      }
    }
  }
}

function writeOnce(rows: ResultValues[]): void {
  if (!db || !insert) return;
  // Its first statement writes (so does the telemetry's): a transaction that read first and
  // wrote after could be refused at once, without the busy wait, by the other writer's lock.
  db.exec("BEGIN");
  try {
    for (const r of rows) insert.run(...bindings(r));
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

/**
 * The last request body stored and its pickle: consecutive requests of a run often send the same
 * body (one `--prompt`), and its parse and pickle (~15 µs) are then done once. Cleared when the
 * run's secrets change.
 */
let lastRequest: { body: string; stored: string } | undefined;

/** The request column's value: the body's pickle, in base64, with the secrets out. */
function storedRequest(request: unknown): string {
  if (typeof request !== "string") return pickleBase64(requestValue(request));
  if (lastRequest?.body === request) return lastRequest.stored;
  const stored = pickleBase64(requestValue(request));
  lastRequest = { body: request, stored };
  return stored;
}

/** The request body to store: the secrets it holds (a template can put one there) replaced. */
function requestValue(request: unknown): unknown {
  if (typeof request !== "string") return redactor.value(request);
  const body = JSON.parse(request);
  return redactor.has(request) ? redactor.value(body) : body;
}

const utf8 = new TextDecoder();

/**
 * The response payloads to store, pickled and base64-encoded: straight from their bytes, unless
 * they hold a secret the server echoed (a header, the key), which is replaced first.
 */
function responseValue(blob: PayloadBlob): string {
  if (redactor.secrets.length > 0 && redactor.has(utf8.decode(blob.utf8))) {
    return pickleBase64(unpackPayloads(blob).map((p) => redactor.scrub(p)));
  }
  return base64PickleUtf8List(blob.utf8, blob.count, blob.lengths);
}

/** A failure to store: its message and body excerpt with the secrets and URL credentials out. */
function failureValue(f: Failure): Failure {
  const out = { ...f, message: redactor.text(f.message) };
  if (f.body !== undefined) out.body = redactor.text(f.body);
  return out;
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

/** Ports whose rows are still coming, by id. */
const ports = new Map<number, MessagePort>();
/** The run row's end, kept until every row is in. */
let ending: Extract<DbWorkerIn, { type: "finish" }> | undefined;
/** Whether the main thread asked to close (done once every port has ended). */
let closing = false;

function rows(batch: ResultValues[]): void {
  if (failed !== undefined) return;
  // A batch that does not fit is tried again row by row, so the file keeps all that fits.
  try {
    writeRows(batch);
  } catch (thrown) {
    // Only the rows not yet committed are tried again (a split batch's first transactions may be
    // in the file already).
    const from = thrown instanceof ChunkError ? thrown.committed : 0;
    const e = thrown instanceof ChunkError ? thrown.cause : thrown;
    // Locked for ten minutes: the rows one by one would wait as long each.
    if (batch.length - from === 1 || isLocked(e)) return fail(e);
    for (let i = from; i < batch.length; i++) {
      if (failed !== undefined) break;
      attempt(() => writeTransaction([batch[i]]));
    }
  }
}

/** Keep `secrets` out of every row written from now on. */
function addSecrets(secrets: readonly string[]): void {
  redactor.add(secrets);
  lastRequest = undefined; // its pickle may hold one of them
}

function portEnded(id: number): void {
  const port = ports.get(id);
  if (port === undefined) return;
  ports.delete(id);
  port.close();
  if (closing && ports.size === 0) closeNow();
}

function finishRun(m: Extract<DbWorkerIn, { type: "finish" }>): void {
  // Not after a failure: a DB that lost rows keeps no end time, so it never reads as complete.
  if (failed !== undefined) return;
  const end: Partial<RunRow> = {
    ended_at: m.endedAt,
    interrupted: m.interrupted ? 1 : 0,
    requests: written,
    client: m.client,
    load_started_at: m.loadStartedAt,
  };
  const sets = Object.keys(end).map((k) => `${k} = :${k}`).join(", ");
  attempt(() => db && prepareNamed(`UPDATE run SET ${sets}`).run(named(end)));
}

function closeNow(): void {
  if (ending !== undefined) finishRun(ending);
  // Out of TRUNCATE, SQLite deletes the (empty) journal: a run folder holds the DB file alone.
  quietly(() => db?.exec("PRAGMA journal_mode=DELETE"));
  quietly(() => db?.close());
  db = undefined;
  if (failed !== undefined) post({ type: "error", message: failed, rows: written });
  else post({ type: "closed", rows: written });
}

scope.onmessage = (ev: MessageEvent<DbWorkerIn>) => {
  const m = ev.data;
  if (m.type === "port") {
    ports.set(m.id, m.port);
    m.port.onmessage = (e: MessageEvent<RowsMessage>) => {
      if (e.data.type === "rows") rows(e.data.rows);
      else if (e.data.type === "secrets") addSecrets(e.data.secrets);
      else portEnded(m.id);
    };
  } else if (m.type === "telemetry") {
    hostTelemetry(m.port);
  } else if (m.type === "lost") {
    portEnded(m.id);
  } else if (m.type === "secrets") {
    addSecrets(m.secrets);
  } else if (m.type === "open") {
    try {
      redactor = new Redactor(m.secrets ?? []);
      lastRequest = undefined;
      commitEvery = Math.max(1, m.commitEvery ?? Infinity);
      open(m.path, m.run);
      post({ type: "opened" });
    } catch (e) {
      post({ type: "error", message: describeSqliteError(e), rows: 0 });
    }
  } else if (m.type === "rows") {
    rows(m.rows);
  } else if (m.type === "finish") {
    ending = m;
  } else if (m.type === "close") {
    closing = true;
    if (ports.size === 0) closeNow();
  }
};

/**
 * Serve the run's telemetry on `port`, loaded only when asked (a run without telemetry never
 * compiles it). Should it not load, the service answers that nothing is read.
 */
function hostTelemetry(port: MessagePort): void {
  import("../telemetry/telemetry_service.ts").then(
    ({ serveTelemetry }) => serveTelemetry(port),
    (e) => {
      const why = `telemetry: the service could not start: ${e instanceof Error ? e.message : e}`;
      port.onmessage = (ev: MessageEvent<{ type: string }>) =>
        port.postMessage(
          ev.data.type === "start"
            ? { type: "started", lines: [why], server: false, gpu: false }
            : { type: "stopped", data: { rows: { server: 0, gpu: 0 } } },
        );
    },
  );
}

function open(path: string, r: RunRow): void {
  // The telemetry thread writes its tables through a second connection, and a reader of the live
  // file holds off commits: wait for their locks.
  db = new DatabaseSync(path, { timeout: WRITE_TIMEOUT_MS });
  // 16 KiB pages: a row holds every payload of its response (11 KB of base64 at 32 tokens, 80 KB
  // at 256), which on 4 KiB pages is a chain of overflow pages; larger pages cost disk (a 30 KB
  // row takes a whole 64 KiB overflow page: 64 KB per row). A new file only (an existing DB keeps
  // its page size). Then the journal: see `JOURNAL_PRAGMAS`.
  db.exec("PRAGMA page_size=16384");
  for (const p of JOURNAL_PRAGMAS) db.exec(p);
  db.exec(createTable("result", RESULT_COLUMNS));
  db.exec(createTable("run", RUN_COLUMNS));
  insert = db.prepare(insertInOrder("result", RESULT_COLUMNS));
  prepareNamed(insertInto("run", RUN_COLUMNS)).run(named(r));
}

/** A statement whose parameters are bound by `:name` keys only. */
function prepareNamed(sql: string): ReturnType<DatabaseSync["prepare"]> {
  const stmt = db!.prepare(sql);
  stmt.setAllowBareNamedParameters(false); // keys carry their `:`: one lookup per value
  return stmt;
}
