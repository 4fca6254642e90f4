/**
 * The writer of the result DB's telemetry tables (`server_metrics`, `gpu_metrics`, declared in
 * `schema.ts`), used from the telemetry thread. It opens its own connection to the run's DB file
 * (each connection waits for the other's write lock rather than failing; both keep the journal of
 * `JOURNAL_PRAGMAS`) and writes each batch in one transaction. A failed write stops these tables
 * only: the requests' table is the DB writer's, and a full disk there stops the run on its own.
 *
 * @module
 */
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import {
  createTable,
  GPU_METRICS_COLUMNS,
  insertInto,
  JOURNAL_PRAGMAS,
  SERVER_METRICS_COLUMNS,
  type TelemetryRow,
  WRITE_TIMEOUT_MS,
} from "./schema.ts";

/** A `server_metrics` row. */
export type ServerMetricRow = TelemetryRow<typeof SERVER_METRICS_COLUMNS>;

/** A `gpu_metrics` row. */
export type GpuMetricRow = TelemetryRow<typeof GPU_METRICS_COLUMNS>;

function named(row: Record<string, unknown>): Record<string, SQLInputValue> {
  const out: Record<string, SQLInputValue> = {};
  for (const [k, v] of Object.entries(row)) out[`:${k}`] = v as SQLInputValue;
  return out;
}

/** The telemetry tables of one result DB. */
export class TelemetryDb {
  #db: DatabaseSync;
  #server: ReturnType<DatabaseSync["prepare"]>;
  #gpu: ReturnType<DatabaseSync["prepare"]>;
  /** Rows written, by table. */
  readonly written = { server: 0, gpu: 0 };
  /** Why writing failed, when it did (later rows are dropped). */
  failure: string | undefined;

  /** Open the DB at `path` (the DB writer made it) and create the telemetry tables. */
  constructor(path: string) {
    this.#db = new DatabaseSync(path, { timeout: WRITE_TIMEOUT_MS });
    for (const p of JOURNAL_PRAGMAS) this.#db.exec(p);
    this.#db.exec(createTable("server_metrics", SERVER_METRICS_COLUMNS));
    this.#db.exec(createTable("gpu_metrics", GPU_METRICS_COLUMNS));
    this.#server = this.#db.prepare(insertInto("server_metrics", SERVER_METRICS_COLUMNS));
    this.#gpu = this.#db.prepare(insertInto("gpu_metrics", GPU_METRICS_COLUMNS));
  }

  #write(stmt: ReturnType<DatabaseSync["prepare"]>, rows: readonly object[]): boolean {
    if (this.failure !== undefined || rows.length === 0) return false;
    try {
      this.#db.exec("BEGIN");
      for (const r of rows) stmt.run(named(r as Record<string, unknown>));
      this.#db.exec("COMMIT");
      return true;
    } catch (e) {
      try {
        if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      } catch { /* the cause is e */ }
      this.failure = (e as Error).message;
      return false;
    }
  }

  /** Write `server_metrics` rows in one transaction. */
  writeServer(rows: readonly ServerMetricRow[]): void {
    if (this.#write(this.#server, rows)) this.written.server += rows.length;
  }

  /** Write `gpu_metrics` rows in one transaction. */
  writeGpu(rows: readonly GpuMetricRow[]): void {
    if (this.#write(this.#gpu, rows)) this.written.gpu += rows.length;
  }

  /** Close the connection. */
  close(): void {
    try {
      this.#db.close();
    } catch { /* already closed */ }
  }
}
