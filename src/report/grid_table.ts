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

/**
 * The rules of a grid: tabulate's `grid` (`+---+`, `+===+` under the header), or its
 * `simple_grid` (box-drawing lines, as evalscope's SLA summary).
 */
export type GridStyle = "grid" | "simple_grid";

const RULES = {
  grid: { top: "+-+-+", head: "+=+=+", mid: "+-+-+", bottom: "+-+-+", bar: "|" },
  simple_grid: { top: "┌─┬─┐", head: "├─┼─┤", mid: "├─┼─┤", bottom: "└─┴─┘", bar: "│" },
} as const;

/** Render `rows` under `headers` as a grid table. */
export function gridTable(headers: string[], rows: Cell[][], style: GridStyle = "grid"): string {
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
  const g = RULES[style];
  const rule = (r: string) => r[0] + widths.map((w) => r[1].repeat(w + 2)).join(r[2]) + r[4];
  const bar = g.bar;
  const line = (cells: string[]) =>
    `${bar} ` + cells.map((s, c) => pad(s, c)).join(` ${bar} `) + ` ${bar}`;
  const out = [rule(g.top), line(headers)];
  for (let r = 0; r < rows.length; r++) {
    out.push(rule(r === 0 ? g.head : g.mid));
    out.push(line(cols.map((col) => col[r])));
  }
  out.push(rule(g.bottom));
  return out.join("\n");
}
