/**
 * The result DB's layout, declared once. Table `result` has evalscope's columns (late-2024
 * release) in its order, then llmperf's extra columns (named as later evalscope releases name
 * them, where they do); table `run` says what the DB measured. Each column says its SQL type, how
 * a finished request fills it, how the DB writer stores that value, and which metric it keeps;
 * `CREATE TABLE`, the named-parameter `INSERT`, the row types and what `llmperf report` reads
 * back all come from these two tables.
 *
 * @module
 */
import type { SQLInputValue } from "node:sqlite";
import type { RequestMetrics } from "../metrics/request_metrics.ts";
import type { FinishedRequest } from "../records/finished.ts";
import type { PayloadBlob } from "../records/payloads.ts";
import { epochSeconds } from "../records/record.ts";

/** The SQL types the tables use. */
export type SqlType = "TEXT" | "REAL" | "INTEGER";

/**
 * How the DB writer turns a row value into what it stores (in its own thread): `pickle` a request
 * body or the list of payloads (base64 of a Python pickle, as evalscope stores them; the run's
 * secrets replaced first), `json` a list of numbers (NULL stays NULL), `failure` a failure as
 * JSON `{kind, message, body, status}` (its text redacted), `true-false` a boolean as TEXT
 * `'True'` / `'False'` (evalscope's recipe selects `WHERE success='True'`). Without one: stored
 * as it is.
 */
export type Encoding = "pickle-request" | "pickle-payloads" | "json" | "failure" | "true-false";

/** The metrics a `result` column keeps, which `llmperf report` reads back rather than derives. */
export type StoredMetric = keyof Pick<
  RequestMetrics,
  | "startEpochS"
  | "completedEpochS"
  | "latencyS"
  | "firstChunkLatencyS"
  | "nChunks"
  | "chunkTimeS"
  | "ttftS"
  | "tpotS"
  | "itlS"
  | "ttfoS"
  | "cachedTokens"
  | "conversation"
  | "turn"
  | "clientQueueS"
  | "latencyWithQueueS"
  | "connectS"
  | "tlsS"
  | "headersS"
>;

/** One column of the `result` table. */
export interface ResultColumn<N extends string = string> {
  /** Column name. */
  readonly name: N;
  /** SQL type. */
  readonly type: SqlType;
  /** Whether evalscope's late-2024 table has it (those come first, in its order). */
  readonly evalscope: boolean;
  /**
   * The value of a finished request, in the thread that finished it (plain data that crosses to
   * the writer; the row's request body and payloads are always there, see {@link RowRequest}).
   */
  readonly value: (f: RowRequest) => unknown;
  /** How the DB writer stores the value (default: as it is). */
  readonly encoding?: Encoding;
  /** The metric the column keeps. */
  readonly metric?: StoredMetric;
  /**
   * What NULL means for {@link ResultColumn.metric}: `unknown` (the default: `llmperf report`
   * derives it from the row), or `none` (there is no value: a reply that was all reasoning has
   * no time to first output token).
   */
  readonly nullMeans?: "unknown" | "none";
}

/** A finished request with what its row stores besides the metrics: the body and the payloads. */
export type RowRequest = FinishedRequest & { bodyText: string; payloads: PayloadBlob };

type ColumnOptions = Pick<ResultColumn, "encoding" | "metric" | "nullMeans">;

function column<N extends string>(
  name: N,
  type: SqlType,
  evalscope: boolean,
  value: (f: RowRequest) => unknown,
  opts: ColumnOptions = {},
): ResultColumn<N> {
  return { name, type, evalscope, value, ...opts };
}

const EVALSCOPE = true;
const EXTRA = false;

/** A metric of successful requests; NULL for failures (as evalscope stores them). */
function ok<V>(get: (m: RequestMetrics) => V): (f: RowRequest) => V | null {
  return (f) => (f.record.success ? get(f.metrics) : null);
}

/**
 * A record's chunk times as epoch seconds (a loop: `Float64Array.from` with a map function calls
 * it per element on V8's slow path, a quarter of a row's cost at 256 tokens).
 */
function chunkEpochSeconds(r: RowRequest["record"]): Float64Array {
  const t = r.chunkTimesMs;
  const out = new Float64Array(t.length);
  for (let i = 0; i < t.length; i++) out[i] = epochSeconds(r, t[i]);
  return out;
}

