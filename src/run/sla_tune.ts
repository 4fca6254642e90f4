/**
 * `--sla-auto-tune`: the largest `--parallel` (or `--rate`) that meets the SLA criteria, found
 * as today's `evalscope perf` finds it (`sla/sla_run.py`). Each value `v` tried is
 * `--sla-num-runs` full {@link runPerfBenchmark} runs of `max(1, round(v × multiplier))`
 * requests (`<outputs-dir>/<name>/sla_tuning/sla_<var>_<v>_run_<i>/`, `--sleep-interval` apart),
 * averaged; it passes when the averaged success rate is 100% and at least one criteria group
 * holds. The search starts at the first `--parallel` (`--rate`), clamped to
 * `[--sla-lower-bound, --sla-upper-bound]` and truncated to an integer:
 *
 * - **Constraint mode**, each group on its own: from a passing start, double (capped at the upper
 *   bound) until a value fails; from a failing start, halve until one passes (none: `None`,
 *   `Failed at lower bound`). Then re-check the upper end and binary-search between for the
 *   largest passing integer.
 * - **Optimisation mode** (one group of one `max`/`min` criterion): double while the metric
 *   strictly improves, then binary-search `(lower, upper)` with `mid = ⌊(l + r) / 2⌋`, moving up
 *   when `mid` beats the best so far.
 *
 * Every value is run once (cached). `--dataset-offset` grows by each run's requests after that
 * run, so that every run starts where the one before it stopped in the prompt stream. At the end the folder gets `sla_summary.json` (`"<var>_<v>"`
 * → the averaged `metrics` and `percentiles`) and the `SLA Auto-tune Summary` table is printed.
 *
 * @module
 */
import { type PerfConfigInput, resolveConfig, toSnakeCase } from "../config.ts";
import { parseSlo } from "../config/slo_goals.ts";
import { parseSlaParams, type SlaGroup, slaGroup } from "../config/sla_params.ts";
import { Interrupted } from "../errors.ts";
import { withoutStartAt } from "../load/start_at.ts";
import { type Logger, stderrLogger } from "../log.ts";
import { runPerfBenchmark } from "../perf.ts";
import { redactConfig } from "../redact.ts";
import { createRunDir, defaultRunName, writeEach, writeJson } from "../report/files.ts";
import type { PerfResult } from "../results/run.ts";
import {
  averageRuns,
  checkCriterion,
  improves,
  optimisation,
  type SlaAverage,
  slaMetricValue,
  type SlaResult,
  type SlaRow,
  slaSummaryEntry,
  type SlaVariable,
  successRate,
} from "../results/sla.ts";
import { beforeNext } from "./repeat.ts";
import type { RunOptions } from "./options.ts";

/** The bounds and variable of a search. */
export interface SlaSearch {
  /** `parallel` or `rate`. */
  variable: SlaVariable;
  /** `--sla-lower-bound`. */
  lower: number;
  /** `--sla-upper-bound`. */
  upper: number;
  /** The start (already clamped and an integer: {@link slaStart}). */
  start: number;
  /** Log lines (each criterion's check, each step). */
  log: Logger;
}

/** Runs (or recalls) the averaged result of one value. */
export type SlaEvaluate = (value: number) => Promise<SlaAverage>;

/** The start of a search: `int(max(lower, min(value, upper)))`, as evalscope. */
export function slaStart(value: number, lower: number, upper: number): number {
  return Math.trunc(Math.max(lower, Math.min(value, upper)));
}

/** Python's `round()`: to the nearest integer, halves to even. */
export function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The requests of one run at `value`: `max(1, round(value × multiplier))` (default ×2). */
export function slaNumber(value: number, multiplier = 2): number {
  return Math.max(1, pyRound(value * multiplier));
}

function fmt(v: number | undefined): string {
  return v === undefined ? "n/a" : String(Math.round(v * 10000) / 10000);
}

/** Whether an average passes `groups` (logging each check, as evalscope's `check_sla`). */
export function slaPasses(
  a: SlaAverage,
  groups: readonly SlaGroup[],
  selector: string,
  log: Logger,
): boolean {
  const rate = successRate(a);
  if (rate < 100) {
    log(`[${selector}] SLA Check: Success Rate = ${rate.toFixed(2)}% | Expect 100% | FAILED`);
    return false;
  }
  let any = false;
  groups.forEach((g, i) => {
    let ok = true;
    for (const c of g.criteria) {
      const r = checkCriterion(c, a);
      if (r.value === undefined) log(`[${selector}] Metric ${r.metric} not found in results.`);
      else {
        log(
          `[${selector}] SLA Rule ${i + 1} Check: ${r.metric} = ${fmt(r.value)} | ` +
            `Expect ${r.expect} | ${r.passed ? "PASSED" : "FAILED"}`,
        );
      }
      if (!r.passed) ok = false;
    }
    if (ok) any = true;
  });
  return any;
}

