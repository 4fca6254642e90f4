/**
 * What a sweep produces: its points, one comparison row per point, and the sweep's outcome. Plain
 * types and the pure {@link sweepRow}, below the sweep (`src/run/sweep.ts`) that builds them and
 * the outputs (`sweep_summary.json`, the printed table, `report.html`) that show them.
 *
 * @module
 */
import { MODERN_KEYS, REQUEST_COLUMNS, SUMMARY_KEYS } from "../metrics/collector.ts";
import { GOODPUT_KEY } from "../slo/evaluate.ts";
import { percentileMetric, type RepeatResult } from "./repeat.ts";
import type { PerfResult } from "./run.ts";

/** One point of a sweep: the values it runs with, and its folder name. */
export interface SweepPoint {
  /** Folder name, e.g. `parallel_8_number_80`. */
  label: string;
  /** `--parallel` at this point, when swept or given. */
  parallel?: number;
  /** `--number` at this point. */
  number?: number;
  /** `--rate` at this point. */
  rate?: number;
}

/** One row of the comparison table (`sweep_summary.json`). */
export interface SweepRow {
  /** The point's label. */
  point: string;
  /** Its folder, relative to the sweep folder. */
  folder: string;
  /** `--parallel`. */
  parallel: number;
  /** Requests dispatched. */
  number: number;
  /** `--rate` (-1: no pacing). */
  rate: number;
  /** Requests that succeeded. */
  succeeded: number;
  /** Requests that failed. */
  failed: number;
  /** Successful requests per second. */
  requestThroughput: number | null;
  /** Output tokens per second. */
  outputThroughput: number | null;
  /** TTFT median, ms. */
  ttftP50: number | null;
  /** TTFT p99, ms. */
  ttftP99: number | null;
  /** TPOT median, ms. */
  tpotP50: number | null;
  /** TPOT p99, ms. */
  tpotP99: number | null;
  /** End-to-end latency median, s. */
  latencyP50: number | null;
  /** End-to-end latency p99, s. */
  latencyP99: number | null;
  /** Goodput, req/s (with `--slo`). */
  goodput: number | null;
  /** Whether every SLO goal passed (null without `--slo`). */
  sloPassed: boolean | null;
  /** Whether the point was interrupted. */
  interrupted: boolean;
  /** Why the point (or one of its repeats) stopped early (`--max-error-rate`), else null. */
  stoppedEarly?: string | null;
  /** Runs of the point (`--repeat`); the numbers above are then their means. */
  repeats?: number;
  /** With repeats: the 95% confidence interval `[low, high]` of each averaged number. */
  ci?: Partial<Record<SweepCiKey, [number, number]>>;
}

/** A sweep-row number that repeats average. */
export type SweepCiKey =
  | "requestThroughput"
  | "outputThroughput"
  | "ttftP50"
  | "ttftP99"
  | "tpotP50"
  | "tpotP99"
  | "latencyP50"
  | "latencyP99"
  | "goodput";

/** The numbers of a sweep row that repeats average, with the repeat metric each comes from. */
export const SWEEP_CI_METRICS: Readonly<Record<SweepCiKey, string>> = {
  requestThroughput: MODERN_KEYS.requestThroughput,
  outputThroughput: MODERN_KEYS.outputThroughput,
  ttftP50: percentileMetric(REQUEST_COLUMNS.ttft, "50%"),
  ttftP99: percentileMetric(REQUEST_COLUMNS.ttft, "99%"),
  tpotP50: percentileMetric(REQUEST_COLUMNS.tpot, "50%"),
  tpotP99: percentileMetric(REQUEST_COLUMNS.tpot, "99%"),
  latencyP50: percentileMetric(REQUEST_COLUMNS.latency, "50%"),
  latencyP99: percentileMetric(REQUEST_COLUMNS.latency, "99%"),
  goodput: GOODPUT_KEY,
};

