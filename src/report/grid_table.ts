/**
 * Text tables in the layout of Python tabulate's `grid` format, which evalscope prints: `+---+`
 * borders around every row and `+===+` under the header. Numeric columns are aligned on the
 * decimal point, text columns to the left, as tabulate does by default. Hand-written because the
 * npm table libraries cannot draw a different rule under the header, and it is short.
 *
 * @module
 */

/** A cell: numbers are aligned on the decimal point, text to the left, null prints empty. */
export type Cell = string | number | null;

function isNumeric(column: Cell[]): boolean {
  return column.every((c) => c === null || typeof c === "number");
}

function decimalAlign(cells: string[]): string[] {
  const intPart = (s: string) => (s.includes(".") ? s.indexOf(".") : s.length);
  const fracPart = (s: string) => s.length - intPart(s);
  const wi = Math.max(...cells.map(intPart));
  const wf = Math.max(...cells.map(fracPart));
  return cells.map((
    s,
  ) => (s === "" ? "" : " ".repeat(wi - intPart(s)) + s + " ".repeat(wf - fracPart(s))));
}

/** Render `rows` under `headers` as a grid table. */
export function gridTable(headers: string[], rows: Cell[][]): string {
  const ncol = headers.length;
  const cols: string[][] = [];
  const align: Array<"left" | "right"> = [];
  for (let c = 0; c < ncol; c++) {
    const column = rows.map((r) => r[c] ?? null);
    let text = column.map((v) => (v === null ? "" : String(v)));
    if (rows.length > 0 && isNumeric(column)) {
      text = decimalAlign(text);
      align.push("right");
    } else {
      align.push("left");
    }
    cols.push(text);
  }
  // tabulate's MIN_PADDING: a column is at least its header plus two wide.
  const widths = headers.map((h, c) => Math.max(h.length + 2, ...cols[c].map((s) => s.length)));
  const pad = (s: string, c: number) =>
    align[c] === "right" ? s.padStart(widths[c]) : s.padEnd(widths[c]);
  const rule = (ch: string) => "+" + widths.map((w) => ch.repeat(w + 2)).join("+") + "+";
  const line = (cells: string[]) => "| " + cells.map((s, c) => pad(s, c)).join(" | ") + " |";
  const out = [rule("-"), line(headers), rule("=")];
  for (let r = 0; r < rows.length; r++) {
    out.push(line(cols.map((col) => col[r])));
    out.push(rule("-"));
  }
  if (rows.length === 0) out[2] = rule("-");
  return out.join("\n");
}
