/**
 * Issue 13's targets, as `deno task bench --targets` measures them: each one a figure computed
 * from the rows of one round (every scenario it needs, run one after the other), so that ratios
 * pair runs that shared the machine's state; the verdict is on the median over the rounds.
 *
 * @module
 */
import type { BenchRow } from "./run.ts";

/** One target. */
export interface Target {
  /** What is measured, in words. */
  what: string;
  /** The scenarios its figure needs. */
  needs: readonly string[];
  /** The figure from one round's rows (by scenario name). */
  figure(rows: ReadonlyMap<string, BenchRow>): number;
  /** The limit, and which side of it meets the target; none for a figure shown beside. */
  limit?: { at: number; atMost: boolean };
  /** How the figure prints. */
  unit: string;
  /** Decimals. */
  digits: number;
}

/** CPU µs per event of a row (whole client process). */
export function cpuPerEventUs(r: BenchRow): number {
  return (r.client.cpuSeconds / r.client.truth.events) * 1e6;
}

function eventsPerSecond(r: BenchRow): number {
  return r.client.truth.events / r.client.seconds;
}

const row = (rows: ReadonlyMap<string, BenchRow>, name: string): BenchRow => {
  const r = rows.get(name);
  if (r === undefined) throw new Error(`targets: scenario ${name} did not run`);
  return r;
};

/**
 * Peak RSS limits: 1.5× what vLLM's client used on the runs (about 75 MB at 64
 * unthrottled streams and 80 MB at 1,024 paced ones). The bench's peer (`bench/peer_vllm.py`) is
 * that client's request loop alone, without the dataset, tokenizer and metrics its process also
 * holds, so its own peak RSS is shown beside, not taken as the limit.
 */
const VLLM_RSS_MB = { unthrottled64: 75, paced1024: 80 } as const;

/**
 * CPU µs per event beyond the events of `short`: what `long`, the same run with more requests,
 * spent more, per event more. Start-up, the JIT's warm-up and the run's first and last waves cost
 * both runs the same, so what is left is the cost of each event once the client is warm.
 */
export function marginalCpuPerEventUs(long: BenchRow, short: BenchRow): number {
  const events = long.client.truth.events - short.client.truth.events;
  return ((long.client.cpuSeconds - short.client.cpuSeconds) / events) * 1e6;
}

/**
 * A target's figure that is one row's client CPU per event ÷ another's (`a` ÷ `b`), as a ratio
 * with two digits: the scenarios it needs, and the figure.
 */
function perEventRatio(a: string, b: string): Pick<Target, "needs" | "figure" | "unit" | "digits"> {
  return {
    needs: [a, b],
    figure: (rows) => cpuPerEventUs(row(rows, a)) / cpuPerEventUs(row(rows, b)),
    unit: "×",
    digits: 2,
  };
}

