/**
 * `--compat 2026`: the tables evalscope prints today (`../shared/reference/evalscope-perf-2026.md`
 * §4 "Printed output"): per run `Benchmarking summary:` (sections of `Metric | Value`,
 * `utils/perf_models.py:119-221`) and `Percentile results:` (metrics as rows, `min … max` as
 * columns), drawn as tabulate's `simple_outline`; after the run, `performance_summary.txt`
 * (`utils/rich_display.py:284-690`: the report panel, Basic Information, Performance Overview,
 * Per-Request Metrics), cells formatted as `evalscope/metrics/semantics/formatting.py` does.
 *
 * @module
 */
import type { PercentileRow2026, Summary2026 } from "./metrics.ts";

/** A box table in tabulate's `simple_outline` style: text left, numbers right. */
export function outlineTable(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === "number" ? pyStr(c) : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const right = headers.map((_, i) =>
    rows.length > 0 && rows.every((r) => typeof r[i] !== "string" || r[i] === "")
  );
  const line = (l: string, m: string, r: string) =>
    l + widths.map((w) => "─".repeat(w + 2)).join(m) + r;
  const row = (r: string[]) =>
    "│" +
    r.map((c, i) => ` ${right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])} `).join("│") +
    "│";
  return [
    line("┌", "┬", "┐"),
    row(headers),
    line("├", "┼", "┤"),
    ...cells.map(row),
    line("└", "┴", "┘"),
  ].join("\n");
}

/** A number as Python's `str` writes it (`1.0`, `nan`). */
export function pyStr(v: number): string {
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  return Number.isInteger(v) && Math.abs(v) < 1e16 ? `${v}.0` : String(v);
}

/** The sections of `Benchmarking summary:` and their rows (`only` rows: when non-zero). */
const SECTIONS: ReadonlyArray<[string, ReadonlyArray<[keyof Summary2026, "always" | "nonzero"]>]> =
  [
    ["── General ──", [
      ["Test Duration (s)", "always"],
      ["Concurrency", "always"],
      ["Request Rate (req/s)", "always"],
    ]],
    ["── Latency ──", [
      ["Avg Latency (s)", "always"],
      ["Avg TTFT (ms)", "nonzero"],
      ["Avg TPOT (ms)", "nonzero"],
      ["Avg ITL (ms)", "nonzero"],
    ]],
    ["── Tokens ──", [
      ["Avg Input Tokens", "always"],
      ["Avg Output Tokens", "nonzero"],
      ["Output Throughput (tok/s)", "nonzero"],
      ["Total Throughput (tok/s)", "nonzero"],
      ["Input Throughput (tok/s)", "nonzero"],
    ]],
  ];

/** `Benchmarking summary:` of one run. */
export function formatSummary2026(s: Summary2026): string {
  const rows: Array<Array<string | number>> = [];
  for (const [title, keys] of SECTIONS) {
    rows.push([title, ""]);
    for (const [k, when] of keys) {
      if (when === "nonzero" && s[k] === 0) continue;
      rows.push([k, s[k]]);
      if (k === "Request Rate (req/s)") {
        rows.push([
          "Total / Success / Failed",
          `${s["Total Requests"]} / ${s["Success Requests"]} / ${s["Failed Requests"]}`,
        ]);
        const stream = s["Stream Requests"];
        const non = s["Non-Stream Requests"];
        if (stream > 0 && non > 0) rows.push(["Stream / Non-Stream", `${stream} / ${non}`]);
        rows.push(["Req Throughput (req/s)", s["Req Throughput (req/s)"]]);
      }
    }
  }
  return "Benchmarking summary:\n" +
    outlineTable(["Metric", "Value"], rows.map((r) => r.map(String)));
}

/** `Percentile results:` of one run: metrics as rows, `min … max` as columns. */
export function formatPercentiles2026(rows: PercentileRow2026[]): string {
  const labels = rows.map((r) => String(r["Percentiles"]));
  const metrics = rows.length > 0 ? Object.keys(rows[0]).filter((k) => k !== "Percentiles") : [];
  const body = metrics.map((m) => [m, ...rows.map((r) => r[m] as number)]);
  return "Percentile results:\n" + outlineTable(["Metric", ...labels], body);
}

/**
 * A cell as evalscope's formatter writes it: rounded half-up on the shortest decimal form to
 * `precision` places, trailing zeros stripped, `0` for zero, `—` for NaN or none.
 */
export function formatCell(v: number | null | undefined, precision: number): string {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  if (v === 0) return "0";
  const [int, frac = ""] = String(Math.abs(v)).split(".");
  if (String(v).includes("e")) return String(Number(v.toFixed(precision)));
  let digits = BigInt(int + frac.padEnd(precision + 1, "0").slice(0, precision + 1));
  digits = (digits + 5n) / 10n; // half-up on the shortest decimal form
  const s = digits.toString().padStart(precision + 1, "0");
  const whole = s.slice(0, s.length - precision) || "0";
  const part = s.slice(s.length - precision).replace(/0+$/, "");
  const text = part ? `${whole}.${part}` : whole;
  const grouped = text.replace(/^\d+/, (w) => Number(w).toLocaleString("en-US"));
  return (v < 0 ? "-" : "") + grouped;
}

