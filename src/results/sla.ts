/**
 * What SLA auto-tuning (`--sla-auto-tune`) works with and produces, as today's `evalscope perf`
 * defines it (`sla/sla_run.py`): the metric values a criterion reads, the average of a value's runs, the pass test, and the rows of the
 * summary table. Plain types and pure functions, below the search that uses them
 * (`src/run/sla_tune.ts`).
 *
 * The `--sla-params` grammar is `src/config/sla_params.ts`; each key names one of
 * {@link SLA_METRICS} (ttft and tpot in ms, latency in s, as in `benchmark_summary.json`).
 * `--slo` goals (`src/config/slo_goals.ts`) can be the criteria too: all of them are one group.
 *
 * @module
 */
import {
  MODERN_KEYS,
  type PercentileRow,
  REQUEST_COLUMNS,
  type Summary,
  SUMMARY_KEYS,
} from "../metrics/collector.ts";
import { compare } from "../config/slo_goals.ts";
import type { SlaCriterion, SlaGroup } from "../config/sla_params.ts";
import { measured } from "../slo/evaluate.ts";
import type { PerfResult } from "./run.ts";

/** What the search varies: `--parallel` (closed loop) or `--rate` (at `--sla-fixed-parallel`). */
export type SlaVariable = "parallel" | "rate";

/** Where each `--sla-params` metric is read: a summary key, or a percentile row and column. */
export const SLA_METRICS = {
  avg_latency: { key: MODERN_KEYS.meanLatency },
  avg_ttft: { key: MODERN_KEYS.meanTtft },
  avg_tpot: { key: MODERN_KEYS.meanTpot },
  rps: { key: MODERN_KEYS.requestThroughput },
  tps: { key: MODERN_KEYS.outputThroughput },
  p99_latency: { percentile: "99%", column: REQUEST_COLUMNS.latency },
  p99_ttft: { percentile: "99%", column: REQUEST_COLUMNS.ttft },
  p90_ttft: { percentile: "90%", column: REQUEST_COLUMNS.ttft },
  p50_ttft: { percentile: "50%", column: REQUEST_COLUMNS.ttft },
  p99_tpot: { percentile: "99%", column: REQUEST_COLUMNS.tpot },
  p90_tpot: { percentile: "90%", column: REQUEST_COLUMNS.tpot },
  p50_tpot: { percentile: "50%", column: REQUEST_COLUMNS.tpot },
} as const;

/** A metric `--sla-params` can name. */
export type SlaMetric = keyof typeof SLA_METRICS;

/** One value's runs, averaged: the tables the criteria read. */
export interface SlaAverage {
  /** evalscope's summary, each number the mean over the runs. */
  summary: Summary;
  /** The per-request summary, averaged. */
  requestSummary: Summary;
  /** The percentile rows, averaged cell by cell. */
  requestPercentiles: PercentileRow[];
  /** Runs averaged. */
  runs: number;
}

type Tables = Pick<PerfResult, "summary" | "requestSummary" | "requestPercentiles">;

function averageSummaries(all: Summary[]): Summary {
  const out: Summary = { ...all[0] };
  for (const [k, v] of Object.entries(out)) {
    if (typeof v !== "number") continue;
    const nums = all.map((s) => s[k]).filter((x): x is number => typeof x === "number");
    out[k] = nums.reduce((a, b) => a + b, 0) / nums.length;
  }
  return out;
}

/**
 * The average of a value's runs (at least one): metric by metric, and percentile cells element
 * by element (as evalscope's `average_results`); text (and missing) cells come from the first.
 */
export function averageRuns(results: readonly Tables[]): SlaAverage {
  const rows = results[0].requestPercentiles.map((row, i) =>
    averageSummaries(
      results.map((r) => r.requestPercentiles[i] ?? {}).filter((r) =>
        r["Percentile"] === row["Percentile"]
      ),
    ) as PercentileRow
  );
  return {
    summary: averageSummaries(results.map((r) => r.summary)),
    requestSummary: averageSummaries(results.map((r) => r.requestSummary)),
    requestPercentiles: rows,
    runs: results.length,
  };
}