/** The `result` table's columns, in order: evalscope's first, then llmperf's. */
export const RESULT_COLUMNS = [
  column("request", "TEXT", EVALSCOPE, (f) => f.bodyText, { encoding: "pickle-request" }),
  column("start_time", "REAL", EVALSCOPE, (f) => f.metrics.startEpochS, { metric: "startEpochS" }),
  column(
    "chunk_times",
    "TEXT",
    EVALSCOPE,
    ({ record: r }) => chunkEpochSeconds(r),
    { encoding: "json" },
  ),
  column("success", "TEXT", EVALSCOPE, (f) => f.record.success, { encoding: "true-false" }),
  // The payloads as one blob (`PayloadBlob`: one transferable buffer, pickled without decoding).
  column("response_messages", "TEXT", EVALSCOPE, (f) => f.payloads, {
    encoding: "pickle-payloads",
  }),
  column("completed_time", "REAL", EVALSCOPE, (f) => f.metrics.completedEpochS, {
    metric: "completedEpochS",
  }),
  column("latency", "REAL", EVALSCOPE, ok((m) => m.latencyS), { metric: "latencyS" }),
  column("first_chunk_latency", "REAL", EVALSCOPE, ok((m) => m.firstChunkLatencyS), {
    metric: "firstChunkLatencyS",
  }),
  column("n_chunks", "INTEGER", EVALSCOPE, ok((m) => m.nChunks), { metric: "nChunks" }),
  column("chunk_time", "REAL", EVALSCOPE, ok((m) => m.chunkTimeS), { metric: "chunkTimeS" }),
  column("prompt_tokens", "INTEGER", EVALSCOPE, ok((m) => m.promptTokens)),
  column("completion_tokens", "INTEGER", EVALSCOPE, ok((m) => m.completionTokens)),
  column("max_gpu_memory_cost", "REAL", EVALSCOPE, () => 0), // a remote server's: not known
  // JSON `{kind, message, body, status}` for failures.
  column(
    "error",
    "TEXT",
    EXTRA,
    ({ record: r }) => r.failure ? { ...r.failure, status: r.status || undefined } : null,
    { encoding: "failure" },
  ),
  column("status_code", "INTEGER", EXTRA, (f) => f.record.status), // 0: no response
  column("request_id", "INTEGER", EXTRA, (f) => f.record.index), // dispatch order
  column("is_stream", "INTEGER", EXTRA, (f) => (f.record.stream ? 1 : 0)),
  column("ttft", "REAL", EXTRA, ok((m) => m.ttftS), { metric: "ttftS" }),
  column("time_per_output_token", "REAL", EXTRA, ok((m) => m.tpotS ?? null), {
    metric: "tpotS",
  }),
  // A copy: the record's own gaps go to the main thread, these to the writer.
  column("inter_token_latencies", "TEXT", EXTRA, ok((m) => Float64Array.from(m.itlS)), {
    metric: "itlS",
    encoding: "json",
  }),
  // When the schedule wanted it sent (`--rate`), epoch seconds.
  column(
    "scheduled_time",
    "REAL",
    EXTRA,
    ({ record: r }) => r.scheduledMs !== undefined ? epochSeconds(r, r.scheduledMs) : null,
  ),
  column("token_source", "TEXT", EXTRA, ok((m) => m.tokenSource)),
  column("ttfo", "REAL", EXTRA, ok((m) => m.ttfoS ?? null), { metric: "ttfoS", nullMeans: "none" }),
  column("reasoning_tokens", "INTEGER", EXTRA, ok((m) => m.reasoningTokens ?? null)),
  // Times sent again on a fresh connection; NULL when unknown (`fetch`).
  column("retries", "INTEGER", EXTRA, (f) => f.record.retries ?? null),
  // Prompt tokens the server's prefix cache held (usage.prompt_tokens_details.cached_tokens).
  column("cached_tokens", "INTEGER", EXTRA, ok((m) => m.cachedTokens ?? null), {
    metric: "cachedTokens",
  }),
  // --multi-turn: the conversation's number and the turn's position in it (NULL otherwise).
  column("conversation_id", "INTEGER", EXTRA, (f) => f.record.conversation ?? null, {
    metric: "conversation",
  }),
  column("turn_index", "INTEGER", EXTRA, (f) => f.record.turn ?? null, { metric: "turn" }),
  // Where the time went (seconds; vLLM's names for the first two). The client's queueing before
  // the send, failures included: `--rate`, start − scheduled; closed loop, the slot's wait.
  column("client_queue_time", "REAL", EXTRA, (f) => f.metrics.clientQueueS ?? null, {
    metric: "clientQueueS",
  }),
  column(
    "e2el_including_client_queue",
    "REAL",
    EXTRA,
    ok((m) => m.latencyWithQueueS ?? null),
    { metric: "latencyWithQueueS" },
  ),
  // TCP connect and TLS handshake: NULL unless the request opened its connection (and with fetch).
  column("connect_time", "REAL", EXTRA, (f) => f.metrics.connectS ?? null, {
    metric: "connectS",
    nullMeans: "none",
  }),
  column("tls_time", "REAL", EXTRA, (f) => f.metrics.tlsS ?? null, {
    metric: "tlsS",
    nullMeans: "none",
  }),
  // From the send to the response headers; NULL when none arrived.
  column("time_to_headers", "REAL", EXTRA, (f) => f.metrics.headersS ?? null, {
    metric: "headersS",
    nullMeans: "none",
  }),
  // The endpoint that served it (its URL without credentials or query; several --url).
  column("endpoint", "TEXT", EXTRA, (f) => f.record.endpoint ?? null),
  // The dataset's own id of the request (a workload_trace record's request_id); NULL otherwise.
  column("trace_request_id", "TEXT", EXTRA, (f) => f.record.requestId ?? null),
] as const;