/** The targets, in the order they print. */
export const TARGETS: readonly Target[] = [
  {
    what: "client CPU per paced event ÷ the Deno floor (1,024 streams)",
    ...perEventRatio("paced-1024", "floor-1024"),
    limit: { at: 1.3, atMost: true },
  },
  {
    what: "  the same ÷ the node:net floor (beside)",
    ...perEventRatio("paced-1024", "floor-1024-node"),
  },
  {
    what: "  the same ÷ the FFI epoll floor (beside)",
    ...perEventRatio("paced-1024", "floor-1024-epoll"),
  },
  {
    what: "  the same less a one-request run's CPU (start, finish) ÷ the Deno floor (beside)",
    needs: ["paced-1024", "paced-1", "floor-1024"],
    figure: (rows) => {
      const r = row(rows, "paced-1024");
      const fixed = row(rows, "paced-1").client.cpuSeconds;
      const steady = ((r.client.cpuSeconds - fixed) / r.client.truth.events) * 1e6;
      return steady / cpuPerEventUs(row(rows, "floor-1024"));
    },
    unit: "×",
    digits: 2,
  },
  {
    what: "  the same over a 3× longer run (6,144 requests), whole process ÷ the floor's (beside)",
    ...perEventRatio("paced-1024-long", "floor-1024-long"),
  },
  {
    what: "  once warm: CPU per event beyond paced-1024's, a 3× longer run ÷ the floor's (beside)",
    needs: ["paced-1024", "paced-1024-long", "floor-1024", "floor-1024-long"],
    figure: (rows) =>
      marginalCpuPerEventUs(row(rows, "paced-1024-long"), row(rows, "paced-1024")) /
      marginalCpuPerEventUs(row(rows, "floor-1024-long"), row(rows, "floor-1024")),
    unit: "×",
    digits: 2,
  },
  {
    what: "  once warm: client CPU per paced event (beside)",
    needs: ["paced-1024", "paced-1024-long"],
    figure: (rows) => marginalCpuPerEventUs(row(rows, "paced-1024-long"), row(rows, "paced-1024")),
    unit: "µs",
    digits: 1,
  },
  {
    what: "  one-request run's CPU-s: llmperf's start and finish (beside)",
    needs: ["paced-1"],
    figure: (rows) => row(rows, "paced-1").client.cpuSeconds,
    unit: "s",
    digits: 3,
  },
  {
    what: "  client CPU per paced event (beside)",
    needs: ["paced-1024"],
    figure: (rows) => cpuPerEventUs(row(rows, "paced-1024")),
    unit: "µs",
    digits: 1,
  },
  {
    what: "  the same ÷ vLLM's client loop, µs per paced event (beside; issue 13: ≤ 0.5)",
    ...perEventRatio("paced-1024", "peer-vllm-1024"),
  },
  {
    what:
      "  llmperf without the bench's ground truth (as vLLM's loop runs) ÷ the Deno floor (beside)",
    ...perEventRatio("paced-1024-bare", "floor-1024"),
  },
  {
    what: "  floor: Deno conn.read / node:net, µs per paced event (beside)",
    ...perEventRatio("floor-1024", "floor-1024-node"),
  },
  {
    what: "  floor: Deno conn.read ÷ FFI epoll, µs per paced event (beside)",
    ...perEventRatio("floor-1024", "floor-1024-epoll"),
  },
  {
    what: "unthrottled SSE events per client CPU-second (openai plugin, blast server, 1 worker)",
    needs: ["blast-w1"],
    figure: (rows) => {
      const r = row(rows, "blast-w1");
      return r.client.truth.events / r.client.cpuSeconds;
    },
    limit: { at: 250_000, atMost: false },
    unit: "",
    digits: 0,
  },
  {
    what: "  the same as CPU per event ÷ vLLM's client loop's (beside; issue 13: ≤ 0.33)",
    ...perEventRatio("blast-w1", "peer-vllm-blast-c64"),
  },
  {
    what: "--workers 2 ÷ --workers 1, events/s against the blast server",
    needs: ["blast-w1", "blast-w2"],
    figure: (rows) =>
      eventsPerSecond(row(rows, "blast-w2")) / eventsPerSecond(row(rows, "blast-w1")),
    limit: { at: 1.7, atMost: false },
    unit: "×",
    digits: 2,
  },
  {
    what: "TTFT delay mean, 1,024 paced streams (against the mock's stamps)",
    needs: ["paced-1024"],
    figure: (rows) => row(rows, "paced-1024").client.truth.ttftDelay.mean,
    limit: { at: 2, atMost: true },
    unit: "ms",
    digits: 2,
  },
  {
    what: "TTFT delay p99, 1,024 paced streams",
    needs: ["paced-1024"],
    figure: (rows) => row(rows, "paced-1024").client.truth.ttftDelay.p99,
    limit: { at: 10, atMost: true },
    unit: "ms",
    digits: 2,
  },
  {
    what: "ITL error mean, 1,024 paced streams",
    needs: ["paced-1024"],
    figure: (rows) => row(rows, "paced-1024").client.truth.itlError.mean,
    limit: { at: 1, atMost: true },
    unit: "ms",
    digits: 3,
  },
  {
    what: "  vLLM's client loop on the same streams: its TTFT delay mean (beside)",
    needs: ["peer-vllm-1024-timing"],
    figure: (rows) => row(rows, "peer-vllm-1024-timing").client.truth.ttftDelay.mean,
    unit: "ms",
    digits: 2,
  },
  {
    what: "  its TTFT delay p99 (beside)",
    needs: ["peer-vllm-1024-timing"],
    figure: (rows) => row(rows, "peer-vllm-1024-timing").client.truth.ttftDelay.p99,
    unit: "ms",
    digits: 2,
  },
  {
    what: "  its ITL error mean (beside)",
    needs: ["peer-vllm-1024-timing"],
    figure: (rows) => row(rows, "peer-vllm-1024-timing").client.truth.itlError.mean,
    unit: "ms",
    digits: 3,
  },
  {
    what: "  the mock's lateness mean in that run (beside)",
    needs: ["paced-1024"],
    figure: (rows) => row(rows, "paced-1024").client.truth.mockLate.mean,
    unit: "ms",
    digits: 2,
  },
  {
    what: "  the mock's lateness p99 (beside)",
    needs: ["paced-1024"],
    figure: (rows) => row(rows, "paced-1024").client.truth.mockLate.p99,
    unit: "ms",
    digits: 2,
  },
  {
    what: `peak RSS, 64 unthrottled streams (1.5 × vLLM's ~${VLLM_RSS_MB.unthrottled64} MB)`,
    needs: ["unthrottled-c64"],
    figure: (rows) => row(rows, "unthrottled-c64").client.peakRssMb,
    limit: { at: 1.5 * VLLM_RSS_MB.unthrottled64, atMost: true },
    unit: "MB",
    digits: 0,
  },
  {
    what: `peak RSS, 1,024 paced streams (1.5 × vLLM's ~${VLLM_RSS_MB.paced1024} MB)`,
    needs: ["paced-1024"],
    figure: (rows) => row(rows, "paced-1024").client.peakRssMb,
    limit: { at: 1.5 * VLLM_RSS_MB.paced1024, atMost: true },
    unit: "MB",
    digits: 0,
  },
  {
    what: "  the same in the 3× longer run (6,144 requests; beside)",
    needs: ["paced-1024-long"],
    figure: (rows) => row(rows, "paced-1024-long").client.peakRssMb,
    unit: "MB",
    digits: 0,
  },
  {
    what:
      "  llmperf without the bench's ground truth (as vLLM's loop runs): 64 unthrottled (beside)",
    needs: ["unthrottled-c64-bare"],
    figure: (rows) => row(rows, "unthrottled-c64-bare").client.peakRssMb,
    unit: "MB",
    digits: 0,
  },
  {
    what: "  the same, 1,024 paced streams (beside)",
    needs: ["paced-1024-bare"],
    figure: (rows) => row(rows, "paced-1024-bare").client.peakRssMb,
    unit: "MB",
    digits: 0,
  },
  {
    what: "  vLLM's client loop's peak RSS (no dataset, no tokenizer), 64 unthrottled (beside)",
    needs: ["peer-vllm-c64"],
    figure: (rows) => row(rows, "peer-vllm-c64").client.peakRssMb,
    unit: "MB",
    digits: 0,
  },
  {
    what: "  vLLM's client loop's peak RSS, 1,024 paced streams (beside)",
    needs: ["peer-vllm-1024"],
    figure: (rows) => row(rows, "peer-vllm-1024").client.peakRssMb,
    unit: "MB",
    digits: 0,
  },
];

