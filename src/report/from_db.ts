/**
 * Results recomputed from a result DB alone — llmperf's, or one written by evalscope in late
 * 2024 (same `result` columns, no extras, `start_time` from a monotonic clock). Pickles are read
 * with the plain-data decoder, which refuses anything that would execute code.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { RunError } from "../errors.ts";
import { MetricsCollector, type PercentileRow, type Summary } from "../metrics/collector.ts";
import type { RequestMetrics } from "../metrics/request_metrics.ts";
import type { TokenCounts } from "../plugins/types.ts";
import type { FailureKind } from "../records/record.ts";
import { PickleError, unpickleBase64 } from "../store/pickle.ts";
import OpenAIApi from "../../plugins/api/openai.ts";
import { resolveConfig } from "../config.ts";

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
}

/** How complete a DB's run is, from its `run` row (absent: an evalscope DB, which cannot say). */
export function runCompletion(
  run: Record<string, unknown> | undefined,
  rows: number,
): Pick<DbReport, "finished" | "interrupted" | "warning"> {
  if (run === undefined) return {};
  const interrupted = num(run.interrupted) === 1;
  if (num(run.ended_at) === undefined) {
    return {
      finished: false,
      interrupted,
      warning: `the run did not finish: its result DB has no end time (the process was killed, ` +
        `crashed, or could not write the DB); the tables cover only the ${rows} requests ` +
        "recorded before it stopped",
    };
  }
  const recorded = num(run.requests);
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

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v)
    ? v
    : typeof v === "bigint"
    ? Number(v)
    : undefined;
}

function isSuccess(v: unknown): boolean {
  return v === "True" || v === "true" || v === 1 || v === "1" || v === 1n;
}

function jsonList(v: unknown): number[] {
  if (typeof v !== "string" || v === "") return [];
  try {
    const x = JSON.parse(v);
    return Array.isArray(x) ? x.filter((n) => typeof n === "number") : [];
  } catch {
    return [];
  }
}

/** A row's payloads read as OpenAI chunks or bodies: which carried tokens, when decodable. */
function parsedPayloads(row: Row, rowNo: number): TokenCounts | undefined {
  if (typeof row.response_messages !== "string") return undefined;
  let payloads: unknown;
  try {
    payloads = unpickleBase64(row.response_messages);
  } catch (e) {
    if (e instanceof PickleError) {
      throw new RunError(`row ${rowNo}: response_messages: ${e.message}`);
    }
    throw e;
  }
  if (!Array.isArray(payloads)) return undefined;
  const texts = payloads.filter((p): p is string => typeof p === "string");
  try {
    return OPENAI.parseResponses(texts);
  } catch {
    return undefined; // not OpenAI chunks, or incomplete: time every chunk
  }
}

const OPENAI = new OpenAIApi(resolveConfig({ model: "report" }));

