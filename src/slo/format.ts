/**
 * The printed SLO check: one row per goal (measured value, pass or FAIL), then goodput and the
 * verdict.
 *
 * @module
 */
import { type Cell, gridTable } from "../report/grid_table.ts";
import type { SloReport } from "./evaluate.ts";

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** "SLO results:" with its grid, goodput and the verdict line. */
export function formatSlo(slo: SloReport): string {
  const rows: Cell[][] = slo.goals.map((g) => [
    g.goal,
    g.value === null ? "n/a" : `${round(g.value)}${g.unit}`,
    g.passed ? "pass" : "FAIL",
  ]);
  const failed = slo.goals.filter((g) => !g.passed).length;
  const goodput = slo.goodput === null ? "n/a" : `${round(slo.goodput)} req/s`;
  return "SLO results:\n" + gridTable(["Goal", "Measured", "Result"], rows) + "\n" +
    `Goodput: ${goodput} (${slo.goodRequests} requests met every per-request goal)\n` +
    (slo.passed
      ? `SLO: PASS (${slo.goals.length} goals met)`
      : `SLO: FAIL (${failed} of ${slo.goals.length} goals failed)`);
}
