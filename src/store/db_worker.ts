/**
 * The result DB writer, in its own Web Worker so that pickling and SQLite never run on the
 * thread that times requests. It receives batches of rows and writes each in one transaction
 * (WAL mode), so a killed process leaves a DB that opens and holds every committed batch.
 *
 * Messages in: `open`, `rows`, `finish`, `close`. Messages out: `opened`, `closed`, `error`.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { pickleBase64 } from "./pickle.ts";
import { splitPayloads } from "../workers/messages.ts";
import { CREATE_RESULT, CREATE_RUN, type ResultRow, type RunRow } from "./schema.ts";

/** Messages the worker accepts. */
export type DbWorkerIn =
  | { type: "open"; path: string; run: RunRow }
  | { type: "rows"; rows: ResultRow[] }
  | { type: "finish"; endedAt: number; interrupted: boolean; client: string | null }
  | { type: "close" };

/** Messages the worker sends. */
export type DbWorkerOut =
  | { type: "opened" }
  | { type: "closed"; rows: number }
  | { type: "error"; message: string };

let db: DatabaseSync | undefined;
let insert: ReturnType<DatabaseSync["prepare"]> | undefined;
let written = 0;
let failed: string | undefined;

/** The worker's global scope, typed without a `deno.worker` lib directive (JSR refuses those). */
const scope = self as unknown as {
  postMessage(m: DbWorkerOut): void;
  onmessage: ((ev: MessageEvent<DbWorkerIn>) => void) | null;
};

function post(m: DbWorkerOut): void {
  scope.postMessage(m);
}

function writeRows(rows: ResultRow[]): void {
  if (!db || !insert) return;
  db.exec("BEGIN");
  try {
    for (const r of rows) {
      insert.run(
        pickleBase64(typeof r.request === "string" ? JSON.parse(r.request) : r.request),
        r.start_time,
        JSON.stringify(Array.from(r.chunk_times)),
        r.success ? "True" : "False",
        pickleBase64(splitPayloads(r.response_messages)),
        r.completed_time,
        r.latency,
        r.first_chunk_latency,
        r.n_chunks,
        r.chunk_time,
        r.prompt_tokens,
        r.completion_tokens,
        0,
        r.error,
        r.status_code,
        r.request_id,
        r.is_stream,
        r.ttft,
        r.time_per_output_token,
        r.inter_token_latencies,
        r.scheduled_time,
        r.token_source,
        r.retries,
      );
    }
    db.exec("COMMIT");
    written += rows.length;
  } catch (e) {
    db.exec("ROLLBACK");
    throw e;
  }
}

scope.onmessage = (ev: MessageEvent<DbWorkerIn>) => {
  const m = ev.data;
  try {
    if (m.type === "open") {
      db = new DatabaseSync(m.path);
      db.exec("PRAGMA journal_mode=WAL");
      db.exec("PRAGMA synchronous=NORMAL");
      db.exec(CREATE_RESULT);
      db.exec(CREATE_RUN);
      insert = db.prepare(`INSERT INTO result VALUES (${new Array(23).fill("?").join(",")})`);
      const r = m.run;
      db.prepare("INSERT INTO run VALUES (?,?,?,?,?,?,?,?,?,?,?)").run(
        r.llmperf_version,
        r.name,
        r.args,
        r.started_at,
        r.ended_at,
        r.host,
        r.platform,
        r.runtime,
        r.interrupted,
        r.requests,
        r.client,
      );
      post({ type: "opened" });
    } else if (m.type === "rows") {
      if (failed === undefined) writeRows(m.rows);
    } else if (m.type === "finish") {
      db?.prepare("UPDATE run SET ended_at = ?, interrupted = ?, requests = ?, client = ?").run(
        m.endedAt,
        m.interrupted ? 1 : 0,
        written,
        m.client,
      );
    } else if (m.type === "close") {
      db?.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      db?.close();
      db = undefined;
      if (failed !== undefined) post({ type: "error", message: failed });
      else post({ type: "closed", rows: written });
    }
  } catch (e) {
    failed ??= (e as Error).message;
    if (m.type === "open" || m.type === "close") post({ type: "error", message: failed });
  }
};
