/**
 * `--json`: a run's (or a sweep's) summary as one JSON document on stdout, for piping into `jq`
 * or a CI step. Logs stay on stderr, and no table is printed.
 *
 * @module
 */
import type { PerfResult } from "../results/run.ts";
import type { SweepResult } from "../results/sweep.ts";
import type { RepeatResult } from "../results/repeat.ts";
import type { SlaResult } from "../results/sla.ts";

/** A run's summary as plain JSON data. */
export function runJson(r: PerfResult): Record<string, unknown> {
  return {
    outputDir: r.outputDir,
    interrupted: r.interrupted,
    summary: r.summary,
    percentiles: r.percentiles,
    requestSummary: r.requestSummary,
    requestPercentiles: r.requestPercentiles,
    failures: r.failures,
    ...(r.serverSummary ? { serverSummary: r.serverSummary } : {}),
    ...(r.stoppedEarly ? { stoppedEarly: r.stoppedEarly } : {}),
    ...(r.slo ? { slo: r.slo } : {}),
    ...(r.speedBenchmark ? { speedBenchmark: r.speedBenchmark } : {}),
    ...(r.endpoints ? { endpoints: r.endpoints } : {}),
  };
}

/** A sweep's comparison as plain JSON data. */
export function sweepJson(s: SweepResult): Record<string, unknown> {
  return { outputDir: s.outputDir, interrupted: s.interrupted, points: s.rows };
}

/** A repeated point's spread per metric as plain JSON data (`repeat_summary.json`'s content). */
export function repeatJson(r: RepeatResult): Record<string, unknown> {
  return { outputDir: r.outputDir, interrupted: r.interrupted, ...r.summary };
}

/** An SLA auto-tune as plain JSON data: its table rows and the values tried, in order. */
export function slaJson(r: SlaResult): Record<string, unknown> {
  return { outputDir: r.outputDir, interrupted: r.interrupted, rows: r.rows, tried: r.tried };
}

/** Write `value` as JSON and a newline on standard output (dropped if nobody reads it). */
export function printJson(value: unknown): void {
  try {
    Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(value, null, 2) + "\n"));
  } catch { /* stdout is gone; the run's files hold the results */ }
}
