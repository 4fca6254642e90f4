/**
 * The printed table of a repeated point: per metric the mean, standard deviation, 95%
 * confidence interval (Student t) and coefficient of variation across the runs.
 *
 * @module
 */
import { REPEAT_TABLE_METRICS, type RepeatSummary } from "../results/repeat.ts";
import { type Cell, gridTable } from "./grid_table.ts";

function round(v: number | null, digits = 3): Cell {
  if (v === null) return "n/a";
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** "Repeats:" and its grid (the metrics of {@link REPEAT_TABLE_METRICS} that the runs have). */
export function formatRepeatTable(s: RepeatSummary): string {
  const rows: Cell[][] = [];
  for (const k of REPEAT_TABLE_METRICS) {
    const m = s.metrics[k];
    if (!m) continue;
    rows.push([
      k,
      round(m.mean),
      round(m.stdev),
      m.ciLow === null ? "n/a" : `${round(m.ciLow)} .. ${round(m.ciHigh)}`,
      m.cv === null ? "n/a" : `${round(m.cv * 100, 2)}%`,
    ]);
  }
  return `Repeats: ${s.repeats} runs of the same point (95% confidence interval of the mean, ` +
    `Student t with ${Math.max(0, s.repeats - 1)} degrees of freedom):\n` +
    gridTable(["Metric", "Mean", "Std dev", "95% CI", "CV"], rows);
}