/** The scenarios the targets need, in the order of {@link TARGETS}, each once. */
export function targetScenarios(targets: readonly Target[] = TARGETS): string[] {
  return [...new Set(targets.flatMap((t) => t.needs))];
}

/** A target's figure over the rounds. */
export interface TargetResult {
  /** The target. */
  target: Target;
  /** The figure of each round. */
  rounds: number[];
  /** Their median. */
  median: number;
  /** Whether the median meets the limit (undefined: a figure shown beside). */
  met?: boolean;
}

/** Median of numbers (NaN for none). */
export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 === 1 ? s[n >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** Each target's figure in every round, the median, and the verdict. */
export function evaluateTargets(
  rounds: ReadonlyArray<ReadonlyMap<string, BenchRow>>,
  targets: readonly Target[] = TARGETS,
): TargetResult[] {
  return targets.map((target) => {
    const figures = rounds.map((rows) => {
      try {
        return target.figure(rows);
      } catch {
        return NaN; // a scenario of this target did not run in this round
      }
    });
    const m = median(figures);
    const l = target.limit;
    const met = l === undefined || Number.isNaN(m) ? undefined : l.atMost ? m <= l.at : m >= l.at;
    return { target, rounds: figures, median: m, met };
  });
}

/** The targets' table: target, limit, median (and each round), verdict. */
export function formatTargets(results: readonly TargetResult[]): string {
  const num = (v: number, d: number) =>
    Number.isFinite(v)
      ? v.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d })
      : "-";
  const head = ["target", "limit", "median", "rounds", "verdict"];
  const lines = results.map(({ target: t, rounds, median, met }) => [
    t.what,
    t.limit === undefined
      ? ""
      : `${t.limit.atMost ? "≤" : "≥"} ${num(t.limit.at, t.digits)}${t.unit}`,
    `${num(median, t.digits)}${t.unit}`,
    rounds.map((v) => num(v, t.digits)).join(", "),
    met === undefined ? "" : met ? "met" : "not met",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) =>
    "| " + cells.map((c, i) => c.padEnd(widths[i])).join(" | ") + " |";
  return [fmt(head), fmt(widths.map((w) => "-".repeat(w))), ...lines.map(fmt)].join("\n");
}
