/**
 * The printed results: evalscope's "Benchmarking summary" and "Percentile results" tables, then
 * the per-request percentile table and throughputs users now expect.
 *
 * @module
 */
import {
  INPUT_KEYS,
  INPUT_RATE_COLUMN,
  MODERN_KEYS,
  type PercentileRow,
  REQUEST_COLUMNS,
  type Summary,
  SUMMARY_KEYS,
  TIME_COLUMNS,
} from "../metrics/collector.ts";
import { CACHE_KEYS } from "../metrics/conversations.ts";
import { ENDPOINT_COLUMNS, type EndpointRow } from "../metrics/endpoint_breakdown.ts";
import { type Cell, gridTable } from "./grid_table.ts";

/** Round as evalscope prints: 3 decimals, 5 for the time per output token. */
export function roundForPrint(key: string, v: number): number {
  const digits = key === SUMMARY_KEYS.timePerToken ? 5 : 3;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function cell(key: string, v: number | string | null | undefined): Cell {
  if (v === null || v === undefined) return "n/a";
  return typeof v === "number" ? roundForPrint(key, v) : v;
}

/** "Benchmarking summary:" and its Key | Value grid. */
export function formatSummary(summary: Summary): string {
  const rows: Cell[][] = Object.values(SUMMARY_KEYS).map((k) => [k, cell(k, summary[k])]);
  return "Benchmarking summary:\n" + gridTable(["Key", "Value"], rows);
}

/** "Percentile results:" (first-chunk latency and latency), or evalscope's too-little-data line. */
export function formatPercentiles(rows: PercentileRow[]): string {
  if (rows.length === 0) return "Percentile results:\nToo little data to calculate quantiles";
  const headers = ["Percentile", "First Chunk Latency", "Latency"];
  return "Percentile results:\n" +
    gridTable(headers, rows.map((r) => headers.map((h, i) => i === 0 ? r[h] : cell(h, r[h]))));
}

/** The modern summary (throughputs and means; the input rows when the run has them). */
export function formatModernSummary(summary: Summary): string {
  const keys: string[] = Object.values(MODERN_KEYS);
  for (const k of Object.values(INPUT_KEYS)) if (k in summary) keys.push(k);
  for (const k of Object.values(CACHE_KEYS)) if (k in summary) keys.push(k);
  const rows: Cell[][] = keys.map((k) => [k, cell(k, summary[k])]);
  return "Per-request metrics summary:\n" + gridTable(["Metric", "Value"], rows);
}

/** The per-request percentile table. */
export function formatRequestPercentiles(rows: PercentileRow[]): string {
  if (rows.length === 0) return "Per-request percentiles:\nNo successful requests";
  const headers: string[] = ["Percentile", ...Object.values(REQUEST_COLUMNS)];
  if (INPUT_RATE_COLUMN in rows[0]) headers.push(INPUT_RATE_COLUMN);
  return percentileGrid("Per-request percentiles:", headers, rows);
}

/** The percentile table's headers, and its rows as printed cells. */
function percentileGrid(title: string, headers: string[], rows: PercentileRow[]): string {
  return title + "\n" +
    gridTable(headers, rows.map((r) => headers.map((h, i) => i === 0 ? r[h] : cell(h, r[h]))));
}

/**
 * "Where the time went": per-request percentiles of the client's queueing, the connection
 * set-up (requests that opened one), the time to the response headers, TTFT, and the latency
 * without and with the client's queueing (coordinated omission shows as the gap between the two).
 */
export function formatTimeBreakdown(rows: PercentileRow[]): string {
  if (rows.length === 0) {
    return "Where the time went (per-request percentiles):\nNo successful requests";
  }
  const C = REQUEST_COLUMNS;
  return percentileGrid("Where the time went (per-request percentiles):", [
    "Percentile",
    ...Object.values(TIME_COLUMNS),
    C.ttft,
    C.latency,
    C.latencyWithQueue,
  ], rows);
}

/**
 * evalscope's table for runs that only read input (embeddings, rerank: its "Detailed
 * Performance Metrics"), or undefined for other runs: concurrency, requests per second, mean and
 * p99 latency, mean and p99 per-request input rate, mean input tokens, success rate.
 */
export function formatInputTable(
  summary: Summary,
  modern: Summary,
  percentiles: PercentileRow[],
): string | undefined {
  if (!(INPUT_KEYS.inputRate in modern)) return undefined;
  const p99 = percentiles.find((r) => r["Percentile"] === "99%");
  const total = Number(summary[SUMMARY_KEYS.total] ?? 0);
  const ok = Number(summary[SUMMARY_KEYS.succeed] ?? 0);
  const headers = [
    "Conc.",
    "RPS",
    "Avg Lat.(s)",
    "P99 Lat.(s)",
    "Avg Inp.TPS",
    "P99 Inp.TPS",
    "Avg Inp.Tok",
    "Success Rate",
  ];
  const row: Cell[] = [
    cell("", summary[SUMMARY_KEYS.concurrency] ?? null),
    cell("", modern[MODERN_KEYS.requestThroughput]),
    cell("", modern[MODERN_KEYS.meanLatency]),
    cell("", p99?.[REQUEST_COLUMNS.latency]),
    cell("", modern[INPUT_KEYS.inputRate]),
    cell("", p99?.[INPUT_RATE_COLUMN]),
    cell("", modern[INPUT_KEYS.meanInput]),
    total > 0 ? `${Math.round((ok / total) * 1000) / 10}%` : "n/a",
  ];
  return "Embedding/rerank summary:\n" + gridTable(headers, [row]);
}

/** The server's side (from its `/metrics`), when scraped: one Metric | Value grid. */
export function formatServerSummary(summary: Summary): string {
  const rows: Cell[][] = Object.entries(summary).map(([k, v]) => [k, cell(k, v)]);
  return "Server metrics (/metrics, over the run):\n" + gridTable(["Metric", "Value"], rows);
}

/** The per-endpoint table (several `--url`): one row per endpoint. */
export function formatEndpoints(rows: readonly EndpointRow[]): string {
  const headers: string[] = Object.values(ENDPOINT_COLUMNS);
  return "Per-endpoint metrics:\n" +
    gridTable(headers, rows.map((r) => headers.map((h, i) => i === 0 ? r[h] : cell(h, r[h]))));
}
