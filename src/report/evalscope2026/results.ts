/**
 * `--compat 2026`: one run's results as evalscope 2026 computes and prints them, from the
 * samples of its rows (the run's, or any result DB's for `llmperf report --compat 2026`).
 *
 * @module
 */
import {
  type PercentileRow2026,
  percentiles2026,
  type Sample,
  type Summary2026,
  summary2026,
} from "./metrics.ts";
import { formatPercentiles2026, formatSummary2026 } from "./tables.ts";

/** What `--compat 2026` computed and printed for one run. */
export interface Evalscope2026Result {
  /** `benchmark_summary.json`. */
  summary: Summary2026;
  /** `benchmark_percentile.json`. */
  percentiles: PercentileRow2026[];
  /** The printed tables: `Benchmarking summary:` and `Percentile results:`. */
  text: string;
  /** `performance_summary.txt`, for a run on its own (a sweep writes its own). */
  performanceSummary?: string;
}

/** The 2026 results of samples: summary, percentiles and their printed tables. */
export function results2026(
  samples: readonly Sample[],
  ctx: { parallel: number; rate: number },
): Evalscope2026Result {
  const summary = summary2026(samples, ctx);
  const percentiles = percentiles2026(samples);
  return {
    summary,
    percentiles,
    text: formatSummary2026(summary) + "\n\n" + formatPercentiles2026(percentiles),
  };
}
