/**
 * `--compat 2026`: the run's `benchmark_data.db` in evalscope's 2026 layout
 * (`EVALSCOPE_2026_COLUMNS` in `store/schema.ts`), written from the run's own DB once the run has
 * ended, off the request path: every row read back, its timings by evalscope 2026's own
 * per-request definitions applied to the recorded payloads and their arrival times, its body
 * unpickled and written as JSON text the way Python's `json.dumps(ensure_ascii=False)` writes it,
 * its payloads reduced to the parsed choices-bearing chunks and pickled, rows in completion order.
 * It also answers the {@link Sample}s of those rows, which the summary and percentiles are
 * computed from (evalscope computes its percentiles from the DB's rows too).
 *
 * @module
 */
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { RunError } from "../../errors.ts";
import {
  createTable,
  type Evalscope2026Row,
  EVALSCOPE_2026_COLUMNS,
  insertInto,
} from "../../store/schema.ts";
import { rowMetrics } from "../from_db.ts";
import type { Sample } from "./metrics.ts";
import { row2026, sampleOfRow2026 } from "./row.ts";

/**
 * Write evalscope 2026's `benchmark_data.db` at `outPath` from our result DB at `ourPath`;
 * resolves to the samples of its rows, in its (completion) order. Throws a {@link RunError}
 * naming the file when it cannot be written.
 */
export async function writeDb2026(ourPath: string, outPath: string): Promise<Sample[]> {
  const rows: Array<{ row: Evalscope2026Row; order: number }> = [];
  // Read-write: a journal a killed writer left is rolled back, and a DB of an older llmperf (WAL
  // mode) leaves no -wal / -shm files beside it once closed.
  const ours = new DatabaseSync(ourPath);
  try {
    let n = 0;
    const all = ours.prepare("SELECT * FROM result ORDER BY rowid").iterate();
    for (const r of all as Iterable<Record<string, unknown>>) {
      const m = await rowMetrics(r, n);
      rows.push({ row: row2026(r, m, n), order: m.completedEpochS });
      n++;
    }
  } finally {
    ours.close();
  }
  // Completion order, as evalscope's consumer inserts them (a failure: when it failed).
  rows.sort((a, b) => a.order - b.order);
  try {
    const db = new DatabaseSync(outPath);
    try {
      db.exec(createTable("result", EVALSCOPE_2026_COLUMNS));
      const insert = db.prepare(insertInto("result", EVALSCOPE_2026_COLUMNS));
      db.exec("BEGIN");
      for (const { row } of rows) {
        const bound: Record<string, SQLInputValue> = {};
        for (const [k, v] of Object.entries(row)) bound[k] = v;
        insert.run(bound);
      }
      db.exec("COMMIT");
    } finally {
      db.close();
    }
  } catch (e) {
    await Deno.remove(outPath).catch(() => {});
    throw new RunError(`cannot write '${outPath}': ${(e as Error).message}`);
  }
  // The samples as evalscope's readers get them: from the rows.
  return rows.map(({ row }) => sampleOfRow2026(row));
}