const FIXED_1 = { minimumFractionDigits: 1, maximumFractionDigits: 1 };

/** One run in `performance_summary.txt`. */
export interface SummaryPoint {
  /** `benchmark_summary.json`. */
  summary: Summary2026;
  /** `benchmark_percentile.json`. */
  percentiles: PercentileRow2026[];
}

/** What the report panel says about the runs. */
export interface SummaryInfo {
  /** The model. */
  model: string;
  /** `--dataset`. */
  dataset: string;
  /** `--api`. */
  api: string;
  /** The output folder. */
  outputPath: string;
}

function pct(rows: PercentileRow2026[], label: string, key: string): number | undefined {
  const v = rows.find((r) => r["Percentiles"] === label)?.[key];
  return typeof v === "number" ? v : undefined;
}

/** A percentile cell: exactly 0 prints `-`. */
function pctCell(v: number | undefined, precision: number): string {
  return v === 0 ? "-" : formatCell(v, precision);
}

/** `performance_summary.txt` (also printed) after all runs, rows by concurrency then rate. */
export function formatPerformanceSummary(info: SummaryInfo, points: SummaryPoint[]): string {
  const sorted = [...points].sort((a, b) => {
    const key = (x: number) => (x === -1 ? Infinity : x);
    return key(a.summary.Concurrency) - key(b.summary.Concurrency) ||
      key(a.summary["Request Rate (req/s)"]) - key(b.summary["Request Rate (req/s)"]);
  });
  const generated = points.reduce(
    (n, p) => n + p.summary["Avg Output Tokens"] * p.summary["Success Requests"],
    0,
  );
  const time = points.reduce((n, p) => n + p.summary["Test Duration (s)"], 0);
  const conc = (s: Summary2026) => (s.Concurrency === -1 ? "-" : String(s.Concurrency));
  const rate = (s: Summary2026) =>
    s["Request Rate (req/s)"] === -1 ? "-" : formatCell(s["Request Rate (req/s)"], 2);
  const title = "Performance Test Summary Report";
  const basic = outlineTable(["Basic Information", ""], [
    ["Model", info.model],
    ["Test Dataset", info.dataset],
    ["API Type", info.api],
    ["Total Generated", `${generated.toLocaleString("en-US", FIXED_1)} tokens`],
    ["Avg Output Rate", `${formatCell(time > 0 ? generated / time : NaN, 2)} tokens/sec`],
    ["Total Test Time", `${formatCell(time, 2)} seconds`],
    ["Output Path", info.outputPath],
  ]);
  const overview = outlineTable(
    ["Conc.", "Rate", "Num", "RPS", "Gen/s", "Success"],
    sorted.map(({ summary: s }) => [
      conc(s),
      rate(s),
      String(s["Total Requests"]),
      formatCell(s["Req Throughput (req/s)"], 2),
      formatCell(s["Output Throughput (tok/s)"], 2),
      `${
        formatCell(s["Total Requests"] ? 100 * s["Success Requests"] / s["Total Requests"] : NaN, 1)
      }%`,
    ]),
  );
  const metrics: Array<[string, keyof Summary2026, string, number]> = [
    ["Latency (s)", "Avg Latency (s)", "Latency (s)", 3],
    ["TTFT (ms)", "Avg TTFT (ms)", "TTFT (ms)", 2],
    ["TPOT (ms)", "Avg TPOT (ms)", "TPOT (ms)", 2],
    ["Input Tokens", "Avg Input Tokens", "Input tokens", 1],
    ["Output Tokens", "Avg Output Tokens", "Output tokens", 1],
  ];
  const perRequest = outlineTable(
    ["Conc.", "Rate", "Metric", "avg", "p50", "p99", "max"],
    sorted.flatMap(({ summary: s, percentiles: p }) => {
      const rows = metrics.map(([name, avg, col, prec]) => [
        conc(s),
        rate(s),
        name,
        formatCell(s[avg], prec),
        pctCell(pct(p, "50%", col), prec),
        pctCell(pct(p, "99%", col), prec),
        pctCell(pct(p, "max", col), prec),
      ]);
      const tpot = s["Avg TPOT (ms)"];
      if (tpot > 0) {
        rows.push([conc(s), rate(s), "Decode toks/s", formatCell(1000 / tpot, 2), "", "", ""]);
      }
      return rows;
    }),
  );
  return [
    title,
    "",
    basic,
    "",
    "Performance Overview",
    overview,
    "",
    "Per-Request Metrics",
    perRequest,
  ].join("\n") + "\n";
}