function finite(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** A metric's value in an average (undefined: unknown metric, or no data). */
export function slaMetricValue(metric: string, a: SlaAverage): number | undefined {
  const where = (SLA_METRICS as Record<string, (typeof SLA_METRICS)[SlaMetric]>)[metric];
  if (!where) return undefined;
  if ("key" in where) return finite(a.requestSummary[where.key]);
  const row = a.requestPercentiles.find((r) => r["Percentile"] === where.percentile);
  return finite(row?.[where.column]);
}

/**
 * The success rate of an average, in %: `round(succeeded / total × 100, 1)` from the rounded
 * mean counts, as evalscope computes it (0 when nothing was sent).
 */
export function successRate(a: SlaAverage): number {
  const total = Math.round(Number(a.summary[SUMMARY_KEYS.total] ?? 0));
  const ok = Math.round(Number(a.summary[SUMMARY_KEYS.succeed] ?? 0));
  return total > 0 ? Math.round((ok / total) * 1000) / 10 : 0;
}

/** One criterion's check at one value: what `SLA Rule k Check: ...` logs. */
export interface SlaCheck {
  /** The metric (or the `--slo` goal's metric and statistic). */
  metric: string;
  /** The condition: `<= 500`, `max`, or the `--slo` goal. */
  expect: string;
  /** The measured value (undefined: not found). */
  value: number | undefined;
  /** Whether it held. */
  passed: boolean;
}

/** Check one criterion against an average. */
export function checkCriterion(c: SlaCriterion, a: SlaAverage): SlaCheck {
  if (c.kind === "slo") {
    const value = measured(c.goal, {
      requestSummary: a.requestSummary,
      requestPercentiles: a.requestPercentiles,
      total: Number(a.summary[SUMMARY_KEYS.total] ?? 0),
      failed: Number(a.summary[SUMMARY_KEYS.failed] ?? 0),
    }) ?? undefined;
    const passed = value !== undefined && compare(value, c.goal.op, c.goal.threshold);
    const metric = c.goal.stat ? `${c.goal.metric}_${c.goal.stat}` : c.goal.metric;
    return { metric, expect: c.goal.text, value, passed };
  }
  const expect = c.kind === "optimise" ? c.goal : `${c.op} ${c.threshold}`;
  const value = slaMetricValue(c.metric, a);
  if (value === undefined) return { metric: c.metric, expect, value, passed: false };
  const passed = c.kind === "optimise" || compare(value, c.op, c.threshold);
  return { metric: c.metric, expect, value, passed };
}

/** A row of the `SLA Auto-tune Summary` table. */
export interface SlaRow {
  /** The group (`p99_ttft <=500`), or `<metric> -> max|min` in optimisation mode. */
  Criteria: string;
  /** `parallel` or `rate`. */
  Variable: SlaVariable;
  /** The largest passing value (optimisation: the best), or `"None"`. */
  "Max Satisfied": number | "None";
  /** `Satisfied`, `Failed at lower bound (lb)`, or `Best <m>: x.xxxx`. */
  Note: string;
}

/** The `--sla-params` of optimisation mode: one group of one `max` or `min` criterion. */
export function optimisation(
  groups: readonly SlaGroup[],
): { metric: string; goal: "max" | "min" } | undefined {
  if (groups.length !== 1 || groups[0].criteria.length !== 1) return undefined;
  const c = groups[0].criteria[0];
  return c.kind === "optimise" ? { metric: c.metric, goal: c.goal } : undefined;
}

/** Whether `next` beats `best` for a `max` / `min` goal (strictly). */
export function improves(goal: "max" | "min", next: number, best: number): boolean {
  return goal === "max" ? next > best : next < best;
}

/**
 * An average as `sla_summary.json` holds it: `metrics` (both summaries, numbers averaged) and
 * `percentiles` as columns (`{"Percentile": ["10%", ...], "TTFT (ms)": [...]}`).
 */
export function slaSummaryEntry(a: SlaAverage): {
  metrics: Summary;
  percentiles: Record<string, unknown[]>;
} {
  const percentiles: Record<string, unknown[]> = {};
  for (const row of a.requestPercentiles) {
    for (const [k, v] of Object.entries(row)) (percentiles[k] ??= []).push(v);
  }
  const metrics: Summary = { ...a.summary, ...a.requestSummary };
  delete metrics[SUMMARY_KEYS.dbPath];
  return { metrics, percentiles };
}

/** What an SLA auto-tune returns. */
export interface SlaResult {
  /** The tuning folder (`sla_summary.json`; each run under `sla_tuning/`). */
  outputDir: string;
  /** The summary table (empty when interrupted before a row was complete). */
  rows: SlaRow[];
  /** The values evaluated, in the order tried. */
  tried: number[];
  /** Each evaluated value's average, by `"<var>_<v>"` (`sla_summary.json`). */
  evaluated: Record<string, SlaAverage>;
  /** Whether it was interrupted (the search stopped). */
  interrupted: boolean;
  /** Outputs that could not be written. */
  errors: string[];
}
