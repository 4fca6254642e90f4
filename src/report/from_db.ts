/**
 * Results recomputed from a result DB alone — llmperf's, one written by evalscope in late 2024
 * (same `result` columns, no extras, `start_time` from a monotonic clock), or one in evalscope's
 * 2026 layout (its own, or `--compat 2026`'s: no `chunk_times`, TTFT from `first_chunk_latency`,
 * gaps from `inter_token_latencies`); {@link dbLayout} says which. Each row is read
 * back into the input of the live run's metrics and goes through the same derivation; the
 * metrics a row keeps are taken as stored. Pickles are read with the plain-data decoder, which
 * refuses anything that would execute code.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import type { CompatChoice } from "../config/settings.ts";
import type { Sample as Sample2026 } from "./evalscope2026/metrics.ts";
import { row2026, sampleOfRow2026 } from "./evalscope2026/row.ts";
import { type Evalscope2026Result, results2026 } from "./evalscope2026/results.ts";
import { type Shard, shardCount } from "../config/shard.ts";
import { RunError } from "../errors.ts";
import type { Measured, MetricsSink } from "../metrics/metrics_sink.ts";
import {
  MetricsCollector,
  MODERN_KEYS,
  type PercentileRow,
  REQUEST_COLUMNS,
  type Summary,
} from "../metrics/collector.ts";
import type { TraceSummary } from "../metrics/conversations.ts";
import {
  type MetricsInput,
  type RequestMetrics,
  requestMetrics,
} from "../metrics/request_metrics.ts";
import type { ApiPluginLike, TokenCounts } from "../plugins/types.ts";
import { toCounts } from "../records/finish_request.ts";
import type { Failure, FailureKind } from "../records/record.ts";
import { openForReading, resultRows } from "../store/open_read.ts";
import { PickleError, unpickleBase64 } from "../store/pickle.ts";
import { RESULT_COLUMNS, type ResultColumnName } from "../store/schema.ts";
import { sqlNumber } from "../util/sql_number.ts";
import { sqlNumberList, sqlSuccess } from "../util/sql_cells.ts";
import type { Sample } from "../telemetry/prometheus_text.ts";
import { ServerScraper } from "../telemetry/server_scraper.ts";
import { serverSummary } from "../telemetry/server_summary.ts";
import { EndpointBreakdown, type EndpointRow } from "../metrics/endpoint_breakdown.ts";
import { endpointName } from "../redact.ts";

/** What a DB says, recomputed. */
export interface DbReport {
  /** evalscope's summary rows. */
  summary: Summary;
  /** evalscope's percentile rows. */
  percentiles: PercentileRow[];
  /** Per-request summary. */
  requestSummary: Summary;
  /** Per-request percentiles. */
  requestPercentiles: PercentileRow[];
  /** Failed requests by kind. */
  failures: Record<string, number>;
  /** The `run` row's fields, when the DB has one (llmperf DBs). */
  run?: Record<string, unknown>;
  /** Rows in the `result` table. */
  rows: number;
  /**
   * Whether the run finished writing this DB (its `run` row has an end time). False after a
   * `kill -9`, a crash, or a DB write that failed (a full disk); undefined for a DB without a
   * `run` row (evalscope's), which cannot say.
   */
  finished?: boolean;
  /** Whether the run was interrupted (SIGINT, SIGTERM, SIGHUP) before sending everything. */
  interrupted?: boolean;
  /** One line saying why the tables may not cover the whole run, when they may not. */
  warning?: string;
  /**
   * The server's side from the DB's `server_metrics` table (as the run's summary has it), when
   * the run scraped the server's `/metrics`.
   */
  serverSummary?: Summary;
  /** Which layout the DB has, in words (see {@link dbLayout}). */
  layout?: string;
  /** With `compat: "2026"`: evalscope 2026's summary and percentile rows of the DB's rows. */
  evalscope2026?: Evalscope2026Result;
  /** The numbers per endpoint, from the `endpoint` column: only when several served requests. */
  endpoints?: EndpointRow[];
  /**
   * `trace_summary.json`'s content (per-conversation metrics), when the DB holds a
   * `--multi-turn` run: the same as the run wrote.
   */
  traceSummary?: TraceSummary;
}

/**
 * A result DB's layout: `llmperf` (our `result` table and a `run` row), `evalscope-2024` (the
 * late-2024 columns: `chunk_times`, `n_chunks`, `chunk_time`; no `run` table) or
 * `evalscope-2026` (today's: `inter_token_latencies`, `is_stream`, no `chunk_times`).
 */
