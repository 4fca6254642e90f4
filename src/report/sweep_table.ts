/**
 * The printed comparison of a sweep's points: throughput, TTFT/TPOT/latency p50 and p99, errors,
 * and goodput and the SLO verdict when `--slo` was given.
 *
 * @module
 */
import type { SweepRow } from "../results/sweep.ts";
import { type Cell, gridTable } from "./grid_table.ts";

function r3(v: number | null): Cell {
  return v === null ? null : Math.round(v * 1000) / 1000;
}

/** "Sweep comparison:" and its grid. */
export function formatSweepTable(rows: SweepRow[]): string {
  const slo = rows.some((r) => r.sloPassed !== null);
  const headers = [
    "Parallel",
    "Number",
    "Rate",
    "Req/s",
    "Output tok/s",
    "TTFT p50 (ms)",
    "TTFT p99 (ms)",
    "TPOT p50 (ms)",
    "TPOT p99 (ms)",
    "Latency p50 (s)",
    "Latency p99 (s)",
    "Errors",
    ...(slo ? ["Goodput (req/s)", "SLO"] : []),
  ];
  const body: Cell[][] = rows.map((r) => [
    r.parallel,
    r.number,
    r.rate === -1 ? "max" : r.rate,
    r3(r.requestThroughput),
    r3(r.outputThroughput),
    r3(r.ttftP50),
    r3(r.ttftP99),
    r3(r.tpotP50),
    r3(r.tpotP99),
    r3(r.latencyP50),
    r3(r.latencyP99),
    r.failed,
    ...(slo ? [r3(r.goodput), r.sloPassed ? "pass" : "FAIL"] : []),
  ]);
  return "Sweep comparison:\n" + gridTable(headers, body);
}