async function constraint(
  s: SlaSearch,
  group: SlaGroup,
  evaluate: SlaEvaluate,
): Promise<SlaRow> {
  const check = async (v: number) =>
    slaPasses(await evaluate(v), [group], `${s.variable}=${v}`, s.log);
  let lower = s.start;
  let upper = s.start;
  if (await check(s.start)) {
    upper = Math.min(s.start * 2, s.upper);
    while (upper <= s.upper) {
      if (!await check(upper)) break;
      lower = upper;
      if (upper === s.upper) break;
      upper = Math.min(upper * 2, s.upper);
    }
  } else {
    upper = s.start;
    lower = Math.max(Math.floor(s.start / 2), s.lower);
    let found = false;
    while (lower >= s.lower) {
      if (await check(lower)) {
        found = true;
        break;
      }
      upper = lower;
      if (lower === s.lower) break;
      lower = Math.max(Math.floor(lower / 2), s.lower);
    }
    if (!found) {
      return {
        Criteria: group.text,
        Variable: s.variable,
        "Max Satisfied": "None",
        Note: `Failed at lower bound (${s.lower})`,
      };
    }
  }
  let best = lower;
  let left = lower + 1;
  let right = upper - 1;
  if (await check(upper)) { // cached: the loop above ran it
    best = upper;
    left = right + 1;
  }
  while (left <= right) {
    const mid = Math.floor((left + right) / 2);
    if (await check(mid)) {
      best = mid;
      left = mid + 1;
    } else right = mid - 1;
  }
  s.log(`SLA auto-tune: ${group.text}: max ${s.variable} ${best}`);
  return { Criteria: group.text, Variable: s.variable, "Max Satisfied": best, Note: "Satisfied" };
}

async function optimise(
  s: SlaSearch,
  metric: string,
  goal: "max" | "min",
  evaluate: SlaEvaluate,
): Promise<SlaRow> {
  const value = async (v: number) => slaMetricValue(metric, await evaluate(v)) ?? 0;
  let best = s.start;
  let curr = s.start;
  let bestValue = await value(curr);
  let lower = curr;
  let upper: number | undefined;
  while (true) {
    let next = curr * 2;
    if (next > s.upper) {
      if (curr < s.upper) next = s.upper;
      else break;
    }
    if (next === curr) break;
    const v = await value(next);
    s.log(`Optimization step: ${s.variable}=${next}, ${metric}=${fmt(v)}`);
    if (improves(goal, v, bestValue)) {
      bestValue = v;
      best = curr = lower = next;
      if (curr === s.upper) break;
    } else {
      upper = next;
      break;
    }
  }
  if (upper !== undefined && upper > lower) {
    let left = lower;
    let right = upper;
    while (left < right - 1) {
      const mid = Math.floor((left + right) / 2);
      const v = await value(mid);
      s.log(`Binary search checking: ${s.variable}=${mid}, ${metric}=${fmt(v)}`);
      if (improves(goal, v, bestValue)) {
        bestValue = v;
        best = left = mid;
      } else right = mid;
    }
  }
  return {
    Criteria: `${metric} -> ${goal}`,
    Variable: s.variable,
    "Max Satisfied": best,
    Note: `Best ${metric}: ${bestValue.toFixed(4)}`,
  };
}

/**
 * The search itself, over `evaluate` (called once per distinct value, in the order tried):
 * optimisation mode for one `max`/`min` criterion, else one constraint search per group. Resolves
 * to the summary table's rows.
 */
export async function searchSla(
  groups: readonly SlaGroup[],
  s: SlaSearch,
  evaluate: SlaEvaluate,
): Promise<SlaRow[]> {
  const cache = new Map<number, Promise<SlaAverage>>();
  const once: SlaEvaluate = (v) => {
    let p = cache.get(v);
    if (!p) cache.set(v, p = evaluate(v));
    return p;
  };
  const opt = optimisation(groups);
  if (opt) return [await optimise(s, opt.metric, opt.goal, once)];
  const rows: SlaRow[] = [];
  for (const g of groups) rows.push(await constraint(s, g, once));
  return rows;
}

class Stop extends Error {}