export type DbLayout = "llmperf" | "evalscope-2024" | "evalscope-2026";

/** What each layout is called in `llmperf report`'s `Layout:` line. */
export const LAYOUT_NAMES: Readonly<Record<DbLayout, string>> = {
  "llmperf": "llmperf result DB",
  "evalscope-2024": "evalscope late-2024 result DB (chunk_times, success 'True')",
  "evalscope-2026": "evalscope 2026 result DB (inter_token_latencies, success 1, JSON requests)",
};

/** The layout of an open result DB, from its `result` columns and whether it has a `run` row. */
export function dbLayout(db: DatabaseSync): DbLayout {
  const cols = new Set(
    (db.prepare("PRAGMA table_info(result)").all() as Row[]).map((c) => String(c.name)),
  );
  if (!cols.has("chunk_times") && cols.has("inter_token_latencies")) return "evalscope-2026";
  return hasTable(db, "run") ? "llmperf" : "evalscope-2024";
}

/**
 * A 2026-layout row read into the live run's input: its payload times rebuilt from what it keeps
 * (the first chunk at `first_chunk_latency`, each later one an inter-token gap after the one
 * before, then the last data event at `completed_time` when later), so the late-2024 package
 * counts come from them; a failure ends where it began (its `completed_time` is 0.0).
 */
function rowInput2026(row: Row, rowNo: number): MetricsInput {
  const s = sampleOfRow2026(row);
  const chunks: number[] = [];
  if (s.success && s.stream) {
    let t = s.ttft * 1000;
    chunks.push(t);
    for (let i = 0; i < s.itl.length; i++) chunks.push(t += s.itl[i] * 1000);
    const end = (s.completed - s.start) * 1000;
    if (end > t) chunks.push(end);
  }
  return {
    index: rowNo,
    stream: s.stream,
    timeOriginMs: s.start * 1000,
    startMs: 0,
    chunkTimesMs: chunks,
    endMs: s.success ? (s.completed - s.start) * 1000 : 0,
    status: 0,
    success: s.success,
    failure: s.success ? undefined : { kind: "unknown" as FailureKind, message: "failed" },
  };
}

/** The concurrency the run reached, as its self-check (the `run` row's `client`) recorded it. */
function storedConcurrency(run: Record<string, unknown> | undefined): number | null {
  if (typeof run?.client !== "string") return null;
  try {
    const achieved = JSON.parse(run.client)?.concurrency?.achieved;
    return typeof achieved === "number" ? achieved : null;
  } catch {
    return null;
  }
}

/** How complete a DB's run is, from its `run` row (absent: an evalscope DB, which cannot say). */
export function runCompletion(
  run: Record<string, unknown> | undefined,
  rows: number,
): Pick<DbReport, "finished" | "interrupted" | "warning"> {
  if (run === undefined) return {};
  const interrupted = sqlNumber(run.interrupted) === 1;
  if (sqlNumber(run.ended_at) === undefined) {
    return {
      finished: false,
      interrupted,
      warning: `the run did not finish: its result DB has no end time (the process was killed, ` +
        `crashed, or could not write the DB); the tables cover only the ${rows} requests ` +
        "recorded before it stopped",
    };
  }
  const recorded = sqlNumber(run.requests);
  if (recorded !== undefined && recorded !== rows) {
    return {
      finished: true,
      interrupted,
      warning: `the DB holds ${rows} request rows, but the run recorded ${recorded}`,
    };
  }
  if (interrupted) {
    return {
      finished: true,
      interrupted,
      warning: `the run was interrupted: it stopped early; the tables cover its ${rows} requests`,
    };
  }
  return { finished: true, interrupted };
}

type Row = Record<string, unknown>;

/** A row's column, by a name the schema declares. */
function col(row: Row, name: ResultColumnName): unknown {
  return row[name];
}

/** Whether a DB's rows have a column at all (an evalscope DB has none of llmperf's extras). */
function has(row: Row, name: ResultColumnName): boolean {
  return name in row;
}

/** The `error` column: the failure's kind and message (unknown when the DB does not say). */
function failureOf(row: Row): Failure {
  let kind: FailureKind | "unknown" = "unknown";
  let message = "failed";
  const error = col(row, "error");
  if (typeof error === "string") {
    try {
      const e = JSON.parse(error);
      kind = e.kind ?? kind;
      message = e.message ?? message;
    } catch { /* keep unknown */ }
  }
  return { kind: kind as FailureKind, message };
}

