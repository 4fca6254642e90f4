/**
 * What writes the result DB: a {@link ResultWriter} takes the messages a run sends its writer
 * (`open`, `rows`, `secrets`, `finish`, `close`, and ports other threads post their rows on),
 * pickles, redacts and writes each batch of rows in one transaction (a rollback journal, no syncs),
 * so a killed process leaves a DB that opens and holds every committed batch. Closing waits for
 * every port's `end` (or `lost`, for a thread that died), so the DB holds every row sent.
 *
 * It runs where the run puts it: on a thread of its own (`db_worker.ts`, the default, so that
 * pickling and SQLite never run on a thread that times requests), or on the main thread of a
 * process that may use one core and sends from its main thread (`result_db.ts`), where a second
 * thread would only share that core. There it must never block: another connection's lock (a
 * reader of the live file) is not waited out in SQLite's busy loop but by keeping the rows and
 * trying again on a timer (`locks: "yield"`).
 *
 * A write that fails (a full disk, an I/O error) stops the writing: the writer says why at once,
 * in one unasked `failed` message naming SQLite's result code (`disk full (SQLITE_FULL)`), drops
 * later rows, and still tries to finish the `run` row and close the file, so what was committed
 * stays readable.
 *
 * @example
 * ```ts ignore
 * import { ResultWriter } from "./result_writer.ts";
 * const writer = new ResultWriter({ post: (m) => console.log(m.type) });
 * writer.handle({ type: "open", path: "/tmp/x/benchmark_data.db", run: runRow("t", {}) }); // opened
 * ```
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
  LOCKED_FOR_MS,
  type LockWaits,
  namedParams,
  RESULT_COLUMNS,
  type ResultValues,
  RUN_COLUMNS,
  type RunRow,
  WRITE_TIMEOUT_MS,
} from "./schema.ts";

/** Messages the writer accepts. */
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

/** Messages the writer sends. */
export type DbWorkerOut =
  | { type: "opened" }
  /** Unasked, once: rows are waiting for another connection's lock (a reader of the file). */
  | { type: "waiting"; message: string }
  | { type: "closed"; rows: number }
  | { type: "error"; message: string; rows: number }
  | { type: "failed"; message: string };

/** Options of {@link ResultWriter}. */
export interface WriterOptions {
  /** Sends what the writer says: answers to `open` and `close`, unasked `failed` and `waiting`. */
  post(m: DbWorkerOut): void;
  /**
   * How another connection's lock is waited out: `block` (SQLite's busy wait, a minute a try:
   * for a thread of its own; the default) or `yield` (no wait: the rows are kept and tried again
   * every {@link RETRY_MS}, for a thread that also sends and reads requests).
   */
  locks?: LockWaits;
  /** The clock of the lock's time limit, ms (`performance.now`; a test's own). */
  now?: () => number;
  /**
   * Told of an error thrown in the writer's own later tasks (`locks: "yield"`: a retry); unset,
   * it is thrown, as a worker's uncaught error.
   */
  onError?: (e: unknown) => void;
}

/**
 * Times one transaction waits out another connection's lock (each wait `WRITE_TIMEOUT_MS`, a
 * minute) before the write counts as failed: a reader of the live file holds commits off for as
 * long as it reads (a rollback journal's rule), and its rows wait in memory meanwhile. Yielding,
 * the same `LOCKED_FOR_MS` in all.
 */
const LOCKED_WAITS = LOCKED_FOR_MS / WRITE_TIMEOUT_MS;

/** With `locks: "yield"`, how often rows kept for a lock are tried again, ms. */
export const RETRY_MS = 50;

/** With `locks: "yield"`, how long a lock holds every write off before the run is told, ms. */
export const SAY_LOCKED_AFTER_MS = 1000;

/** With `locks: "yield"`, the longest run of kept batches written in one task, ms. */
const DRAIN_SLICE_MS = 4;

/** Whether `e` is SQLite's "database is locked" (`SQLITE_BUSY`). */
function isLocked(e: unknown): boolean {
  return primaryCode(e) === SQLITE.BUSY;
}

/** A transaction of a split batch failed after `committed` rows of it were in the file. */
class ChunkError {
  constructor(readonly cause: unknown, readonly committed: number) {}
}

function quietly(fn: () => void): void {
  try {
    fn();
  } catch { /* nothing is lost */ }
}

const utf8 = new TextDecoder();

