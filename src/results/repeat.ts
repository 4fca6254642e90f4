/**
 * What `--repeat N` produces: the same point run N times, and per metric its mean, standard
 * deviation, 95% confidence interval (Student t) and coefficient of variation across the runs.
 * Plain types and the pure {@link repeatSummary}, below the run that builds them
 * (`src/run/repeat.ts`) and the outputs that show them (`repeat_summary.json`, the printed table,
 * `report.html`).
 *
 * @module
 */
import { relative } from "node:path";
import { MODERN_KEYS, REQUEST_COLUMNS, type Summary, SUMMARY_KEYS } from "../metrics/collector.ts";
import { CONFIDENCE, type Spread, spread } from "../metrics/spread.ts";
import type { PerfResult } from "./run.ts";

/** The percentiles of each per-request column that repeats compare. */
export const REPEAT_PERCENTILES = ["50%", "90%", "99%"] as const;

/** One run of a repeated point, as the repeat summary lists it. */
export interface RepeatRun {
  /**
   * Its folder, relative to the repeat folder (`repeat_1`; `--compat 2026`:
   * `../<name>_repeat_1/parallel_P_number_N`).
   */
  folder: string;
  /** Whether it was interrupted. */
  interrupted: boolean;
  /** Why it stopped early (`--max-error-rate`), when it did. */
  stoppedEarly: string | null;
  /** Whether every `--slo` goal passed (null without `--slo`). */
  sloPassed: boolean | null;
}

/** The repeat summary (`repeat_summary.json`). */
export interface RepeatSummary {
  /** Runs made. */
  repeats: number;
  /** The confidence level of the intervals (0.95). */
  confidence: number;
  /** Each run, in order. */
  runs: RepeatRun[];
  /** Each numeric summary metric's spread across the runs, by its summary name. */
  metrics: Record<string, Spread>;
}

/** What a repeated point returns. */
export interface RepeatResult {
  /** The repeat folder (each run in a `repeat_<k>` subfolder). */
  outputDir: string;
  /** Each run's full result, in order. */
  results: PerfResult[];
  /** The spread of every metric. */
  summary: RepeatSummary;
  /** Whether the repeats were interrupted (later runs did not happen). */
  interrupted: boolean;
  /** Outputs that could not be written (every run's, and the repeat folder's own). */
  errors: string[];
}

/** The name a percentile gets among the repeat metrics: `TTFT (ms) p99`. */
export function percentileMetric(column: string, percentile: string): string {
  return `${column} p${percentile.replace("%", "")}`;
}

/** The numeric metrics of one run, by name: both summaries, key percentiles, the server's. */
export function runMetrics(r: PerfResult): Record<string, number> {
  const out: Record<string, number> = {};
  const take = (s: Summary | undefined) => {
    for (const [k, v] of Object.entries(s ?? {})) {
      if (typeof v === "number" && Number.isFinite(v)) out[k] = v;
    }
  };
  take(r.summary);
  take(r.requestSummary);
  take(r.serverSummary);
  for (const p of REPEAT_PERCENTILES) {
    const row = r.requestPercentiles.find((x) => x["Percentile"] === p);
    if (!row) continue;
    for (const col of Object.values(REQUEST_COLUMNS)) {
      const v = row[col];
      if (typeof v === "number" && Number.isFinite(v)) out[percentileMetric(col, p)] = v;
    }
  }
  return out;
}

/**
 * The spread of every metric over `results` (in run order), with their folders: relative to
 * `repeatDir` when given, else each folder's own name.
 */
export function repeatSummary(results: readonly PerfResult[], repeatDir?: string): RepeatSummary {
  const per = results.map(runMetrics);
  const names: string[] = [];
  const seen = new Set<string>();
  for (const m of per) {
    for (const k of Object.keys(m)) {
      if (!seen.has(k)) {
        seen.add(k);
        names.push(k);
      }
    }
  }
  const metrics: Record<string, Spread> = {};
  for (const k of names) {
    const s = spread(per.map((m) => m[k] ?? null));
    if (s) metrics[k] = s;
  }
  return {
    repeats: results.length,
    confidence: CONFIDENCE,
    runs: results.map((r) => ({
      folder: repeatDir === undefined
        ? r.outputDir.split("/").pop() ?? ""
        : relative(repeatDir, r.outputDir),
      interrupted: r.interrupted,
      stoppedEarly: r.stoppedEarly ?? null,
      sloPassed: r.slo ? r.slo.passed : null,
    })),
    metrics,
  };
}

/** The metrics the printed repeat table and the report show, in order (those present). */
export const REPEAT_TABLE_METRICS: readonly string[] = [
  MODERN_KEYS.requestThroughput,
  MODERN_KEYS.outputThroughput,
  MODERN_KEYS.meanTtft,
  percentileMetric(REQUEST_COLUMNS.ttft, "50%"),
  percentileMetric(REQUEST_COLUMNS.ttft, "99%"),
  MODERN_KEYS.meanTpot,
  percentileMetric(REQUEST_COLUMNS.tpot, "99%"),
  MODERN_KEYS.meanItl,
  MODERN_KEYS.meanLatency,
  percentileMetric(REQUEST_COLUMNS.latency, "99%"),
  "Server mean TTFT (ms)",
  SUMMARY_KEYS.succeed,
  SUMMARY_KEYS.failed,
];
