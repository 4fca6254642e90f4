/**
 * `--slo`: service-level goals a run must meet, in a small grammar.
 *
 * ```
 * goals  := goal ("," goal)*
 * goal   := metric ["_" stat] op number [unit]
 * metric := ttft | tpot | itl | latency        (a statistic is required; unit ms or s)
 *         | error_rate                         (unit %, or a fraction 0–1 without one)
 *         | request_throughput                 (requests/s, no unit)
 *         | output_throughput                  (output tokens/s, no unit)
 * stat   := mean | p50 | p90 | p95 | p99
 * op     := < | <= | > | >=
 * ```
 *
 * Example: `ttft_p99<500ms,tpot_mean<50ms,error_rate<1%`. `e2e` and `e2el` are accepted for
 * `latency`. Each goal on ttft, tpot or latency also sets a per-request condition (the request's own
 * value against the same threshold) used for goodput: requests per second that succeeded and met
 * every such condition.
 *
 * The grammar lives with the configuration (not in `src/slo/`) because validating `--slo` is part
 * of resolving a config, and the config sits below every feature: `src/slo/evaluate.ts` imports
 * the goal type from here, never the other way round.
 *
 * @module
 */
import { UsageError } from "../errors.ts";

/** Metrics a goal can name. */
export type SloMetric =
  | "ttft"
  | "tpot"
  | "itl"
  | "latency"
  | "error_rate"
  | "request_throughput"
  | "output_throughput";

/** Statistics of the per-request timing metrics. */
export type SloStat = "mean" | "p50" | "p90" | "p95" | "p99";

/** Comparison operators. */
export type SloOp = "<" | "<=" | ">" | ">=";

/** One parsed goal. */
export interface SloGoal {
  /** The goal as written (trimmed), e.g. `ttft_p99<500ms`. */
  text: string;
  /** The metric. */
  metric: SloMetric;
  /** The statistic, for ttft/tpot/itl/latency. */
  stat?: SloStat;
  /** The comparison. */
  op: SloOp;
  /** The threshold in the goal's unit (`ms`, `s`, `%`, or none). */
  threshold: number;
  /** The unit as written: `ms`, `s`, `%` or `""`. */
  unit: "ms" | "s" | "%" | "";
}

const TIMED = new Set(["ttft", "tpot", "itl", "latency"]);
const ALIASES: Record<string, SloMetric> = { e2e: "latency", e2el: "latency" };
const PLAIN = new Set(["error_rate", "request_throughput", "output_throughput"]);
const STATS = new Set(["mean", "p50", "p90", "p95", "p99"]);
const GOAL = /^([a-z0-9_]+)\s*(<=|>=|<|>)\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\s*(ms|s|%)?$/i;

function bad(text: string, why: string): never {
  throw new UsageError(`--slo: '${text}': ${why}`);
}

/** Parse one goal. Throws {@link UsageError} (one line naming the goal) when malformed. */
export function parseGoal(raw: string): SloGoal {
  const text = raw.trim();
  const m = GOAL.exec(text);
  if (!m) {
    bad(text, "expected metric_stat<value unit, e.g. ttft_p99<500ms or error_rate<1%");
  }
  const [, name, op, num, unitRaw] = m;
  const unit = (unitRaw ?? "").toLowerCase() as SloGoal["unit"];
  const threshold = Number(num);
  const lower = name.toLowerCase();
  const cut = lower.lastIndexOf("_");
  const tail = cut > 0 ? lower.slice(cut + 1) : "";
  let metricName = lower;
  let stat: SloStat | undefined;
  if (STATS.has(tail)) {
    metricName = lower.slice(0, cut);
    stat = tail as SloStat;
  }
  metricName = ALIASES[metricName] ?? metricName;
  if (TIMED.has(metricName)) {
    if (!stat) bad(text, `add a statistic: ${metricName}_mean, _p50, _p90, _p95 or _p99`);
    if (unit !== "ms" && unit !== "s") bad(text, "add a unit: ms or s");
  } else if (PLAIN.has(metricName)) {
    if (stat) bad(text, `${metricName} takes no statistic`);
    if (metricName === "error_rate") {
      if (unit !== "%" && unit !== "") bad(text, "error_rate takes % or a fraction (0.01)");
    } else if (unit !== "") {
      bad(text, `${metricName} is per second and takes no unit`);
    }
  } else {
    bad(
      text,
      `unknown metric '${metricName}' (ttft, tpot, itl, latency, error_rate, ` +
        "request_throughput, output_throughput)",
    );
  }
  if (threshold < 0) bad(text, "the value must not be negative");
  return { text, metric: metricName as SloMetric, stat, op: op as SloOp, threshold, unit };
}

/** Parse `--slo` (comma-separated goals). Throws {@link UsageError} on malformed input. */
export function parseSlo(text: string): readonly SloGoal[] {
  if (typeof text !== "string" || text.trim() === "") {
    throw new UsageError("--slo: expected goals such as 'ttft_p99<500ms,error_rate<1%'");
  }
  // Validation (the settings table) and the run both ask for the goals of the same text: it is
  // parsed once, and both get the same frozen list.
  if (lastSlo?.text === text) return lastSlo.goals;
  const goals = Object.freeze(
    text.split(",").map((g) => g.trim()).filter((g) => g !== "").map((g) =>
      Object.freeze(parseGoal(g))
    ),
  );
  lastSlo = { text, goals };
  return goals;
}

let lastSlo: { text: string; goals: readonly SloGoal[] } | undefined;

/** Whether `value op threshold` holds. */
export function compare(value: number, op: SloOp, threshold: number): boolean {
  switch (op) {
    case "<":
      return value < threshold;
    case "<=":
      return value <= threshold;
    case ">":
      return value > threshold;
    case ">=":
      return value >= threshold;
  }
}

/** A timing goal's threshold in seconds (its unit is ms or s). */
export function thresholdSeconds(goal: SloGoal): number {
  return goal.unit === "ms" ? goal.threshold / 1000 : goal.threshold;
}
