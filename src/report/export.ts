/**
 * `llmperf export`'s files from a result DB: the per-request table (`export_table.ts`) as CSV or
 * Parquet, and the run's summary (the tables `llmperf report` recomputes, the server's side
 * included) as a one-row CSV, for spreadsheets and pandas (`pd.read_csv`, `pd.read_parquet`).
 * Parquet is written by `hyparquet-writer` (pure JavaScript, no native code).
 *
 * @module
 */
import type { ApiPluginLike } from "../plugins/types.ts";
import { csvText } from "./csv.ts";
import { EXPORT_COLUMNS, exportRow } from "./export_table.ts";
import { type DbReport, reportFromDb } from "./from_db.ts";

/** A run read for export. */
export interface ExportData {
  /** The per-request rows, in {@link EXPORT_COLUMNS} order. */
  rows: Array<Array<number | string | boolean | null>>;
  /** The recomputed report (its summaries). */
  report: DbReport;
}

/** Read a result DB for export (`api` as for `llmperf report`). */
export async function readForExport(dbPath: string, api?: ApiPluginLike): Promise<ExportData> {
  const rows: ExportData["rows"] = [];
  const report = await reportFromDb(dbPath, api, [{
    write: (batch) => {
      for (const { metrics } of batch) rows.push(exportRow(metrics));
    },
  }]);
  return { rows, report };
}

/** The per-request rows as CSV (RFC 4180, a header row). */
export function requestsCsv(data: ExportData): string {
  return csvText(EXPORT_COLUMNS.map((c) => c.name), data.rows);
}

/** The summary as CSV: a header row of metric names and one row of values. */
export function summaryCsv(data: ExportData, run: string): string {
  const { summary, requestSummary, serverSummary } = data.report;
  const all: Record<string, unknown> = { run, ...summary, ...requestSummary, ...serverSummary };
  return csvText(Object.keys(all), [Object.values(all)]);
}

/** The per-request rows as a Parquet file (nullable columns; whole numbers as INT64). */
export async function requestsParquet(data: ExportData): Promise<Uint8Array> {
  // Imported here: only `export --format parquet` needs the writer.
  const { parquetWriteBuffer } = await import("hyparquet-writer");
  const columnData = EXPORT_COLUMNS.map((c, i) => ({
    name: c.name,
    type: c.type,
    nullable: true,
    data: data.rows.map((r) => {
      const v = r[i];
      return c.type === "INT64" && typeof v === "number" ? BigInt(Math.round(v)) : v;
    }),
  }));
  return new Uint8Array(parquetWriteBuffer({ columnData }));
}