/** The result DB's writer: see the module's documentation. */
export class ResultWriter {
  #post: (m: DbWorkerOut) => void;
  #yield: boolean;
  #db: DatabaseSync | undefined;
  #insert: ReturnType<DatabaseSync["prepare"]> | undefined;
  #written = 0;
  /** The run's secrets: replaced in request bodies and responses before they are written. */
  #redactor = new Redactor();
  #failed: string | undefined;
  #commitEvery = Infinity;
  #saidLocked = false;
  /**
   * The last request body stored and its pickle: consecutive requests of a run often send the
   * same body (one `--prompt`), and its parse and pickle (~15 µs) are then done once. Cleared
   * when the run's secrets change.
   */
  #lastRequest: { body: string; stored: string } | undefined;
  /** Ports whose rows are still coming, by id. */
  #ports = new Map<number, MessagePort>();
  /** The run row's end, kept until every row is in. */
  #ending: Extract<DbWorkerIn, { type: "finish" }> | undefined;
  /** Whether the run asked to close (done once every port has ended and no row is kept). */
  #closing = false;
  /** With `locks: "yield"`: batches kept for another connection's lock, in order. */
  #kept: ResultValues[][] = [];
  /** When a lock was met with no transaction through since ({@link WriterOptions.now}), or 0. */
  #lockedAt = 0;
  #retry: ReturnType<typeof setTimeout> | undefined;
  /** With `locks: "yield"`: closing, retried for a lock (its own timer: see `#closeNow`). */
  #closeRetry: ReturnType<typeof setTimeout> | undefined;
  #now: () => number;
  #onError: ((e: unknown) => void) | undefined;

  /** What each `result` column's value is stored as, by its encoding (see `schema.ts`). */
  #encoders: Array<((v: unknown) => SQLInputValue) | undefined>;