/** A `result` column's name. */
export type ResultColumnName = (typeof RESULT_COLUMNS)[number]["name"];

/** evalscope's `result` columns, in order. */
export const EVALSCOPE_COLUMNS: readonly ResultColumnName[] = RESULT_COLUMNS
  .filter((c) => c.evalscope).map((c) => c.name);

/** llmperf's extra `result` columns, in order. */
export const EXTRA_COLUMNS: readonly ResultColumnName[] = RESULT_COLUMNS
  .filter((c) => !c.evalscope).map((c) => c.name);

/**
 * One `result` row before the DB writer encodes it: its values in {@link RESULT_COLUMNS} order.
 * Plain data that crosses to the writer's thread (a list clones faster than an object, and is
 * cheaper to build); the writer binds each value by its column's name.
 */
export type ResultValues = unknown[];

const VALUES = RESULT_COLUMNS.map((c) => c.value);
const CHUNK_TIMES = RESULT_COLUMNS.findIndex((c) => c.name === "chunk_times");
const RESPONSE = RESULT_COLUMNS.findIndex((c) => c.name === "response_messages");
const GAPS = RESULT_COLUMNS.findIndex((c) => c.name === "inter_token_latencies");

/** The `result` row of a finished request. */
export function toResultRow(f: RowRequest): ResultValues {
  const row = new Array(VALUES.length);
  for (let i = 0; i < VALUES.length; i++) row[i] = VALUES[i](f);
  return row;
}

/**
 * The buffers a row can hand over to the writer's thread instead of copying: its chunk times,
 * its gaps and its payloads, each made for the row alone.
 */
export function rowTransfers(row: ResultValues, out: Transferable[]): void {
  const times = row[CHUNK_TIMES] as Float64Array;
  const payloads = row[RESPONSE] as PayloadBlob;
  out.push(times.buffer as ArrayBuffer, payloads.utf8.buffer as ArrayBuffer);
  const gaps = row[GAPS] as Float64Array | null;
  if (gaps !== null) out.push(gaps.buffer as ArrayBuffer);
}

/**
 * `--compat 2026`: the `result` table as evalscope writes it today (`utils/db_util.py:56-114` at
 * `fde259d2`), in its order, beside llmperf's own (not built from {@link RESULT_COLUMNS}): a
 * separate set, written by `report/evalscope2026/db.ts` from the run's own DB once the run ends,
 * and read back by `llmperf report`. `request` is the body as JSON text, `success` 1 or 0,
 * `start_time` / `completed_time` seconds (epoch here, `perf_counter` there; `completed_time` 0.0
 * for failures), `inter_token_latencies` a JSON list of seconds, `response_messages`
 * `base64(pickle(list))` of the choices-bearing chunks.
 */
