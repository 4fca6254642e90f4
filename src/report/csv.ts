/**
 * CSV as RFC 4180 writes it: comma-separated, CRLF line ends, a header row, and a field quoted
 * (with its quotes doubled) when it holds a comma, a quote, CR or LF. Hand-written: it is these
 * few lines, and every spreadsheet and `pandas.read_csv` reads them.
 *
 * @module
 */

/** One CSV field: empty for null, numbers as JavaScript prints them (full precision). */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "";
  const s = typeof v === "boolean" ? (v ? "true" : "false") : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * A CSV document: the header row, then one row per record.
 *
 * @example
 * ```ts
 * csvText(["a", "b"], [[1, 'say "hi", ok']]); // 'a,b\r\n1,"say ""hi"", ok"\r\n'
 * ```
 */
export function csvText(header: readonly string[], rows: Iterable<readonly unknown[]>): string {
  const lines = [header.map(csvField).join(",")];
  for (const r of rows) lines.push(r.map(csvField).join(","));
  return lines.join("\r\n") + "\r\n";
}