/** Per-request metrics of one DB row. */
export function rowMetrics(row: Row, rowNo: number): RequestMetrics {
  const success = isSuccess(row.success);
  const start = num(row.start_time) ?? 0;
  const end = num(row.completed_time) ?? start;
  const chunkTimes = jsonList(row.chunk_times);
  const latency = num(row.latency) ?? end - start;
  const stream = row.is_stream !== undefined ? Boolean(num(row.is_stream)) : chunkTimes.length > 1;
  const completionTokens = num(row.completion_tokens) ?? 0;
  let ttft = num(row.ttft);
  let itl = row.inter_token_latencies !== undefined
    ? jsonList(row.inter_token_latencies)
    : undefined;
  // An evalscope DB, or one from before the `ttfo` column: the pickled payloads say which chunks
  // carried tokens, and which answer tokens.
  const hasTtfo = row.ttfo !== undefined;
  const parsed = success && stream && (ttft === undefined || itl === undefined || !hasTtfo)
    ? parsedPayloads(row, rowNo)
    : undefined;
  if (success && (ttft === undefined || itl === undefined)) {
    const idx = parsed && parsed.contentChunks?.length ? parsed.contentChunks : undefined;
    const times = idx ? idx.map((i) => chunkTimes[i]).filter((t) => t !== undefined) : chunkTimes;
    ttft ??= stream && times.length > 0 ? times[0] - start : latency;
    itl ??= stream ? times.slice(1).map((t, i) => t - times[i]) : [];
  }
  ttft ??= latency;
  let ttfo: number | undefined;
  if (hasTtfo) ttfo = num(row.ttfo);
  else if (success) {
    // No answer chunk: none; payloads not readable (or not streamed): as TTFT.
    const answers = parsed?.answerChunks;
    const first = answers && answers.length > 0 ? chunkTimes[answers[0]] : undefined;
    ttfo = first !== undefined ? first - start : answers?.length === 0 ? undefined : ttft;
  }
  const tpot = num(row.time_per_output_token) ??
    (stream && completionTokens > 1 ? (latency - ttft) / (completionTokens - 1) : undefined);
  let failure: RequestMetrics["failure"];
  if (!success) {
    let kind: FailureKind | "unknown" = "unknown";
    let message = "failed";
    if (typeof row.error === "string") {
      try {
        const e = JSON.parse(row.error);
        kind = e.kind ?? kind;
        message = e.message ?? message;
      } catch { /* keep unknown */ }
    }
    failure = { kind: kind as FailureKind, message };
  }
  return {
    index: num(row.request_id) ?? rowNo,
    success,
    stream,
    startTime: start,
    completedTime: end,
    latency,
    firstChunkLatency: num(row.first_chunk_latency) ?? latency,
    nChunks: num(row.n_chunks) ?? 1,
    chunkTime: num(row.chunk_time) ?? latency,
    ttft,
    ttfo,
    tpot,
    itl: itl ?? [],
    promptTokens: num(row.prompt_tokens) ?? 0,
    completionTokens,
    reasoningTokens: num(row.reasoning_tokens),
    tokenSource:
      (typeof row.token_source === "string" ? row.token_source : "usage") as RequestMetrics[
        "tokenSource"
      ],
    status: num(row.status_code) ?? 0,
    failure,
    retries: num(row.retries),
  };
}

async function readArgsBeside(dbPath: string): Promise<Record<string, unknown> | undefined> {
  const dir = dbPath.includes("/") ? dbPath.slice(0, dbPath.lastIndexOf("/")) : ".";
  try {
    return JSON.parse(await Deno.readTextFile(`${dir}/benchmark_args.json`));
  } catch {
    return undefined;
  }
}

/** Recompute a run's tables from its result DB. */
export async function reportFromDb(dbPath: string): Promise<DbReport> {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(dbPath, { readOnly: true });
  } catch (e) {
    throw new RunError(`cannot open '${dbPath}': ${(e as Error).message}`);
  }
  try {
    const tables = new Set(
      (db.prepare("SELECT name FROM sqlite_master WHERE type='table'").all() as Row[]).map((r) =>
        r.name
      ),
    );
    if (!tables.has("result")) {
      throw new RunError(`'${dbPath}' has no 'result' table: not a result DB`);
    }
    let run: Row | undefined;
    let args: Record<string, unknown> | undefined;
    if (tables.has("run")) {
      run = db.prepare("SELECT * FROM run LIMIT 1").get() as Row | undefined;
      if (run && typeof run.args === "string") {
        try {
          args = JSON.parse(run.args);
        } catch { /* leave undefined */ }
      }
    }
    args ??= await readArgsBeside(dbPath);
    const collector = new MetricsCollector();
    let n = 0;
    for (
      const row of db.prepare("SELECT * FROM result ORDER BY rowid").iterate() as Iterable<Row>
    ) {
      collector.add(rowMetrics(row, n++));
    }
    const parallel = num(args?.parallel);
    return {
      summary: collector.summary({
        concurrency: parallel ?? null,
        expected: num(args?.number) ?? n,
        dbPath,
      }),
      percentiles: collector.percentiles(),
      requestSummary: collector.modernSummary(),
      requestPercentiles: collector.requestPercentiles(),
      failures: Object.fromEntries(collector.failureKinds),
      run,
      rows: n,
      ...runCompletion(run, n),
    };
  } catch (e) {
    if (e instanceof RunError) throw e;
    throw new RunError(`cannot read '${dbPath}': ${(e as Error).message}`);
  } finally {
    db.close();
  }
}
