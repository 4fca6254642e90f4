/**
 * Sweeps: several `--parallel`, `--number` or `--rate` values in one command, as evalscope allows
 * (`--parallel 1 8 32 --number 10 80 320`). Lists are paired in order; a flag given one value uses
 * it at every point; lists of different lengths (other than one) are an error. Each point is a
 * full {@link runPerfBenchmark} run in its own subfolder of the sweep folder
 * (`<outputs-dir>/<name>/parallel_8_number_80/`), run one after another; at the end the sweep
 * folder gets `sweep_summary.json` (the comparison table) and `report.html`.
 *
 * @module
 */
import { type PerfConfigInput, resolveConfig, toSnakeCase } from "../config.ts";
import { Interrupted, UsageError } from "../errors.ts";
import { stderrLogger } from "../log.ts";
import { MODERN_KEYS, REQUEST_COLUMNS, SUMMARY_KEYS } from "../metrics/collector.ts";
import { type PerfResult, type RunOptions, runPerfBenchmark } from "../perf.ts";
import { redactConfig } from "../redact.ts";
import {
  createRunDir,
  defaultRunName,
  writeEach,
  writeJson,
  writeTextOrNothing,
} from "../report/files.ts";
import { renderSweepReport } from "../report/html/page.ts";
import { GOODPUT_KEY } from "../slo/evaluate.ts";

/** The swept flags' values, as parsed from the command line. */
export interface SweepValues {
  /** `--parallel` values. */
  parallel?: number[];
  /** `--number` values. */
  number?: number[];
  /** `--rate` values. */
  rate?: number[];
}

/** One point of a sweep: the values it runs with, and its folder name. */
export interface SweepPoint {
  /** Folder name, e.g. `parallel_8_number_80`. */
  label: string;
  /** `--parallel` at this point, when swept or given. */
  parallel?: number;
  /** `--number` at this point. */
  number?: number;
  /** `--rate` at this point. */
  rate?: number;
}

/** One row of the comparison table (`sweep_summary.json`). */
export interface SweepRow {
  /** The point's label. */
  point: string;
  /** Its folder, relative to the sweep folder. */
  folder: string;
  /** `--parallel`. */
  parallel: number;
  /** Requests dispatched. */
  number: number;
  /** `--rate` (-1: no pacing). */
  rate: number;
  /** Requests that succeeded. */
  succeeded: number;
  /** Requests that failed. */
  failed: number;
  /** Successful requests per second. */
  requestThroughput: number | null;
  /** Output tokens per second. */
  outputThroughput: number | null;
  /** TTFT median, ms. */
  ttftP50: number | null;
  /** TTFT p99, ms. */
  ttftP99: number | null;
  /** TPOT median, ms. */
  tpotP50: number | null;
  /** TPOT p99, ms. */
  tpotP99: number | null;
  /** End-to-end latency median, s. */
  latencyP50: number | null;
  /** End-to-end latency p99, s. */
  latencyP99: number | null;
  /** Goodput, req/s (with `--slo`). */
  goodput: number | null;
  /** Whether every SLO goal passed (null without `--slo`). */
  sloPassed: boolean | null;
  /** Whether the point was interrupted. */
  interrupted: boolean;
}

/** What a sweep returns. */
export interface SweepResult {
  /** The sweep folder. */
  outputDir: string;
  /** Each point that ran, in order, with its full result. */
  points: Array<{ point: SweepPoint; result: PerfResult }>;
  /** The comparison table. */
  rows: SweepRow[];
  /** Whether the sweep was interrupted (later points did not run). */
  interrupted: boolean;
  /** Outputs that could not be written (see `PerfResult.errors`); the sweep stops at the first. */
  errors: string[];
}

const FLAGS = ["parallel", "number", "rate"] as const;

/**
 * The points of a sweep: lists paired in order, one-value lists broadcast to every point. Throws
 * {@link UsageError} when two lists of more than one value differ in length.
 */
export function sweepPoints(values: SweepValues): SweepPoint[] {
  let length = 1;
  let longest: string | undefined;
  for (const f of FLAGS) {
    const n = values[f]?.length ?? 0;
    if (n <= 1) continue;
    if (length > 1 && n !== length) {
      throw new UsageError(
        `--${f} has ${n} values and --${longest} ${length}: give swept flags the same number ` +
          "of values (paired in order), or one value to use at every point",
      );
    }
    length = n;
    longest = f;
  }
  const points: SweepPoint[] = [];
  for (let i = 0; i < length; i++) {
    const p: SweepPoint = { label: "" };
    const parts: string[] = [];
    for (const f of FLAGS) {
      const list = values[f];
      if (!list || list.length === 0) continue;
      const v = list.length === 1 ? list[0] : list[i];
      p[f] = v;
      parts.push(`${f}_${v}`);
    }
    p.label = parts.length > 0 ? parts.join("_") : "default";
    points.push(p);
  }
  return points;
}