/** What a sweep returns. */
export interface SweepResult {
  /** The sweep folder. */
  outputDir: string;
  /**
   * Each point that ran, in order, with its full result (with `--repeat`: its last run's, and
   * all of them in `repeats`).
   */
  points: Array<{ point: SweepPoint; result: PerfResult; repeats?: RepeatResult }>;
  /** The comparison table. */
  rows: SweepRow[];
  /** Whether the sweep was interrupted (later points did not run). */
  interrupted: boolean;
  /** Outputs that could not be written (see `PerfResult.errors`); the sweep stops at the first. */
  errors: string[];
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** What a point's row is made from: a run's result, or a merge of its shards. */
export type SweepRowSource =
  & Pick<
    PerfResult,
    | "outputDir"
    | "summary"
    | "requestSummary"
    | "requestPercentiles"
    | "interrupted"
    | "slo"
    | "stoppedEarly"
  >
  & { config: Pick<PerfResult["config"], "parallel" | "rate"> };

/** A point's row of the comparison table. */
export function sweepRow(point: SweepPoint, r: SweepRowSource): SweepRow {
  const pct = (p: string, col: string) =>
    num(r.requestPercentiles.find((row) => row["Percentile"] === p)?.[col]);
  return {
    point: point.label,
    folder: r.outputDir.split("/").pop() ?? point.label,
    parallel: r.config.parallel,
    number: num(r.summary[SUMMARY_KEYS.expected]) ?? 0,
    rate: r.config.rate,
    succeeded: num(r.summary[SUMMARY_KEYS.succeed]) ?? 0,
    failed: num(r.summary[SUMMARY_KEYS.failed]) ?? 0,
    requestThroughput: num(r.requestSummary[MODERN_KEYS.requestThroughput]),
    outputThroughput: num(r.requestSummary[MODERN_KEYS.outputThroughput]),
    ttftP50: pct("50%", REQUEST_COLUMNS.ttft),
    ttftP99: pct("99%", REQUEST_COLUMNS.ttft),
    tpotP50: pct("50%", REQUEST_COLUMNS.tpot),
    tpotP99: pct("99%", REQUEST_COLUMNS.tpot),
    latencyP50: pct("50%", REQUEST_COLUMNS.latency),
    latencyP99: pct("99%", REQUEST_COLUMNS.latency),
    goodput: num(r.requestSummary[GOODPUT_KEY]),
    sloPassed: r.slo ? r.slo.passed : null,
    interrupted: r.interrupted,
    stoppedEarly: r.stoppedEarly ?? null,
  };
}

/**
 * A repeated point's row (at least one run): the means of its runs, each with its 95%
 * confidence interval; it passed its SLO only if every run did.
 */
export function repeatedSweepRow(point: SweepPoint, rr: RepeatResult): SweepRow {
  const row = sweepRow(point, rr.results[0]);
  row.folder = rr.outputDir.split("/").pop() ?? point.label;
  row.repeats = rr.results.length;
  const m = rr.summary.metrics;
  const mean = (k: string) => m[k]?.mean ?? null;
  row.number = mean(SUMMARY_KEYS.expected) ?? row.number;
  row.succeeded = mean(SUMMARY_KEYS.succeed) ?? row.succeeded;
  row.failed = mean(SUMMARY_KEYS.failed) ?? row.failed;
  const ci: SweepRow["ci"] = {};
  for (const [key, metric] of Object.entries(SWEEP_CI_METRICS) as Array<[SweepCiKey, string]>) {
    const sp = m[metric];
    row[key] = sp ? sp.mean : null;
    if (sp && sp.ciLow !== null && sp.ciHigh !== null) ci[key] = [sp.ciLow, sp.ciHigh];
  }
  row.ci = ci;
  const slo = rr.results.map((r) => r.slo?.passed);
  row.sloPassed = slo.some((p) => p === undefined) ? null : slo.every((p) => p === true);
  row.interrupted = rr.interrupted;
  row.stoppedEarly = rr.results.find((r) => r.stoppedEarly)?.stoppedEarly ?? null;
  return row;
}
