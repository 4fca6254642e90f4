/**
 * The writer of the result DB's telemetry tables (`server_metrics`, `gpu_metrics`, declared in
 * `schema.ts`), used from the telemetry thread. It opens its own connection to the run's DB file
 * (each connection waits for the other's write lock rather than failing; both keep the journal of
 * `JOURNAL_PRAGMAS`) and writes each batch in one transaction. A failed write stops these tables
 * only: the requests' table is the DB writer's, and a full disk there stops the run on its own.
 * On a thread that also sends requests (the main thread of a one-core run, `result_writer.ts`) it
 * never waits in SQLite's busy loop: rows met by another connection's lock are kept and written
 * with the next batch (`locks: "yield"`), for ten minutes at most.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { primaryCode, SQLITE } from "./sqlite_errors.ts";
import {
  createTable,
  GPU_METRICS_COLUMNS,
  insertInto,
  JOURNAL_PRAGMAS,
  LOCKED_FOR_MS,
  type LockWaits,
  namedParams,
  SERVER_METRICS_COLUMNS,
  type TelemetryRow,
  WRITE_TIMEOUT_MS,
} from "./schema.ts";

/** A `server_metrics` row. */
export type ServerMetricRow = TelemetryRow<typeof SERVER_METRICS_COLUMNS>;

/** A `gpu_metrics` row. */
export type GpuMetricRow = TelemetryRow<typeof GPU_METRICS_COLUMNS>;

/** One table's insert, and (yielding) the rows a lock kept back. */
interface Table {
  insert: ReturnType<DatabaseSync["prepare"]>;
  kept: readonly object[];
}

/** The telemetry tables of one result DB. */
export class TelemetryDb {
  #db: DatabaseSync;
  #server: Table;
  #gpu: Table;
  #yield: boolean;
  #now: () => number;
  /** When a lock was met with no transaction through since (`now`), or 0. */
  #lockedAt = 0;
  /** Rows written, by table. */
  readonly written = { server: 0, gpu: 0 };
  /** Why writing failed, when it did (later rows are dropped). */
  failure: string | undefined;

  /**
   * Open the DB at `path` (the DB writer made it) and create the telemetry tables; `locks` says
   * how another connection's lock is waited out (`block`, the default: SQLite's busy wait;
   * `yield`: the rows are kept for the next write), `now` the clock of its time limit (ms).
   */
  constructor(path: string, opts: { locks?: LockWaits; now?: () => number } = {}) {
    this.#yield = opts.locks === "yield";
    this.#now = opts.now ?? (() => performance.now());
    // The tables are made before the load starts (a reader's lock may be waited out then); a
    // yielding connection waits for no lock after that.
    this.#db = new DatabaseSync(path, { timeout: WRITE_TIMEOUT_MS });
    for (const p of JOURNAL_PRAGMAS) this.#db.exec(p);
    this.#db.exec(createTable("server_metrics", SERVER_METRICS_COLUMNS));
    this.#db.exec(createTable("gpu_metrics", GPU_METRICS_COLUMNS));
    if (this.#yield) this.#db.exec("PRAGMA busy_timeout=0");
    const table = (sql: string): Table => ({ insert: this.#db.prepare(sql), kept: [] });
    this.#server = table(insertInto("server_metrics", SERVER_METRICS_COLUMNS));
    this.#gpu = table(insertInto("gpu_metrics", GPU_METRICS_COLUMNS));
  }

  /** Write the rows a lock kept back and `more`; the count written (0 when kept or failed). */
  #write(t: Table, more: readonly object[]): number {
    if (this.failure !== undefined) return 0;
    const rows = t.kept.length === 0 ? more : [...t.kept, ...more];
    if (rows.length === 0) return 0;
    try {
      this.#db.exec("BEGIN");
      for (const r of rows) t.insert.run(namedParams(r as Record<string, unknown>));
      this.#db.exec("COMMIT");
      t.kept = [];
      this.#lockedAt = 0; // a transaction got through: the time limit starts again
      return rows.length;
    } catch (e) {
      try {
        if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      } catch { /* the cause is e */ }
      const now = this.#now();
      if (this.#yield && primaryCode(e) === SQLITE.BUSY) {
        if (this.#lockedAt === 0) this.#lockedAt = now;
        if (now - this.#lockedAt < LOCKED_FOR_MS) {
          t.kept = rows;
          return 0;
        }
      }
      this.failure = (e as Error).message;
      return 0;
    }
  }

  /** Write `server_metrics` rows in one transaction. */
  writeServer(rows: readonly ServerMetricRow[]): void {
    this.written.server += this.#write(this.#server, rows);
  }

  /** Write `gpu_metrics` rows in one transaction. */
  writeGpu(rows: readonly GpuMetricRow[]): void {
    this.written.gpu += this.#write(this.#gpu, rows);
  }

  /** Rows a lock still keeps back (`locks: "yield"`). */
  get kept(): number {
    return this.#server.kept.length + this.#gpu.kept.length;
  }

  /**
   * Write the rows a lock keeps back (`locks: "yield"`), trying every `retryMs` within the same
   * time limit; those still kept then are counted in {@link TelemetryDb.failure}. For the end of
   * a run, before {@link TelemetryDb.close}.
   */
  async flush(retryMs = 50): Promise<void> {
    while (this.kept > 0 && this.failure === undefined) {
      this.writeServer([]);
      this.writeGpu([]);
      if (this.kept === 0 || this.failure !== undefined) break;
      await new Promise((r) => setTimeout(r, retryMs));
    }
    const left = this.kept;
    if (left > 0) this.failure = `${left} telemetry rows were not written: ${this.failure}`;
  }

  /** Close the connection. */
  close(): void {
    try {
      this.#db.close();
    } catch { /* already closed */ }
  }
}