/** The criteria groups of a config: `--sla-params`, then `--slo` as one more group. */
export function slaGroups(slaParams: string | undefined, slo: string | undefined): SlaGroup[] {
  const groups = slaParams !== undefined ? parseSlaParams(slaParams) : [];
  if (slo !== undefined) {
    groups.push(slaGroup(parseSlo(slo).map((goal) => ({ kind: "slo" as const, goal }))));
  }
  return groups;
}

/**
 * Run an SLA auto-tune (see the module doc) with `base` as every run's settings.
 *
 * @example
 * ```ts
 * import { runSlaAutoTune } from "@llmperf/llmperf";
 * const r = await runSlaAutoTune({ url: "http://127.0.0.1:8000/v1/chat/completions", model: "m",
 *   prompt: "Hi", slaAutoTune: true, slaParams: '{"p99_ttft": "<=500"}', slaNumRuns: 1 });
 * console.log(r.rows[0]["Max Satisfied"]);
 * ```
 */
export async function runSlaAutoTune(
  base: PerfConfigInput,
  options: RunOptions = {},
): Promise<SlaResult> {
  const log = options.log ?? stderrLogger;
  const cfg = resolveConfig(base);
  const groups = slaGroups(cfg.slaParams, cfg.slo);
  const variable = cfg.slaVariable;
  const name = cfg.name ?? defaultRunName(cfg.model, new Date(), cfg.shard);
  const outputDir = await createRunDir(cfg.outputsDir, name);
  const lower = cfg.slaLowerBound;
  const upper = cfg.slaUpperBound;
  const start = slaStart(variable === "parallel" ? cfg.parallel : cfg.rate, lower, upper);
  log(`SLA auto-tune of ${variable} in [${lower}, ${upper}] from ${start}, saving to ${outputDir}`);
  const settings = toSnakeCase(redactConfig({ ...cfg, name }));
  const errors: string[] = [];
  await writeEach(errors, [() => writeJson(`${outputDir}/sla_args.json`, settings)]);
  const tried: number[] = [];
  const evaluated: Record<string, SlaAverage> = {};
  let interrupted = false;
  let first = true;
  // --dataset-offset grows by each run's number (cached values are not run again), as evalscope
  // 2026's `sla_run.py`: every run sends prompts the runs before it did not.
  let datasetOffset = cfg.datasetOffset;
  // Each run on its own: no W&B / visualizer and no report.html, as evalscope's SLA mode.
  const runInput: PerfConfigInput = {
    ...base,
    slaAutoTune: false,
    visualizer: undefined,
    wandbApiKey: undefined,
    swanlabApiKey: undefined,
  };
  const evaluate: SlaEvaluate = async (v) => {
    tried.push(v);
    const number = slaNumber(v, cfg.slaNumberMultiplier);
    const results: PerfResult[] = [];
    for (let i = 0; i < cfg.slaNumRuns; i++) {
      if (!await beforeNext(i, "run", cfg.sleepInterval, log, options.signal)) throw new Stop();
      log(`Running ${variable}=${v}, iteration ${i + 1}/${cfg.slaNumRuns}...`);
      const at: PerfConfigInput = {
        ...runInput,
        number,
        ...(variable === "parallel"
          ? { parallel: v, rate: -1 }
          : { rate: v, parallel: cfg.slaFixedParallel ?? upper }),
        name: `sla_${variable}_${v}_run_${i}`,
        outputsDir: `${outputDir}/sla_tuning`,
        datasetOffset,
      };
      datasetOffset += number;
      let r: PerfResult;
      try {
        r = await runPerfBenchmark(first ? at : withoutStartAt(at), {
          ...options,
          htmlReport: false,
          group: options.group ?? name,
        });
      } catch (e) {
        if (e instanceof Interrupted) throw new Stop();
        throw e;
      }
      first = false;
      errors.push(...r.errors);
      if (r.interrupted || r.errors.length > 0) throw new Stop();
      results.push(r);
    }
    const avg = averageRuns(results);
    evaluated[`${variable}_${v}`] = avg;
    return avg;
  };
  let rows: SlaRow[] = [];
  try {
    rows = await searchSla(groups, { variable, lower, upper, start, log }, evaluate);
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    interrupted = true;
  }
  const summary: Record<string, unknown> = {};
  for (const [k, a] of Object.entries(evaluated)) summary[k] = slaSummaryEntry(a);
  await writeEach(errors, [() => writeJson(`${outputDir}/sla_summary.json`, summary)]);
  return { outputDir, rows, tried, evaluated, interrupted, errors };
}