/** Whether the values make more than one point. */
export function isSweep(values: SweepValues): boolean {
  return FLAGS.some((f) => (values[f]?.length ?? 0) > 1);
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** A point's row of the comparison table. */
export function sweepRow(point: SweepPoint, r: PerfResult): SweepRow {
  const pct = (p: string, col: string) =>
    num(r.requestPercentiles.find((row) => row["Percentile"] === p)?.[col]);
  return {
    point: point.label,
    folder: r.outputDir.split("/").pop() ?? point.label,
    parallel: r.config.parallel,
    number: num(r.summary[SUMMARY_KEYS.expected]) ?? 0,
    rate: r.config.rate,
    succeeded: num(r.summary[SUMMARY_KEYS.succeed]) ?? 0,
    failed: num(r.summary[SUMMARY_KEYS.failed]) ?? 0,
    requestThroughput: num(r.requestSummary[MODERN_KEYS.requestThroughput]),
    outputThroughput: num(r.requestSummary[MODERN_KEYS.outputThroughput]),
    ttftP50: pct("50%", REQUEST_COLUMNS.ttft),
    ttftP99: pct("99%", REQUEST_COLUMNS.ttft),
    tpotP50: pct("50%", REQUEST_COLUMNS.tpot),
    tpotP99: pct("99%", REQUEST_COLUMNS.tpot),
    latencyP50: pct("50%", REQUEST_COLUMNS.latency),
    latencyP99: pct("99%", REQUEST_COLUMNS.latency),
    goodput: num(r.requestSummary[GOODPUT_KEY]),
    sloPassed: r.slo ? r.slo.passed : null,
    interrupted: r.interrupted,
  };
}

/**
 * Run every point of a sweep in turn, each in its own subfolder of `<outputs-dir>/<name>/`, then
 * write the comparison (`sweep_summary.json`) and `report.html` into the sweep folder. Every
 * point's settings are validated before the first one runs. An abort stops after the point in
 * progress (which records its in-flight requests as cancelled).
 *
 * @example
 * ```ts
 * import { runSweep } from "@llmperf/llmperf";
 * const sweep = await runSweep(
 *   { url: "http://127.0.0.1:8000/v1/chat/completions", model: "qwen2.5", prompt: "Hi" },
 *   { parallel: [1, 8, 32], number: [10, 80, 320] },
 * );
 * console.table(sweep.rows);
 * ```
 */
export async function runSweep(
  base: PerfConfigInput,
  values: SweepValues,
  options: RunOptions = {},
): Promise<SweepResult> {
  const log = options.log ?? stderrLogger;
  const points = sweepPoints(values);
  const withPoint = (p: SweepPoint): PerfConfigInput => {
    const input: PerfConfigInput = { ...base };
    for (const f of FLAGS) if (p[f] !== undefined) input[f] = p[f];
    return input;
  };
  const configs = points.map((p) => resolveConfig(withPoint(p)));
  const cfg = configs[0];
  const name = cfg.name ?? defaultRunName(cfg.model, new Date());
  const outputDir = await createRunDir(cfg.outputsDir, name);
  log(`sweep of ${points.length} points, saving results to ${outputDir}`);
  const settings = toSnakeCase(redactConfig({ ...cfg, name }));
  for (const f of FLAGS) if (values[f]) settings[f] = values[f];
  await writeJson(`${outputDir}/sweep_args.json`, settings);

  const ran: SweepResult["points"] = [];
  const rows: SweepRow[] = [];
  let interrupted = false;
  const errors: string[] = [];
  const summaryPath = `${outputDir}/sweep_summary.json`;
  for (let i = 0; i < points.length; i++) {
    if (options.signal?.aborted) {
      interrupted = true;
      break;
    }
    const point = points[i];
    log(`sweep point ${i + 1}/${points.length}: ${point.label.replaceAll("_", " ")}`);
    let result: PerfResult;
    try {
      result = await runPerfBenchmark(
        { ...withPoint(point), name: point.label, outputsDir: outputDir },
        { ...options, group: options.group ?? name },
      );
    } catch (e) {
      // Interrupted before this point sent anything: the points so far are the sweep.
      if (!(e instanceof Interrupted)) throw e;
      interrupted = true;
      break;
    }
    ran.push({ point, result });
    rows.push(sweepRow(point, result));
    errors.push(...result.errors);
    if (errors.length === 0) await writeEach(errors, [() => writeJson(summaryPath, rows)]);
    if (errors.length > 0) break; // a full disk: later points could not be kept either
    if (result.interrupted) {
      interrupted = true;
      break;
    }
  }
  await writeEach(errors, [
    () => writeJson(summaryPath, rows),
    () =>
      writeTextOrNothing(
        `${outputDir}/report.html`,
        renderSweepReport({ name, createdAt: new Date(), settings, rows }),
      ),
  ]);
  return { outputDir, points: ran, rows, interrupted, errors };
}