export const EVALSCOPE_2026_COLUMNS = [
  { name: "request", type: "TEXT" },
  { name: "start_time", type: "REAL" },
  { name: "inter_token_latencies", type: "TEXT" },
  { name: "success", type: "INTEGER" },
  { name: "response_messages", type: "TEXT" },
  { name: "completed_time", type: "REAL" },
  { name: "latency", type: "REAL" },
  { name: "first_chunk_latency", type: "REAL" },
  { name: "time_per_output_token", type: "REAL" },
  { name: "prompt_tokens", type: "INTEGER" },
  { name: "completion_tokens", type: "INTEGER" },
  { name: "max_gpu_memory_cost", type: "REAL" },
  { name: "request_id", type: "TEXT" },
  { name: "is_stream", type: "INTEGER" },
] as const satisfies readonly { name: string; type: SqlType }[];

/** A row of evalscope 2026's `result` table, by column name. */
export type Evalscope2026Row = {
  [C in (typeof EVALSCOPE_2026_COLUMNS)[number] as C["name"]]:
    | (C["type"] extends "TEXT" ? string : number)
    | null;
};

/** One column of the `run` table (one row per DB: what it measured). */
export interface RunColumn<N extends string = string> {
  /** Column name. */
  readonly name: N;
  /** SQL type. */
  readonly type: SqlType;
  /** Whether it may be NULL (until the run ends). */
  readonly nullable?: boolean;
}

/** The `run` table's columns, in order. */
export const RUN_COLUMNS = [
  { name: "llmperf_version", type: "TEXT" },
  { name: "name", type: "TEXT" }, // the run's name
  { name: "args", type: "TEXT" }, // the redacted arguments, JSON
  { name: "started_at", type: "REAL" }, // epoch seconds
  { name: "ended_at", type: "REAL", nullable: true }, // epoch seconds; NULL until the run ends
  { name: "host", type: "TEXT" },
  { name: "platform", type: "TEXT" }, // OS and architecture
  { name: "runtime", type: "TEXT" }, // Deno and V8 versions
  { name: "interrupted", type: "INTEGER" }, // 1 when interrupted
  { name: "requests", type: "INTEGER" }, // requests recorded
  { name: "client", type: "TEXT", nullable: true }, // the client's self-check, JSON
  { name: "shard_index", type: "INTEGER", nullable: true }, // --shard I/N: I; NULL unsharded
  { name: "shard_count", type: "INTEGER", nullable: true }, // --shard I/N: N
  // Epoch seconds the load began (after any --start-at wait); NULL until then.
  { name: "load_started_at", type: "REAL", nullable: true },
  // A merged run's inputs (`llmperf merge`), JSON; NULL for a run that was measured.
  { name: "merged_from", type: "TEXT", nullable: true },
] as const satisfies readonly RunColumn[];

/** The `run` row (see {@link RUN_COLUMNS}). */
export type RunRow = {
  [C in (typeof RUN_COLUMNS)[number] as C["name"]]:
    | (C["type"] extends "TEXT" ? string : number)
    | (C extends { nullable: true } ? null : never);
};

/**
 * How every connection that writes the result DB keeps its journal: a rollback journal truncated
 * at each commit, without syncs. A transaction's new pages (the rows appended, nearly all of what
 * a run writes) go to the file once; only the pages it changes are copied to the journal first,
 * where a write-ahead log (WAL) writes every page twice (the log, then the checkpoint into the
 * file): 2–3× less CPU per row (`bench/db_row.ts`: ~80 against ~200 µs per 80 KB row, ~20 against
 * ~50 per 11 KB one). A killed or crashed llmperf loses nothing committed (the OS has every write;
 * the next opener rolls a hot journal back); an OS crash or a power loss can lose the last batches
 * and may corrupt the file. The file needs no `-wal` / `-shm` files beside it to be read.
 *
 * @example
 * ```ts
 * import { DatabaseSync } from "node:sqlite";
 * const db = new DatabaseSync(":memory:");
 * for (const p of JOURNAL_PRAGMAS) db.exec(p);
 * ```
 */
export const JOURNAL_PRAGMAS: readonly string[] = [
  "PRAGMA journal_mode=TRUNCATE",
  "PRAGMA synchronous=OFF",
];

/**
 * How long a connection that writes the result DB waits for another's lock, ms: the other writer
 * (the requests' and the telemetry's tables share the file), or a reader of the live file (a
 * commit waits for readers to finish their read, as a rollback journal needs).
 */
