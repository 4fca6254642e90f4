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

/** Token-carrying chunk indices of a row's payloads (OpenAI format), when decodable. */
function contentChunks(row: Row, rowNo: number): number[] | undefined {
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
    const parsed = OPENAI.parseResponses(texts);
    return parsed.contentChunks.length > 0 ? parsed.contentChunks : undefined;
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
  if (success && (ttft === undefined || itl === undefined)) {
    // An evalscope DB: find the token-carrying chunks in the pickled payloads.
    const idx = stream ? contentChunks(row, rowNo) : undefined;
    const times = idx ? idx.map((i) => chunkTimes[i]).filter((t) => t !== undefined) : chunkTimes;
    ttft ??= stream && times.length > 0 ? times[0] - start : latency;
    itl ??= stream ? times.slice(1).map((t, i) => t - times[i]) : [];
  }
  ttft ??= latency;
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
    tpot,
    itl: itl ?? [],
    promptTokens: num(row.prompt_tokens) ?? 0,
    completionTokens,
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
    };
  } catch (e) {
    if (e instanceof RunError) throw e;
    throw new RunError(`cannot read '${dbPath}': ${(e as Error).message}`);
  } finally {
    db.close();
  }
}
