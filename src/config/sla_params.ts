/**
 * `--sla-params`: the criteria of an SLA auto-tune, in today's `evalscope perf` grammar
 * (`sla/sla_run.py:18-40`, `sla/sla_criterion.py`).
 *
 * The value is a JSON object, or a JSON list of objects: each object is a group whose criteria
 * are ANDed (a list's groups are each searched on their own). Each key is a metric
 * (`avg_latency`, `avg_ttft`, `avg_tpot`, `rps`, `tps`, `p99_latency`, `p50_ttft`, `p90_ttft`,
 * `p99_ttft`, `p50_tpot`, `p90_tpot`, `p99_tpot`; ttft and tpot in ms, latency in s); a name
 * outside that set makes its group fail when checked. Each value is a string: `<=N`, `>=N`,
 * `<N` or `>N` (the longest operator first; the number as Python's `float()` reads it, so spaces
 * are allowed), or `max` / `min`. `≤`, `≥` and `≧` are read as `<=` and `>=`, and U+2006 is
 * dropped. A bare number is an error. Entries of a list that are not objects are skipped.
 *
 * Like `--slo`, the grammar lives with the configuration, because validating the flag is part of
 * resolving a config; the metric values are read in `src/results/sla.ts`.
 *
 * @module
 */
import type { SloGoal, SloOp } from "./slo_goals.ts";
import { UsageError } from "../errors.ts";

/** One criterion of a group. */
export type SlaCriterion =
  /** `{"p99_ttft": "<=500"}`: a bound (`metric` may be unknown: the group then fails). */
  | { kind: "bound"; metric: string; op: SloOp; threshold: number }
  /** `{"tps": "max"}`: optimise (in a group of its own), else always met. */
  | { kind: "optimise"; metric: string; goal: "max" | "min" }
  /** One `--slo` goal. */
  | { kind: "slo"; goal: SloGoal };

/** A group of criteria, all of which must hold. */
export interface SlaGroup {
  /** How the summary table names it: `p99_ttft <=500, avg_tpot <=50`. */
  text: string;
  /** Its criteria. */
  criteria: SlaCriterion[];
}

const OPS: readonly SloOp[] = ["<=", ">=", "<", ">"]; // the longest first

/**
 * Python's `float()` of a trimmed string: decimal, exponent, `inf`, `nan`; else undefined.
 */
function pyFloat(s: string): number | undefined {
  const t = s.trim().replaceAll("_", "");
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t.startsWith("-") ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(t)) return NaN;
  return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t) ? Number(t) : undefined;
}

/** Parse one criterion's value (`<=500`, `max`). Throws {@link UsageError} when malformed. */
export function parseCriterion(metric: string, value: unknown): SlaCriterion {
  const text = String(value).replaceAll("≤", "<=").replaceAll(/[≥≧]/g, ">=")
    .replaceAll("\u2006", "").trim();
  if (text === "max" || text === "min") return { kind: "optimise", metric, goal: text };
  for (const op of OPS) {
    if (!text.startsWith(op)) continue;
    const threshold = pyFloat(text.slice(op.length));
    if (threshold === undefined) break;
    return { kind: "bound", metric, op, threshold };
  }
  throw new UsageError(
    `--sla-params: ${metric}: '${value}': expected <=N, >=N, <N, >N, max or min`,
  );
}

function criterionText(c: SlaCriterion): string {
  if (c.kind === "slo") return c.goal.text;
  if (c.kind === "optimise") return `${c.metric} ${c.goal}`;
  return `${c.metric} ${c.op}${c.threshold}`;
}

/** A group from its criteria. */
export function slaGroup(criteria: SlaCriterion[]): SlaGroup {
  return { text: criteria.map(criterionText).join(", "), criteria };
}

/**
 * Parse `--sla-params`: JSON text, an object or a list of objects (entries that are not objects
 * are skipped, as evalscope does). Throws {@link UsageError} (one line) when malformed.
 */
export function parseSlaParams(input: unknown): SlaGroup[] {
  let value = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch {
      throw new UsageError(`--sla-params: not valid JSON: ${input}`);
    }
  }
  const records = Array.isArray(value) ? value : [value];
  const groups: SlaGroup[] = [];
  for (const r of records) {
    if (r === null || typeof r !== "object" || Array.isArray(r)) continue;
    groups.push(slaGroup(Object.entries(r).map(([k, v]) => parseCriterion(k, v))));
  }
  if (groups.length === 0) {
    throw new UsageError(
      `--sla-params: expected a JSON object of criteria, such as ` +
        `'{"p99_ttft": "<=500"}', or a list of them`,
    );
  }
  return groups;
}
