/**
 * Checking a run against its `--slo` goals: each goal's measured value and pass or fail, and
 * goodput (requests per second that succeeded and met every per-request condition). Goodput is
 * counted from finished requests as they arrive in batches ({@link GoodputCounter}, a pipeline
 * sink); the goals are checked once, from the run's tables.
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
import type { RequestMetrics } from "../metrics/request_metrics.ts";
import type { Measured, MetricsSink } from "../metrics/metrics_sink.ts";
import { compare, type SloGoal, thresholdSeconds } from "../config/slo_goals.ts";

/** One goal's outcome. */
export interface SloOutcome {
  /** The goal as written. */
  goal: string;
  /** The measured value in the goal's unit; null when there was no data (the goal fails). */
  value: number | null;
  /** The goal's unit (`ms`, `s`, `%`, or `""`). */
  unit: string;
  /** Whether the goal was met. */
  passed: boolean;
}

/** The whole SLO check of a run. */
export interface SloReport {
  /** True when every goal passed. */
  passed: boolean;
  /** Each goal, in the order given. */
  goals: SloOutcome[];
  /** Requests that succeeded and met every per-request condition. */
  goodRequests: number;
  /** `goodRequests` per second of the run; null for a run of no duration. */
  goodput: number | null;
}

/** The tables a check reads. */
export interface SloInputs {
  /** The per-request summary (means, throughputs, duration). */
  requestSummary: Summary;
  /** The per-request percentile rows. */
  requestPercentiles: PercentileRow[];
  /** Requests finished. */
  total: number;
  /** Requests that failed. */
  failed: number;
}

/** Summary key under which goodput is reported (`benchmark_summary.json`). */
export const GOODPUT_KEY = "Goodput (req/s)";

const COLUMN = {
  ttft: [REQUEST_COLUMNS.ttft, MODERN_KEYS.meanTtft, "ms"],
  tpot: [REQUEST_COLUMNS.tpot, MODERN_KEYS.meanTpot, "ms"],
  itl: [REQUEST_COLUMNS.itl, MODERN_KEYS.meanItl, "ms"],
  latency: [REQUEST_COLUMNS.latency, MODERN_KEYS.meanLatency, "s"],
} as const;

function numberOrNull(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** The measured value of a goal's metric, in the goal's unit (null when there is no data). */
export function measured(goal: SloGoal, r: SloInputs): number | null {
  switch (goal.metric) {
    case "error_rate": {
      if (r.total === 0) return null;
      const rate = r.failed / r.total;
      return goal.unit === "%" ? rate * 100 : rate;
    }
    case "request_throughput":
      return numberOrNull(r.requestSummary[MODERN_KEYS.requestThroughput]);
    case "output_throughput":
      return numberOrNull(r.requestSummary[MODERN_KEYS.outputThroughput]);
    default: {
      const [column, meanKey, base] = COLUMN[goal.metric];
      let v: number | null;
      if (goal.stat === "mean") {
        v = numberOrNull(r.requestSummary[meanKey]);
      } else {
        const row = r.requestPercentiles.find((p) => p["Percentile"] === `${goal.stat!.slice(1)}%`);
        v = numberOrNull(row?.[column]);
      }
      if (v === null) return null;
      const seconds = base === "ms" ? v / 1000 : v;
      return goal.unit === "ms" ? seconds * 1000 : seconds;
    }
  }
}

/** Check every goal against a run's tables. */
export function evaluateSlo(
  goals: readonly SloGoal[],
  r: SloInputs,
  goodRequests: number,
): SloReport {
  const outcomes = goals.map((g): SloOutcome => {
    const value = measured(g, r);
    return {
      goal: g.text,
      value,
      unit: g.unit,
      passed: value !== null && compare(value, g.op, g.threshold),
    };
  });
  const duration = numberOrNull(r.requestSummary[MODERN_KEYS.duration]);
  return {
    passed: outcomes.every((o) => o.passed),
    goals: outcomes,
    goodRequests,
    goodput: duration !== null && duration > 0 ? goodRequests / duration : null,
  };
}

/** A run's tables as a check reads them: evalscope's summary, and the per-request ones. */
export interface RunTables {
  /** evalscope's summary (total and failed requests). */
  summary: Summary;
  /** The per-request summary. */
  requestSummary: Summary;
  /** The per-request percentile rows. */
  requestPercentiles: PercentileRow[];
}

/**
 * Check a run's tables against its goals (`goodRequests`: a {@link GoodputCounter}'s count), and
 * the per-request summary with goodput in it: what a run (and a merge of shards) reports.
 */
export function checkRun(
  goals: readonly SloGoal[],
  t: RunTables,
  goodRequests: number,
): { slo: SloReport; requestSummary: Summary } {
  const slo = evaluateSlo(goals, {
    requestSummary: t.requestSummary,
    requestPercentiles: t.requestPercentiles,
    total: Number(t.summary[SUMMARY_KEYS.total] ?? 0),
    failed: Number(t.summary[SUMMARY_KEYS.failed] ?? 0),
  }, goodRequests);
  return { slo, requestSummary: { ...t.requestSummary, [GOODPUT_KEY]: slo.goodput } };
}

/** Whether one request succeeded and met every per-request condition (ttft, tpot, latency goals). */
export function meetsGoals(m: RequestMetrics, goals: readonly SloGoal[]): boolean {
  if (!m.success) return false;
  for (const g of goals) {
    let v: number | undefined;
    if (g.metric === "ttft") v = m.ttftS;
    else if (g.metric === "tpot") v = m.tpotS;
    else if (g.metric === "latency") v = m.latencyS;
    else continue;
    // A request of one output token has no TPOT: nothing to miss.
    if (v === undefined) continue;
    if (!compare(v, g.op, thresholdSeconds(g))) return false;
  }
  return true;
}

/** A pipeline sink counting the requests that meet every per-request condition. */
export class GoodputCounter implements MetricsSink {
  /** Requests that succeeded and met every per-request condition so far. */
  good = 0;
  #goals: readonly SloGoal[];

  /** @param goals the run's goals (only ttft, tpot and latency ones apply per request) */
  constructor(goals: readonly SloGoal[]) {
    this.#goals = goals;
  }

  /** Count a batch. */
  write(batch: readonly Measured[]): void {
    for (const f of batch) if (meetsGoals(f.metrics, this.#goals)) this.good++;
  }
}