/**
 * A row read back into the shape the live run derives metrics from: times in milliseconds after
 * the request was sent, the send time as the clock's origin (so no precision is lost).
 */
export function rowInput(row: Row, rowNo: number): MetricsInput {
  const success = sqlSuccess(col(row, "success"));
  const start = sqlNumber(col(row, "start_time")) ?? 0;
  const end = sqlNumber(col(row, "completed_time")) ?? start;
  const chunks = sqlNumberList(col(row, "chunk_times"));
  const isStream = col(row, "is_stream");
  const scheduled = sqlNumber(col(row, "scheduled_time"));
  return {
    index: sqlNumber(col(row, "request_id")) ?? rowNo,
    stream: isStream !== undefined ? Boolean(sqlNumber(isStream)) : chunks.length > 1,
    timeOriginMs: start * 1000,
    startMs: 0,
    chunkTimesMs: chunks.map((t) => (t - start) * 1000),
    endMs: (end - start) * 1000,
    status: sqlNumber(col(row, "status_code")) ?? 0,
    success,
    failure: success ? undefined : failureOf(row),
    retries: sqlNumber(col(row, "retries")),
    scheduledMs: scheduled === undefined ? undefined : (scheduled - start) * 1000,
  };
}

/** The payloads of a row, unpickled with the plain-data decoder. */
function payloadsOf(row: Row, rowNo: number): string[] | undefined {
  const pickled = col(row, "response_messages");
  if (typeof pickled !== "string") return undefined;
  let payloads: unknown;
  try {
    payloads = unpickleBase64(pickled);
  } catch (e) {
    if (e instanceof PickleError) {
      throw new RunError(`row ${rowNo}: response_messages: ${e.message}`);
    }
    throw e;
  }
  if (!Array.isArray(payloads)) return undefined;
  return payloads.filter((p): p is string => typeof p === "string");
}

/**
 * The token counts of a successful row: the stored counts, and, when the row does not keep the
 * timing metrics that need them (an evalscope DB, or one from before the `ttfo` column), which
 * payloads carried tokens, read by `api` from the pickled payloads.
 */
async function rowCounts(
  row: Row,
  rowNo: number,
  stream: boolean,
  api: ApiPluginLike | undefined,
): Promise<TokenCounts> {
  const source = col(row, "token_source");
  const counts: TokenCounts = {
    promptTokens: sqlNumber(col(row, "prompt_tokens")) ?? 0,
    completionTokens: sqlNumber(col(row, "completion_tokens")) ?? 0,
    source: (typeof source === "string" ? source : "usage") as TokenCounts["source"],
    reasoningTokens: sqlNumber(col(row, "reasoning_tokens")),
  };
  const needed = !has(row, "ttft") || !has(row, "inter_token_latencies") || !has(row, "ttfo");
  if (!stream || !needed || api === undefined) return counts;
  const payloads = payloadsOf(row, rowNo);
  if (payloads === undefined) return counts;
  try {
    const parsed = toCounts(await api.parseResponses(payloads, {}));
    return { ...counts, contentChunks: parsed.contentChunks, answerChunks: parsed.answerChunks };
  } catch {
    return counts; // not this API's payloads, or incomplete: every payload is timed
  }
}

/** What a row keeps of a stored metric column: the value, `null` for none, `undefined` unknown. */
function stored(
  row: Row,
  c: (typeof RESULT_COLUMNS)[number],
): number | number[] | null | undefined {
  const v = row[c.name];
  if (v === undefined || v === null) return v === null && c.nullMeans === "none" ? null : undefined;
  return c.type === "TEXT" ? sqlNumberList(v) : sqlNumber(v);
}

/**
 * Per-request metrics of one DB row: the row read into the live run's input, its metrics derived
 * by the same function as live (`requestMetrics`), and every metric the row keeps (its columns
 * declared in `schema.ts`) taken as stored. `api` reads the pickled payloads of rows that do not
 * keep the timings of token-carrying payloads (evalscope's); without it, every payload is timed.
 */
