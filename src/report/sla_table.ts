/**
 * The `SLA Auto-tune Summary` table of an SLA auto-tune, as evalscope logs it: columns
 * `Criteria | Variable | Max Satisfied | Note` in tabulate's `simple_grid` layout.
 *
 * @module
 */
import type { SlaRow } from "../results/sla.ts";
import { gridTable } from "./grid_table.ts";

/** The table, under its title line. */
export function formatSlaTable(rows: readonly SlaRow[]): string {
  const headers = ["Criteria", "Variable", "Max Satisfied", "Note"];
  const cells = rows.map((r) => [r.Criteria, r.Variable, r["Max Satisfied"], r.Note]);
  return `SLA Auto-tune Summary:\n${gridTable(headers, cells, "simple_grid")}`;
}
