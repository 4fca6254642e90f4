/**
 * The per-request table `llmperf export` writes (CSV and Parquet), declared once: each column's
 * name (units in the name), its Parquet type, and how a request's metrics fill it. One row per
 * request, in the result DB's order; times in epoch seconds, durations in the unit the name says;
 * a metric a request does not have (a failure's TTFT, TPOT of one token) is empty (CSV) or null
 * (Parquet). Request bodies and response payloads are not exported (the DB keeps them).
 *
 * @module
 */
import type { RequestMetrics } from "../metrics/request_metrics.ts";
import { failureReason } from "../metrics/collector.ts";
import { mean as meanOf } from "../metrics/percentiles.ts";

/** A column's value type (Parquet's physical types as hyparquet-writer names them). */
export type ExportType = "DOUBLE" | "INT64" | "BOOLEAN" | "STRING";

/** One column of the export. */
export interface ExportColumn {
  /** Header name. */
  readonly name: string;
  /** Value type. */
  readonly type: ExportType;
  /** The value of one request (null: none). */
  readonly value: (m: RequestMetrics) => number | string | boolean | null;
}

const ms = (s: number | undefined) => (s === undefined || !Number.isFinite(s) ? null : s * 1000);
const ok = <T>(m: RequestMetrics, v: T): T | null => (m.success ? v : null);

function mean(xs: ArrayLike<number>): number | null {
  return xs.length > 0 ? meanOf(xs) : null;
}

/** The columns, in order. */
export const EXPORT_COLUMNS: readonly ExportColumn[] = [
  { name: "request_id", type: "INT64", value: (m) => m.index },
  { name: "success", type: "BOOLEAN", value: (m) => m.success },
  { name: "status_code", type: "INT64", value: (m) => m.status },
  { name: "failure_kind", type: "STRING", value: (m) => (m.success ? null : failureReason(m)) },
  { name: "failure_message", type: "STRING", value: (m) => m.failure?.message ?? null },
  { name: "stream", type: "BOOLEAN", value: (m) => m.stream },
  { name: "start_time_s", type: "DOUBLE", value: (m) => m.startEpochS },
  { name: "completed_time_s", type: "DOUBLE", value: (m) => m.completedEpochS },
  { name: "latency_s", type: "DOUBLE", value: (m) => ok(m, m.latencyS) },
  { name: "ttft_ms", type: "DOUBLE", value: (m) => ok(m, ms(m.ttftS)) },
  { name: "ttfo_ms", type: "DOUBLE", value: (m) => ok(m, ms(m.ttfoS)) },
  { name: "tpot_ms", type: "DOUBLE", value: (m) => ok(m, ms(m.tpotS)) },
  { name: "itl_mean_ms", type: "DOUBLE", value: (m) => ok(m, ms(mean(m.itlS) ?? undefined)) },
  {
    name: "itl_max_ms",
    type: "DOUBLE",
    value: (m) => ok(m, ms(m.itlS.length ? Math.max(...m.itlS) : undefined)),
  },
  { name: "n_chunks", type: "INT64", value: (m) => ok(m, m.nChunks) },
  { name: "prompt_tokens", type: "INT64", value: (m) => ok(m, m.promptTokens) },
  { name: "completion_tokens", type: "INT64", value: (m) => ok(m, m.completionTokens) },
  { name: "reasoning_tokens", type: "INT64", value: (m) => ok(m, m.reasoningTokens ?? null) },
  { name: "token_source", type: "STRING", value: (m) => ok(m, m.tokenSource) },
  { name: "retries", type: "INT64", value: (m) => m.retries ?? null },
  { name: "cached_tokens", type: "INT64", value: (m) => ok(m, m.cachedTokens ?? null) },
  // --multi-turn: the conversation and the turn's position in it (from 0).
  { name: "conversation_id", type: "INT64", value: (m) => m.conversation ?? null },
  { name: "turn_index", type: "INT64", value: (m) => m.turn ?? null },
  // Where the time went (see docs/metrics.md): null where the DB does not say, or none happened.
  { name: "client_queue_ms", type: "DOUBLE", value: (m) => ms(m.clientQueueS) },
  {
    name: "latency_incl_queue_s",
    type: "DOUBLE",
    value: (m) => ok(m, m.latencyWithQueueS ?? null),
  },
  { name: "time_to_headers_ms", type: "DOUBLE", value: (m) => ms(m.headersS) },
  { name: "connect_ms", type: "DOUBLE", value: (m) => ms(m.connectS) },
  { name: "tls_ms", type: "DOUBLE", value: (m) => ms(m.tlsS) },
];

/** One request's row of the export, in {@link EXPORT_COLUMNS} order. */
export function exportRow(m: RequestMetrics): Array<number | string | boolean | null> {
  return EXPORT_COLUMNS.map((c) => c.value(m));
}