export async function rowMetrics(
  row: Row,
  rowNo: number,
  api?: ApiPluginLike,
  layout?: DbLayout,
): Promise<RequestMetrics> {
  if (layout === "evalscope-2026") return rowMetrics2026(row, rowNo);
  const input = rowInput(row, rowNo);
  const counts = input.success ? await rowCounts(row, rowNo, input.stream, api) : undefined;
  const m = requestMetrics(input, counts);
  for (const c of RESULT_COLUMNS) {
    if (c.metric === undefined) continue;
    const v = stored(row, c);
    if (v !== undefined) (m as unknown as Record<string, unknown>)[c.metric] = v ?? undefined;
  }
  // TTFO is TTFT when the answer payloads are not known: the stored TTFT, when the row has one.
  if (input.success && !has(row, "ttfo") && counts?.answerChunks === undefined) m.ttfoS = m.ttftS;
  // The client's queueing: unknown in a row that does not store it (a run always does) and had
  // no schedule (an evalscope DB, an older llmperf closed loop, merged with newer shards or not).
  if (sqlNumber(col(row, "client_queue_time")) === undefined && input.scheduledMs === undefined) {
    m.clientQueueS = undefined;
  }
  if (sqlNumber(col(row, "e2el_including_client_queue")) === undefined) {
    m.latencyWithQueueS = m.clientQueueS === undefined ? undefined : m.latencyS + m.clientQueueS;
  }
  return m;
}

/**
 * Per-request metrics of a 2026-layout row: derived from its rebuilt payload times, then what it
 * stores taken as stored. TTFT (and TTFO) is its `first_chunk_latency`: the row keeps no
 * `chunk_times` to derive one from (reading the latency instead was a bug).
 */
function rowMetrics2026(row: Row, rowNo: number): RequestMetrics {
  const s = sampleOfRow2026(row);
  const counts = s.success ? { promptTokens: s.prompt, completionTokens: s.completion } : undefined;
  const m = requestMetrics(rowInput2026(row, rowNo), counts);
  if (!s.success) return m;
  m.latencyS = s.latency;
  m.ttftS = m.ttfoS = s.ttft;
  m.firstChunkLatencyS = s.stream ? s.ttft : s.latency;
  m.itlS = Float64Array.from(s.itl);
  m.tpotS = s.stream && s.completion > 1 ? s.tpot : undefined;
  return m;
}

/**
 * The server rows of the summary from a DB's `server_metrics` table: its scrapes folded in
 * order, as the run folded them live; undefined when the table is empty.
 */
function serverFromDb(
  db: DatabaseSync,
  requestSummary: Summary,
  requestPercentiles: PercentileRow[],
): Summary | undefined {
  const scraper = new ServerScraper("its server_metrics table", {}, ["*"]);
  let time: number | undefined;
  let samples: Sample[] = [];
  const flush = () => {
    if (time !== undefined && samples.length > 0) scraper.foldSamples(time, samples);
    samples = [];
  };
  const rows = db.prepare("SELECT time, name, labels, value FROM server_metrics ORDER BY rowid")
    .iterate() as Iterable<Row>;
  for (const r of rows) {
    const t = sqlNumber(r.time) ?? 0;
    if (t !== time) {
      flush();
      time = t;
    }
    let labels: Record<string, string> = {};
    try {
      labels = JSON.parse(String(r.labels));
    } catch { /* none */ }
    samples.push({ name: String(r.name), labels, value: sqlNumber(r.value) ?? NaN });
  }
  flush();
  if (scraper.scrapes === 0) return undefined;
  const pct = (p: string) => {
    const v = requestPercentiles.find((x) => x["Percentile"] === p)?.[REQUEST_COLUMNS.ttft];
    return typeof v === "number" ? v : null;
  };
  const mean = requestSummary[MODERN_KEYS.meanTtft];
  return serverSummary(scraper.data(), {
    mean: typeof mean === "number" ? mean : null,
    p50: pct("50%"),
    p99: pct("99%"),
  });
}

async function readArgsBeside(dbPath: string): Promise<Record<string, unknown> | undefined> {
  const dir = dbPath.includes("/") ? dbPath.slice(0, dbPath.lastIndexOf("/")) : ".";
  try {
    return JSON.parse(await Deno.readTextFile(`${dir}/benchmark_args.json`));
  } catch {
    return undefined;
  }
}

/**
 * Open a result DB read-only (a transaction a killed writer left is rolled back first: see
 * `openForReading`). Throws a {@link RunError} when it cannot be opened or has no `result` table.
 */
export function openResultDb(dbPath: string): DatabaseSync {
  let db: DatabaseSync;
  try {
    db = openForReading(dbPath);
  } catch (e) {
    throw new RunError(`cannot open '${dbPath}': ${(e as Error).message}`);
  }
  try {
    if (!hasTable(db, "result")) {
      throw new RunError(`'${dbPath}' has no 'result' table: not a result DB`);
    }
    return db;
  } catch (e) {
    db.close();
    if (e instanceof RunError) throw e;
    throw new RunError(`cannot read '${dbPath}': ${(e as Error).message}`);
  }
}