export const WRITE_TIMEOUT_MS = 60_000;

/**
 * How long another connection's lock may hold every write off before writing counts as failed,
 * ms: ten waits of {@link WRITE_TIMEOUT_MS} on a writer's own thread, or, on a thread that never
 * waits in SQLite ({@link LockWaits} `yield`), ten minutes with no transaction through.
 */
export const LOCKED_FOR_MS = 10 * WRITE_TIMEOUT_MS;

/**
 * How a connection that writes the result DB waits out another's lock: `block`, SQLite's busy
 * wait ({@link WRITE_TIMEOUT_MS} a try: a thread of its own), or `yield`, no wait at all, the rows
 * kept and tried again later (a thread that also sends and reads requests).
 */
export type LockWaits = "block" | "yield";

/** A row of plain values keyed by `:name`, as statements bound by name take it. */
export function namedParams(row: Record<string, unknown>): Record<string, SQLInputValue> {
  const out: Record<string, SQLInputValue> = {};
  for (const [k, v] of Object.entries(row)) out[`:${k}`] = v as SQLInputValue;
  return out;
}

/** `CREATE TABLE IF NOT EXISTS <table>(...)` from its columns. */
export function createTable(
  table: string,
  columns: readonly { name: string; type: SqlType }[],
): string {
  return `CREATE TABLE IF NOT EXISTS ${table}(\n${
    columns.map((c) => `  ${c.name} ${c.type}`).join(",\n")
  }\n)`;
}

/**
 * `INSERT INTO <table> (a, b) VALUES (?, ?)`, for rows bound as a list in the order of the same
 * `columns` (each value's position comes from the list that names its column, so the two cannot
 * drift apart). The result DB writes its rows so: binding 35 values by name costs SQLite a lookup
 * by name each, 25–30 µs per row against under 1 µs by position (measured in node:sqlite).
 */
export function insertInOrder(table: string, columns: readonly { name: string }[]): string {
  return `INSERT INTO ${table} (${columns.map((c) => c.name).join(", ")}) VALUES (${
    columns.map(() => "?").join(", ")
  })`;
}

/** `INSERT INTO <table> (a, b) VALUES (:a, :b)`: values bound by name, never by position. */
export function insertInto(table: string, columns: readonly { name: string }[]): string {
  const names = columns.map((c) => c.name);
  return `INSERT INTO ${table} (${names.join(", ")}) VALUES (${
    names.map((n) => `:${n}`).join(", ")
  })`;
}

/** One column of a telemetry table (`server_metrics`, `gpu_metrics`): plain values. */
export interface TelemetryColumn<N extends string = string> {
  /** Column name. */
  readonly name: N;
  /** SQL type. */
  readonly type: SqlType;
}

/**
 * The `server_metrics` table: one row per sample of the server's `/metrics` per scrape (the
 * known families and those asked for), written by the telemetry thread (`telemetry_db.ts`).
 */
export const SERVER_METRICS_COLUMNS = [
  { name: "time", type: "REAL" }, // epoch seconds of the scrape
  { name: "name", type: "TEXT" }, // the sample's name as exposed (`..._bucket`, `..._total`)
  { name: "labels", type: "TEXT" }, // its labels, JSON, keys sorted
  { name: "value", type: "REAL" },
] as const satisfies readonly TelemetryColumn[];

/** The `gpu_metrics` table: one row per GPU per sample of `nvidia-smi` (or the AMD tools). */
export const GPU_METRICS_COLUMNS = [
  { name: "time", type: "REAL" }, // epoch seconds
  { name: "gpu", type: "INTEGER" }, // the tool's index
  { name: "utilization_pct", type: "REAL" },
  { name: "memory_used_mib", type: "REAL" },
  { name: "memory_total_mib", type: "REAL" },
  { name: "power_w", type: "REAL" },
  { name: "sm_clock_mhz", type: "REAL" },
  { name: "tool", type: "TEXT" }, // nvidia-smi, amd-smi, rocm-smi
] as const satisfies readonly TelemetryColumn[];

/** A row of a telemetry table, by column name. */
export type TelemetryRow<C extends readonly TelemetryColumn[]> = {
  [K in C[number] as K["name"]]: K["type"] extends "TEXT" ? string : number | null;
};
