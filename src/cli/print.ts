/**
 * Printing a run's results to standard output: evalscope's two tables, then the per-request
 * summary and percentile table, where the time went (queueing, connection set-up, headers)
 * (with `--compat 2026`: evalscope 2026's tables instead, and `performance_summary.txt`;
 * `llmperf report` first says which DB layout it read), then the failure reasons when any
 * request failed, and last the
 * client's warning when it was saturated (its timings may be off by more than 1 ms).
 *
 * @module
 */
import type { PerfResult } from "../results/run.ts";
import type { DbReport } from "../report/from_db.ts";
import { gridTable } from "../report/grid_table.ts";
import { formatSpeedBenchmark } from "../report/speed_benchmark.ts";
import { formatSlo } from "../slo/format.ts";
import {
  formatEndpoints,
  formatInputTable,
  formatModernSummary,
  formatPercentiles,
  formatRequestPercentiles,
  formatServerSummary,
  formatSummary,
  formatTimeBreakdown,
} from "../report/tables.ts";

/** The whole printed report of a run. */
export function formatResult(r: PerfResult | DbReport): string {
  const compat = r.evalscope2026;
  const parts = compat
    ? [
      ...("layout" in r && r.layout ? [`Layout: ${r.layout}`] : []),
      compat.text,
      ...(compat.performanceSummary ? [compat.performanceSummary.trimEnd()] : []),
    ]
    : [
      ...("layout" in r && r.layout ? [`Layout: ${r.layout}`] : []),
      formatSummary(r.summary),
      formatPercentiles(r.percentiles),
      formatModernSummary(r.requestSummary),
      formatRequestPercentiles(r.requestPercentiles),
      formatTimeBreakdown(r.requestPercentiles),
    ];
  if (r.endpoints && !compat) parts.push(formatEndpoints(r.endpoints));
  const input = formatInputTable(r.summary, r.requestSummary, r.requestPercentiles);
  if (input !== undefined && !compat) parts.push(input);
  if ("serverSummary" in r && r.serverSummary) parts.push(formatServerSummary(r.serverSummary));
  if ("speedBenchmark" in r && r.speedBenchmark) {
    parts.push(formatSpeedBenchmark(r.speedBenchmark));
  }
  const kinds = Object.entries(r.failures);
  if (kinds.length > 0) {
    parts.push(
      "Failures:\n" + gridTable(["Reason", "Requests"], kinds.sort((a, b) => b[1] - a[1])),
    );
  }
  if ("slo" in r && r.slo) parts.push(formatSlo(r.slo));
  if ("client" in r && r.client?.warning) parts.push(`Warning: ${r.client.warning}`);
  if ("stoppedEarly" in r && r.stoppedEarly) parts.push(`Stopped early: ${r.stoppedEarly}`);
  return parts.join("\n\n") + "\n";
}

/** Print the report to standard output (dropped if nobody reads it: a terminal that hung up). */
export function printResult(r: PerfResult | DbReport): void {
  try {
    Deno.stdout.writeSync(new TextEncoder().encode("\n" + formatResult(r)));
  } catch { /* stdout is gone; the run's files hold the results */ }
}