/** Whether the DB has table `name`. */
function hasTable(db: DatabaseSync, name: string): boolean {
  return db.prepare("SELECT name FROM sqlite_master WHERE type='table' AND name = ?").get(name) !==
    undefined;
}

/**
 * A result DB's `run` row (absent in evalscope's DBs) and its settings: the row's `args`, else
 * the `benchmark_args.json` beside the DB.
 */
export async function runMeta(
  db: DatabaseSync,
  dbPath: string,
): Promise<{ run?: Row; args?: Record<string, unknown> }> {
  const hasRun = hasTable(db, "run");
  const run = hasRun ? db.prepare("SELECT * FROM run LIMIT 1").get() as Row | undefined : undefined;
  let args: Record<string, unknown> | undefined;
  if (typeof run?.args === "string") {
    try {
      args = JSON.parse(run.args);
    } catch { /* read beside */ }
  }
  return { run, args: args ?? await readArgsBeside(dbPath) };
}

/** Rows handed to the extra sinks of {@link reportFromDb} at a time. */
const SINK_BATCH = 256;

/**
 * Recompute a run's tables from its result DB. `api` reads the pickled payloads of a DB that does
 * not keep llmperf's timing columns (evalscope's: `llmperf report` passes the `openai` plugin).
 * `sinks` receive every row's metrics too, in the DB's order (`llmperf merge`: goodput, the
 * charts of `report.html`).
 */
export async function reportFromDb(
  dbPath: string,
  api?: ApiPluginLike,
  sinks: readonly MetricsSink[] = [],
  opts: { compat?: CompatChoice } = {},
): Promise<DbReport> {
  const db = openResultDb(dbPath);
  try {
    const { run, args } = await runMeta(db, dbPath);
    const layout = dbLayout(db);
    const samples: Sample2026[] = [];
    const collector = new MetricsCollector();
    const urls = Array.isArray(args?.urls) ? args.urls.filter((u) => typeof u === "string") : [];
    const endpoints = new EndpointBreakdown(urls.map(endpointName));
    let n = 0;
    let batch: Measured[] = [];
    const flush = () => {
      for (const s of sinks) s.write(batch);
      batch = [];
    };
    // In chunks, each its own short read: a report on a live run's file holds its writer off
    // only as long as one chunk's query.
    for (const row of resultRows(db) as Iterable<Row>) {
      const metrics = await rowMetrics(row, n++, api, layout);
      collector.add(metrics);
      if (opts.compat === "2026") {
        // evalscope 2026's definitions: as stored, or applied to the recorded payloads.
        const r26 = layout === "evalscope-2026" ? row : row2026(row, metrics, n - 1);
        samples.push(sampleOfRow2026(r26));
      }
      endpoints.add(typeof row.endpoint === "string" ? row.endpoint : undefined, metrics);
      if (sinks.length === 0) continue;
      batch.push({ metrics });
      if (batch.length === SINK_BATCH) flush();
    }
    if (batch.length > 0) flush();
    const parallel = sqlNumber(args?.parallel);
    const shard = args?.shard as Shard | undefined; // a shard ran its share of --parallel
    const requestSummary = collector.modernSummary(storedConcurrency(run));
    const requestPercentiles = collector.requestPercentiles();
    const traceSummary = collector.traceSummary();
    const server = hasTable(db, "server_metrics")
      ? serverFromDb(db, requestSummary, requestPercentiles)
      : undefined;
    return {
      summary: collector.summary({
        concurrency: parallel === undefined ? null : shardCount(parallel, shard ?? undefined),
        expected: sqlNumber(args?.number) ?? n,
        dbPath,
      }),
      percentiles: collector.percentiles(),
      requestSummary,
      requestPercentiles,
      failures: Object.fromEntries(collector.failureKinds),
      run,
      rows: n,
      ...runCompletion(run, n),
      ...(server ? { serverSummary: server } : {}),
      layout: LAYOUT_NAMES[layout],
      ...(opts.compat === "2026"
        ? {
          evalscope2026: results2026(samples, {
            parallel: parallel ?? -1,
            rate: sqlNumber(args?.rate) ?? -1,
          }),
        }
        : {}),
      ...(endpoints.size > 1 ? { endpoints: endpoints.rows() } : {}),
      ...(traceSummary ? { traceSummary } : {}),
    };
  } catch (e) {
    if (e instanceof RunError) throw e;
    throw new RunError(`cannot read '${dbPath}': ${(e as Error).message}`);
  } finally {
    db.close();
  }
}
