/**
 * Sweeps: several `--parallel`, `--number` or `--rate` values in one command, as evalscope allows
 * (`--parallel 1 8 32 --number 10 80 320`). Lists are paired in order; a flag given one value uses
 * it at every point; lists of different lengths (other than one) are an error. Each point is a
 * full {@link runPerfBenchmark} run in its own subfolder of the sweep folder
 * (`<outputs-dir>/<name>/parallel_8_number_80/`), run one after another; at the end the sweep
 * folder gets `sweep_summary.json` (the comparison table) and `report.html`. With `--compat 2026`
 * the folders are evalscope's (`<outputs>/<YYYYmmdd_HHMMSS>/<name>/`, each point's
 * `parallel_P_number_N/` or, `--open-loop`, `rate_R_number_N/`), and a closed loop sends every
 * point at the first `--rate` (evalscope 2026 sweeps the rate in open loop only).
 *
 * @module
 */
import { type PerfConfigInput, resolveConfig, toSnakeCase } from "../config.ts";
import { withoutStartAt } from "../load/start_at.ts";
import { Interrupted, UsageError } from "../errors.ts";
import {
  checkReusedFolder2026,
  pointName2026,
  runFolder2026,
  writePerformanceSummary,
} from "../report/evalscope2026/outputs.ts";
import { stderrLogger } from "../log.ts";
import { runPerfBenchmark } from "../perf.ts";
import type { PerfResult } from "../results/run.ts";
import {
  repeatedSweepRow,
  type SweepPoint,
  type SweepResult,
  type SweepRow,
  sweepRow,
} from "../results/sweep.ts";
import { beforeNext, runRepeats } from "./repeat.ts";
import type { RunOptions } from "./options.ts";
import { redactConfig } from "../redact.ts";
import {
  createCompatDir,
  createRunDir,
  defaultRunName,
  writeEach,
  writeJson,
  writeTextOrNothing,
} from "../report/files.ts";
import { renderSweepReport } from "../report/html/page.ts";

/** The swept flags' values, as parsed from the command line. */
export interface SweepValues {
  /** `--parallel` values. */
  parallel?: number[];
  /** `--number` values. */
  number?: number[];
  /** `--rate` values. */
  rate?: number[];
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

/**
 * Run every point of a sweep in turn, each in its own subfolder of `<outputs-dir>/<name>/`, then
 * write the comparison (`sweep_summary.json`) and `report.html` into the sweep folder. Every
 * point's settings are validated before the first one runs. An abort stops after the point in
 * progress (which records its in-flight requests as cancelled). `--start-at` starts the first
 * point; each later one starts when the one before it has finished.
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
  const withPoint = (p: SweepPoint): PerfConfigInput => {
    const input: PerfConfigInput = { ...base };
    for (const f of FLAGS) if (p[f] !== undefined) input[f] = p[f];
    return input;
  };
  let points = sweepPoints(values);
  let configs = points.map((p) => resolveConfig(withPoint(p)));
  if (configs[0].compat === "2026") {
    // evalscope 2026 sweeps --rate in open loop only: a closed loop uses rate[0] at every point.
    if (!configs[0].openLoop && values.rate && values.rate.length > 1) {
      points = sweepPoints({ ...values, rate: values.rate.slice(0, 1) });
      configs = points.map((p) => resolveConfig(withPoint(p)));
    }
    // Each point's folder is named as evalscope names it: parallel_P_number_N, rate_R_number_N.
    points = points.map((p, i) => ({
      ...p,
      label: pointName2026(configs[i], configs[i].number ?? 0),
    }));
  }
  const cfg = configs[0];
  const name = cfg.name ?? defaultRunName(cfg.model, new Date(), cfg.shard, !cfg.noTimestamp);
  // `--compat 2026`: `<outputs>/<YYYYmmdd_HHMMSS>/<name>/` above the points' folders (no
  // timestamp level with --no-timestamp: then no point's folder may hold a run's DB yet).
  const top2026 = cfg.compat === "2026"
    ? runFolder2026(cfg.outputsDir, cfg.name, cfg.model, new Date(), !cfg.noTimestamp)
    : undefined;
  if (top2026 !== undefined && cfg.noTimestamp) {
    for (const p of points) await checkReusedFolder2026(`${top2026}/${p.label}`);
  }
  const outputDir = top2026 !== undefined
    ? await createCompatDir(top2026)
    : await createRunDir(cfg.outputsDir, name);
  log(`sweep of ${points.length} points, saving results to ${outputDir}`);
  const settings = toSnakeCase(redactConfig({ ...cfg, name }));
  for (const f of FLAGS) if (values[f]) settings[f] = values[f];
  await writeJson(`${outputDir}/sweep_args.json`, settings);

  const ran: SweepResult["points"] = [];
  const rows: SweepRow[] = [];
  let interrupted = false;
  const errors: string[] = [];
  const summaryPath = `${outputDir}/sweep_summary.json`;
  // --dataset-offset grows by each point's --number (warmup not included), as evalscope 2026's.
  let datasetOffset = cfg.datasetOffset;
  for (let i = 0; i < points.length; i++) {
    if (!await beforeNext(i, "point", cfg.sleepInterval, log, options.signal)) {
      interrupted = true;
      break;
    }
    const point = points[i];
    log(`sweep point ${i + 1}/${points.length}: ${point.label.replaceAll("_", " ")}`);
    const at = { ...withPoint(point), name: point.label, outputsDir: outputDir, datasetOffset };
    datasetOffset += configs[i].number ?? 0;
    const input = i > 0 ? withoutStartAt(at) : at; // later points start when the one before ends
    const opts = { ...options, group: options.group ?? name };
    let result: PerfResult;
    try {
      if (cfg.repeat > 1) {
        // Each point runs --repeat times in its own folder; its row holds the means and CIs.
        const rr = await runRepeats(input, opts);
        errors.push(...rr.errors); // every run's, and the repeat folder's own
        if (rr.results.length === 0) {
          interrupted = true;
          break;
        }
        result = rr.results[rr.results.length - 1];
        ran.push({ point, result, repeats: rr });
        rows.push(repeatedSweepRow(point, rr));
        if (rr.interrupted) result = { ...result, interrupted: true };
      } else {
        result = await runPerfBenchmark(input, opts);
        ran.push({ point, result });
        rows.push(sweepRow(point, result));
        errors.push(...result.errors);
      }
    } catch (e) {
      // Interrupted before this point sent anything: the points so far are the sweep.
      if (!(e instanceof Interrupted)) throw e;
      interrupted = true;
      break;
    }
    if (errors.length === 0) await writeEach(errors, [() => writeJson(summaryPath, rows)]);
    if (errors.length > 0) break; // a full disk: later points could not be kept either
    if (result.interrupted) {
      interrupted = true;
      break;
    }
  }
  const compatPoints = ran.flatMap((p) => p.result.evalscope2026 ? [p.result.evalscope2026] : []);
  await writeEach(errors, [
    ...(cfg.compat === "2026" && compatPoints.length > 0
      ? [() =>
        writePerformanceSummary(outputDir, {
          model: cfg.model,
          dataset: cfg.dataset,
          api: cfg.api,
          outputPath: outputDir,
        }, compatPoints).then((text) => log(`\n${text}`))]
      : []),
    () => writeJson(summaryPath, rows),
    () =>
      writeTextOrNothing(
        `${outputDir}/report.html`,
        renderSweepReport({ name, createdAt: new Date(), settings, rows }),
      ),
  ]);
  return { outputDir, points: ran, rows, interrupted, errors };
}