  /** @param opts where the writer's messages go, and how it waits for a lock */
  constructor(opts: WriterOptions) {
    this.#post = opts.post;
    this.#yield = opts.locks === "yield";
    this.#now = opts.now ?? (() => performance.now());
    this.#onError = opts.onError;
    const encode: Record<Encoding, (v: unknown) => SQLInputValue> = {
      "pickle-request": (v) => this.#storedRequest(v),
      "pickle-payloads": (v) => this.#responseValue(v as PayloadBlob),
      "json": (v) => (v === null ? null : jsonNumbers(v as ArrayLike<number>)),
      "failure": (v) => (v === null ? null : JSON.stringify(this.#failureValue(v as Failure))),
      "true-false": (v) => (v ? "True" : "False"),
    };
    this.#encoders = RESULT_COLUMNS.map((c) => (c.encoding ? encode[c.encoding] : undefined));
  }

  /** Rows written (committed) so far. */
  get written(): number {
    return this.#written;
  }

  /**
   * Stop at once, writing nothing more (the run is being torn down): a retry waiting for a lock
   * is cancelled and the file closed as it is.
   */
  stop(): void {
    if (this.#retry !== undefined) clearTimeout(this.#retry);
    if (this.#closeRetry !== undefined) clearTimeout(this.#closeRetry);
    this.#retry = this.#closeRetry = undefined;
    this.#kept = [];
    quietly(() => this.#db?.close());
    this.#db = undefined;
  }

  /** Take one message (see {@link DbWorkerIn}). */
  handle(m: DbWorkerIn): void {
    if (m.type === "port") {
      this.#ports.set(m.id, m.port);
      m.port.onmessage = (e: MessageEvent<RowsMessage>) => {
        if (e.data.type === "rows") this.#rows(e.data.rows);
        else if (e.data.type === "secrets") this.#addSecrets(e.data.secrets);
        else this.#portEnded(m.id);
      };
    } else if (m.type === "telemetry") {
      hostTelemetry(m.port, this.#yield ? "yield" : "block");
    } else if (m.type === "lost") {
      this.#portEnded(m.id);
    } else if (m.type === "secrets") {
      this.#addSecrets(m.secrets);
    } else if (m.type === "open") {
      try {
        this.#redactor = new Redactor(m.secrets ?? []);
        this.#lastRequest = undefined;
        this.#commitEvery = Math.max(1, m.commitEvery ?? Infinity);
        this.#open(m.path, m.run);
        this.#post({ type: "opened" });
      } catch (e) {
        this.#post({ type: "error", message: describeSqliteError(e), rows: 0 });
      }
    } else if (m.type === "rows") {
      this.#rows(m.rows);
    } else if (m.type === "finish") {
      this.#ending = m;
    } else if (m.type === "close") {
      this.#closing = true;
      this.#closeWhenDone();
    }
  }

  /** A row's values, encoded, in {@link RESULT_COLUMNS} order (the insert's `?` parameters). */
  #bindings(row: ResultValues): SQLInputValue[] {
    const encoders = this.#encoders;
    const out = new Array<SQLInputValue>(encoders.length);
    for (let i = 0; i < encoders.length; i++) {
      const encode = encoders[i];
      out[i] = encode ? encode(row[i]) : row[i] as SQLInputValue;
    }
    return out;
  }

  /**
   * A batch, in transactions of at most `commitEvery` rows (`--db-commit-interval`). When one of
   * a split batch's transactions fails it throws {@link ChunkError}, saying how many rows are in.
   * `exclusive`: the first transaction takes the exclusive lock first (see `#writeOnce`).
   */
  #writeRows(rows: ResultValues[], exclusive = false): void {
    if (rows.length <= this.#commitEvery) return this.#writeTransaction(rows, exclusive);
    for (let i = 0; i < rows.length; i += this.#commitEvery) {
      try {
        this.#writeTransaction(rows.slice(i, i + this.#commitEvery), exclusive && i === 0);
      } catch (e) {
        throw new ChunkError(e, i);
      }
    }
  }

  #writeTransaction(rows: ResultValues[], exclusive = false): void {
    // Yielding, a lock is met at once (no busy wait) and the caller keeps the rows.
    const waits = this.#yield ? 1 : LOCKED_WAITS;
    for (let wait = 1;; wait++) {
      try {
        return this.#writeOnce(rows, exclusive);
      } catch (e) {
        if (!isLocked(e) || wait >= waits) throw e;
        this.#sayLocked();
      }
    }
  }

  #sayLocked(): void {
    if (this.#saidLocked) return;
    this.#saidLocked = true;
    this.#post({
      type: "waiting",
      message: "the result DB is locked by another connection (a reader of the live file?): " +
        `its rows wait in memory; writing stops after ${LOCKED_WAITS} minutes of it`,
    });
  }

  /**
   * One transaction. `exclusive`: take the file's exclusive lock first, so that a reader still
   * there is met before any row is encoded (a retry of kept rows).
   */
  #writeOnce(rows: ResultValues[], exclusive = false): void {
    const db = this.#db;
    const insert = this.#insert;
    if (!db || !insert) return;
    // Its first statement writes (so does the telemetry's): a transaction that read first and
    // wrote after could be refused at once, without the busy wait, by the other writer's lock.
    db.exec(exclusive ? "BEGIN EXCLUSIVE" : "BEGIN");
    try {
      for (const r of rows) insert.run(...this.#bindings(r));
      db.exec("COMMIT");
      this.#written += rows.length;
      this.#lockedAt = 0; // a transaction got through: the lock's time limit starts again
    } catch (e) {
      // SQLite rolls back by itself on some errors (SQLITE_FULL among them): a ROLLBACK then
      // fails with "no transaction is active", which must not hide the real cause.
      try {
        if (db.isTransaction) db.exec("ROLLBACK");
      } catch { /* the cause is e */ }
      throw e;
    }
  }

  /** The request column's value: the body's pickle, in base64, with the secrets out. */
  #storedRequest(request: unknown): string {
    if (typeof request !== "string") return pickleBase64(this.#requestValue(request));
    if (this.#lastRequest?.body === request) return this.#lastRequest.stored;
    const stored = pickleBase64(this.#requestValue(request));
    this.#lastRequest = { body: request, stored };
    return stored;
  }

  /** The request body to store: the secrets it holds (a template can put one there) replaced. */
  #requestValue(request: unknown): unknown {
    if (typeof request !== "string") return this.#redactor.value(request);
    const body = JSON.parse(request);
    return this.#redactor.has(request) ? this.#redactor.value(body) : body;
  }

  /**
   * The response payloads to store, pickled and base64-encoded: straight from their bytes,
   * unless they hold a secret the server echoed (a header, the key), which is replaced first.
   */
  #responseValue(blob: PayloadBlob): string {
    const redactor = this.#redactor;
    if (redactor.secrets.length > 0 && redactor.has(utf8.decode(blob.utf8))) {
      return pickleBase64(unpackPayloads(blob).map((p) => redactor.scrub(p)));
    }
    return base64PickleUtf8List(blob.utf8, blob.count, blob.lengths);
  }

  /** A failure to store: its message and body excerpt with the secrets and URL credentials out. */
  #failureValue(f: Failure): Failure {
    const out = { ...f, message: this.#redactor.text(f.message) };
    if (f.body !== undefined) out.body = this.#redactor.text(f.body);
    return out;
  }

  /** Keep the first failure, and say it at once in a `failed` message. */
  #fail(e: unknown): void {
    if (this.#failed !== undefined) return;
    this.#failed = describeSqliteError(e);
    this.#post({ type: "failed", message: this.#failed });
  }

  #rows(batch: ResultValues[]): void {
    if (this.#failed !== undefined) return;
    // Behind rows kept for a lock: after them, in order.
    if (this.#kept.length > 0) {
      this.#kept.push(batch);
      return;
    }
    this.#write(batch);
  }

  /**
   * Write `batch`; false when (the rest of) it is kept for another connection's lock (`locks:
   * "yield"`). A batch that does not fit is tried again row by row, so the file keeps all that
   * fits. `exclusive`: see `#writeOnce`.
   */
  #write(batch: ResultValues[], exclusive = false): boolean {
    try {
      this.#writeRows(batch, exclusive);
      return true;
    } catch (thrown) {
      // Only the rows not yet committed are tried again (a split batch's first transactions may
      // be in the file already).
      const from = thrown instanceof ChunkError ? thrown.committed : 0;
      const e = thrown instanceof ChunkError ? thrown.cause : thrown;
      if (this.#yield && isLocked(e)) return this.#hold(from === 0 ? batch : batch.slice(from), e);
      // Locked for ten minutes: the rows one by one would wait as long each.
      if (batch.length - from === 1 || isLocked(e)) {
        this.#fail(e);
        return true;
      }
      for (let i = from; i < batch.length; i++) {
        if (this.#failed !== undefined) break;
        try {
          this.#writeTransaction([batch[i]]);
        } catch (e) {
          if (this.#yield && isLocked(e)) return this.#hold(batch.slice(i), e);
          this.#fail(e);
        }
      }
      return true;
    }
  }

  /**
   * Another connection's lock refused `rows` (`locks: "yield"`): keep them first in line and try
   * again later, or, once no transaction has got through for {@link LOCKED_FOR_MS}, fail with `e`.
   * False when kept.
   */
  #hold(rows: ResultValues[], e: unknown): boolean {
    if (this.#lockedTooLong()) {
      this.#fail(e);
      return true;
    }
    this.#kept.unshift(rows);
    this.#retry ??= setTimeout(() => this.#guarded(() => this.#tryKept()), RETRY_MS);
    return false;
  }

  /**
   * A lock refused a write: whether it has now held every write off for {@link LOCKED_FOR_MS}.
   * Says so to the run once it has held them off {@link SAY_LOCKED_AFTER_MS}.
   */
  #lockedTooLong(): boolean {
    const now = this.#now();
    if (this.#lockedAt === 0) this.#lockedAt = now;
    if (now - this.#lockedAt >= SAY_LOCKED_AFTER_MS) this.#sayLocked();
    return now - this.#lockedAt >= LOCKED_FOR_MS;
  }

  /** Run `fn`, a later task of the writer's own; what it throws goes to `onError`. */
  #guarded(fn: () => void): void {
    if (this.#onError === undefined) return fn();
    try {
      fn();
    } catch (e) {
      this.#onError(e);
    }
  }

  /**
   * Write the batches kept for a lock, in order, as long as the lock lets them, a slice of
   * {@link DRAIN_SLICE_MS} per task: a backlog never holds the thread long.
   */
  #tryKept(): void {
    this.#retry = undefined;
    const until = performance.now() + DRAIN_SLICE_MS;
    let first = true;
    while (this.#kept.length > 0 && this.#failed === undefined) {
      const batch = this.#kept.shift()!;
      // The first of a pass takes the lock before encoding anything: a reader still there
      // costs a retry almost nothing.
      if (!this.#write(batch, first)) return; // kept again, first, with a retry set
      first = false;
      if (this.#kept.length > 0 && performance.now() >= until) {
        this.#retry = setTimeout(() => this.#guarded(() => this.#tryKept()), 0);
        return;
      }
    }
    this.#kept = [];
    this.#closeWhenDone();
  }

  /** Keep `secrets` out of every row written from now on. */
  #addSecrets(secrets: readonly string[]): void {
    this.#redactor.add(secrets);
    this.#lastRequest = undefined; // its pickle may hold one of them
  }

  #portEnded(id: number): void {
    const port = this.#ports.get(id);
    if (port === undefined) return;
    this.#ports.delete(id);
    port.close();
    this.#closeWhenDone();
  }

  /** Close once asked to, every port has ended, and no row waits for a lock. */
  #closeWhenDone(): void {
    if (this.#closing && this.#ports.size === 0 && this.#kept.length === 0) this.#closeNow();
  }

  /** The run row's end (throws what SQLite throws). */
  #finishRun(m: Extract<DbWorkerIn, { type: "finish" }>): void {
    const end: Partial<RunRow> = {
      ended_at: m.endedAt,
      interrupted: m.interrupted ? 1 : 0,
      requests: this.#written,
      client: m.client,
      load_started_at: m.loadStartedAt,
    };
    const sets = Object.keys(end).map((k) => `${k} = :${k}`).join(", ");
    this.#prepareNamed(`UPDATE run SET ${sets}`).run(namedParams(end));
  }

  /**
   * Finish the run row, leave the rollback journal, close the file, say so. Yielding, each step a
   * lock refuses is tried again later, within the same time limit as the rows.
   */
  #closeNow(): void {
    const db = this.#db;
    if (db === undefined) return;
    try {
      // Not after a failure: a DB that lost rows keeps no end time, so it never reads as complete.
      if (this.#ending !== undefined && this.#failed === undefined) {
        this.#finishRun(this.#ending);
        this.#lockedAt = 0;
      }
      this.#ending = undefined;
      // Out of TRUNCATE, SQLite deletes the (empty) journal: a run folder holds the DB file alone.
      db.exec("PRAGMA journal_mode=DELETE");
    } catch (e) {
      if (this.#yield && isLocked(e) && !this.#lockedTooLong()) {
        this.#closeRetry ??= setTimeout(() => {
          this.#closeRetry = undefined;
          this.#guarded(() => this.#closeWhenDone());
        }, RETRY_MS);
        return;
      }
      // The run row could not be finished: the DB reads as incomplete, and the run is told.
      if (this.#ending !== undefined) {
        this.#fail(e);
        quietly(() => db.exec("PRAGMA journal_mode=DELETE"));
      }
      this.#ending = undefined;
    }
    if (this.#closeRetry !== undefined) clearTimeout(this.#closeRetry);
    this.#closeRetry = undefined;
    quietly(() => db.close());
    this.#db = undefined;
    if (this.#failed !== undefined) {
      this.#post({ type: "error", message: this.#failed, rows: this.#written });
    } else this.#post({ type: "closed", rows: this.#written });
  }

  #open(path: string, r: RunRow): void {
    // The telemetry writes its tables through a second connection, and a reader of the live
    // file holds off commits: wait for their locks (yielding: not here, see `WriterOptions`).
    const db = new DatabaseSync(path, { timeout: this.#yield ? 0 : WRITE_TIMEOUT_MS });
    this.#db = db;
    // 16 KiB pages: a row holds every payload of its response (11 KB of base64 at 32 tokens, 80
    // KB at 256), which on 4 KiB pages is a chain of overflow pages; larger pages cost disk (a 30
    // KB row takes a whole 64 KiB overflow page: 64 KB per row). A new file only (an existing DB
    // keeps its page size). Then the journal: see `JOURNAL_PRAGMAS`.
    db.exec("PRAGMA page_size=16384");
    for (const p of JOURNAL_PRAGMAS) db.exec(p);
    db.exec(createTable("result", RESULT_COLUMNS));
    db.exec(createTable("run", RUN_COLUMNS));
    this.#insert = db.prepare(insertInOrder("result", RESULT_COLUMNS));
    this.#prepareNamed(insertInto("run", RUN_COLUMNS)).run(namedParams(r));
  }

  /** A statement whose parameters are bound by `:name` keys only. */
  #prepareNamed(sql: string): ReturnType<DatabaseSync["prepare"]> {
    const stmt = this.#db!.prepare(sql);
    stmt.setAllowBareNamedParameters(false); // keys carry their `:`: one lookup per value
    return stmt;
  }
}

/**
 * Serve the run's telemetry on `port`, loaded only when asked (a run without telemetry never
 * compiles it). Should it not load, the service answers that nothing is read.
 */
function hostTelemetry(port: MessagePort, locks: LockWaits): void {
  import("../telemetry/telemetry_service.ts").then(
    ({ serveTelemetry }) => serveTelemetry(port, { locks }),
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
