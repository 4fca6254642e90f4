/**
 * The `speed_benchmark` dataset's own result, as evalscope prints it after the usual tables:
 * "Speed Benchmark Results:", one row per prompt length (the prompt tokens the server reported),
 * the mean over successful requests of `completion_tokens / latency`, rounded to 2 decimals, and
 * the GPU memory column evalscope fills for local models (always 0 here: llmperf benchmarks remote
 * servers). The table is Python tabulate's `pretty` format, which evalscope uses for it; the rows
 * are also written to `speed_benchmark.json` in the run folder.
 *
 * @module
 */
import type { Measured, MetricsSink } from "../metrics/metrics_sink.ts";

/** One row of the speed table, keyed as evalscope's `speed_benchmark.json` is. */
export interface SpeedRow {
  /** Prompt tokens, as the server reported them. */
  "Prompt Tokens": number;
  /** Mean of completion tokens / latency over the successful requests with that prompt length. */
  "Speed(tokens/s)": number;
  /** GPU memory of a local model; 0 for a remote server. */
  "GPU Memory(GB)": number;
}

const HEADERS = ["Prompt Tokens", "Speed(tokens/s)", "GPU Memory(GB)"] as const;

/** Whether a dataset name asks for the speed table (`speed_benchmark`, `speed_benchmark_long`). */
export function isSpeedBenchmark(dataset: string): boolean {
  return dataset.startsWith("speed_benchmark");
}

/** Collects per-prompt-length speeds from finished requests. */
export class SpeedBenchmarkSink implements MetricsSink {
  #groups = new Map<number, { sum: number; n: number }>();

  /** Take a batch: successful requests with a positive latency count. */
  write(batch: readonly Measured[]): void {
    for (const { metrics: m } of batch) {
      if (!m.success || !(m.latencyS > 0)) continue;
      const g = this.#groups.get(m.promptTokens) ?? { sum: 0, n: 0 };
      g.sum += m.completionTokens / m.latencyS;
      g.n++;
      this.#groups.set(m.promptTokens, g);
    }
  }

  /** The rows, by prompt length. */
  rows(): SpeedRow[] {
    return [...this.#groups].sort((a, b) => a[0] - b[0]).map(([tokens, g]) => ({
      "Prompt Tokens": tokens,
      "Speed(tokens/s)": Math.round((g.sum / g.n) * 100) / 100,
      "GPU Memory(GB)": 0,
    }));
  }
}

/** A number as Python's `format(x, "g")` writes it (6 significant digits). */
export function formatG(x: number): string {
  if (x === 0) return "0";
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "nan" : x > 0 ? "inf" : "-inf";
  const exp = Math.floor(Math.log10(Math.abs(Number(x.toPrecision(6)))));
  if (exp < -4 || exp >= 6) {
    const [mant, e] = x.toExponential(5).split("e");
    const m = mant.includes(".") ? mant.replace(/0+$/, "").replace(/\.$/, "") : mant;
    const n = Number(e);
    return `${m}e${n < 0 ? "-" : "+"}${String(Math.abs(n)).padStart(2, "0")}`;
  }
  const fixed = x.toFixed(Math.max(0, 5 - exp));
  return fixed.includes(".") ? fixed.replace(/0+$/, "").replace(/\.$/, "") : fixed;
}

/** A table in Python tabulate's `pretty` format: every cell centred, `+---+` rules. */
export function prettyTable(headers: readonly string[], rows: readonly string[][]): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const center = (s: string, w: number) => {
    const left = Math.floor((w - s.length) / 2);
    return " ".repeat(left) + s + " ".repeat(w - s.length - left);
  };
  const rule = "+" + widths.map((w) => "-".repeat(w + 2)).join("+") + "+";
  const line = (cells: readonly string[]) =>
    "| " + cells.map((s, c) => center(s, widths[c])).join(" | ") + " |";
  return [rule, line(headers), rule, ...rows.map(line), rule].join("\n");
}

/** "Speed Benchmark Results:" and its table. */
export function formatSpeedBenchmark(rows: SpeedRow[]): string {
  if (rows.length === 0) return "Speed Benchmark Results:\nNo successful requests";
  const cells = rows.map((r) => [
    String(r["Prompt Tokens"]),
    formatG(r["Speed(tokens/s)"]),
    formatG(r["GPU Memory(GB)"]),
  ]);
  return "Speed Benchmark Results:\n" + prettyTable(HEADERS, cells);
}
