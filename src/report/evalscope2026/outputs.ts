/**
 * `--compat 2026`: a run's files in evalscope's 2026 layout, selected once (by `run/finish.ts`)
 * instead of the late-2024 ones: `benchmark_data.db` (2026 schema, from the run's own DB),
 * `benchmark_summary.json` and `benchmark_percentile.json` (2026 keys, rows, rounding and
 * nearest-rank percentiles, computed from the DB's rows as evalscope does),
 * `workload_throughput.json` and `workload_timeline.json` (with at least one success), and the
 * printed tables. `performance_summary.txt` is written beside the run folders by
 * {@link writePerformanceSummary}. Also where the run folder goes:
 * `<outputs>/<YYYYmmdd_HHMMSS>/<name>/parallel_P_number_N/` (`rate_R_number_N/` with
 * `--open-loop`; no timestamp level with `--no-timestamp`: {@link runFolder2026},
 * {@link pointFolder2026}).
 *
 * @module
 */
import { UsageError } from "../../errors.ts";
import { pythonFloat } from "../../util/python_float.ts";
import { safeName, timestamp, writeEach, writeTextOrNothing } from "../files.ts";
import { writeDb2026 } from "./db.ts";
import { type Sample, throughput2026, timeline2026 } from "./metrics.ts";
import { type Evalscope2026Result, results2026 } from "./results.ts";
import { formatPerformanceSummary, type SummaryInfo, type SummaryPoint } from "./tables.ts";

/** Our own result DB's file name in a `--compat 2026` run folder (evalscope's name is its). */
export const OWN_DB_FILE_2026 = "llmperf_data.db";

/** The file `--compat 2026` writes after all runs, beside their folders. */
export const PERFORMANCE_SUMMARY_FILE = "performance_summary.txt";

/**
 * The folder above a `--compat 2026` run's own: `<outputs>/<YYYYmmdd_HHMMSS>/<name>` (`name`: the
 * run's name, else the model's last path part, made safe); `stamped` false (`--no-timestamp`)
 * drops the timestamp level: `<outputs>/<name>`.
 */
export function runFolder2026(
  outputsDir: string,
  name: string | undefined,
  model: string,
  now: Date,
  stamped = true,
): string {
  const base = name ?? model.split("/").filter((p) => p !== "").pop() ?? model;
  const top = outputsDir.replace(/\/+$/, "");
  return stamped ? `${top}/${timestamp(now)}/${safeName(base)}` : `${top}/${safeName(base)}`;
}

/**
 * The run's own folder name inside {@link runFolder2026}: `parallel_<P>_number_<N>`, or with
 * `openLoopRate` (`--open-loop`) `rate_<R>_number_<N>`, R printed as Python prints a float
 * (`rate_5.0_number_100`, `rate_2.5_number_10`).
 */
export function pointFolder2026(parallel: number, number: number, openLoopRate?: number): string {
  return openLoopRate === undefined
    ? `parallel_${parallel}_number_${number}`
    : `rate_${pythonFloat(openLoopRate)}_number_${number}`;
}

/** The settings that place a `--compat 2026` run's folders (a subset of `PerfConfig`). */
export interface Placement2026 {
  /** `--outputs-dir`. */
  outputsDir: string;
  /** `--name`. */
  name?: string;
  /** `--model`. */
  model: string;
  /** `--no-timestamp`. */
  noTimestamp: boolean;
  /** `--parallel`. */
  parallel: number;
  /** `--rate`. */
  rate: number;
  /** `--open-loop`. */
  openLoop: boolean;
}

/**
 * A `--compat 2026` run's folders for `number` requests: `top` ({@link runFolder2026}) and `run`
 * inside it ({@link pointFolder2026}).
 */
export function folders2026(
  cfg: Placement2026,
  number: number,
  now: Date,
): { top: string; run: string } {
  const top = runFolder2026(cfg.outputsDir, cfg.name, cfg.model, now, !cfg.noTimestamp);
  return { top, run: `${top}/${pointName2026(cfg, number)}` };
}

/** {@link pointFolder2026} of a run's settings. */
export function pointName2026(
  cfg: Pick<Placement2026, "parallel" | "rate" | "openLoop">,
  number: number,
): string {
  return pointFolder2026(cfg.parallel, number, cfg.openLoop ? cfg.rate : undefined);
}

/**
 * `--no-timestamp` reuses the run folder: as evalscope (`utils/db_util.py:131-138`), a run whose
 * folder already holds a result DB is refused, with a {@link UsageError}, before anything is
 * sent. A folder without one is used as it is.
 */
export async function checkReusedFolder2026(dir: string): Promise<void> {
  for (const file of ["benchmark_data.db", OWN_DB_FILE_2026]) {
    try {
      await Deno.lstat(`${dir}/${file}`);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      throw e;
    }
    throw new UsageError(
      `--no-timestamp: '${dir}' already holds the results of a run (${file}); remove it, or ` +
        "give another --name or --outputs-dir",
    );
  }
}

/** The keys whose values evalscope writes as Python ints (every other number is a float). */
const INT_KEYS = new Set([
  "Concurrency",
  "Total Requests",
  "Success Requests",
  "Failed Requests",
  "Stream Requests",
  "Non-Stream Requests",
  "Input tokens",
  "Output tokens",
  "n_samples",
  "cum_completion",
  "cum_new_prompt",
  "cum_cached_prompt",
]);

/**
 * JSON as Python's `json.dump(indent=4, ensure_ascii=False)` writes evalscope's files: NaN stays
 * a bare `NaN`, and a float that is whole keeps its `.0` (`-1.0`), except under
 * {@link INT_KEYS}.
 */
export function jsonWithNaN(value: unknown): string {
  const mark = (s: string) => `\u0000${s}\u0000`;
  const text = JSON.stringify(
    value,
    (k, v) => {
      if (typeof v !== "number") return v;
      if (Number.isNaN(v)) return mark("NaN");
      return Number.isInteger(v) && !INT_KEYS.has(k) ? mark(`${v}.0`) : v;
    },
    4,
  );
  return text.replace(/"\\u0000([^"\\]*)\\u0000"/g, "$1") + "\n";
}

/**
 * Write a finished run's 2026 files into `dir` from its own DB at `ourDb`; resolves to the
 * results and the lines of the files that could not be written.
 */
export async function writeRun2026(
  ourDb: string,
  dir: string,
  ctx: { parallel: number; rate: number },
): Promise<{ result?: Evalscope2026Result; errors: string[] }> {
  let samples: Sample[];
  try {
    samples = await writeDb2026(ourDb, `${dir}/benchmark_data.db`);
  } catch (e) {
    return { errors: [(e as Error).message] };
  }
  const result = results2026(samples, ctx);
  const errors: string[] = [];
  const timeline = timeline2026(samples);
  const json = (file: string, v: unknown) => () =>
    writeTextOrNothing(`${dir}/${file}`, jsonWithNaN(v));
  await writeEach(errors, [
    json("benchmark_summary.json", result.summary),
    json("benchmark_percentile.json", result.percentiles),
    ...(timeline
      ? [
        json("workload_throughput.json", throughput2026(timeline)),
        json("workload_timeline.json", timeline),
      ]
      : []),
  ]);
  return { result, errors };
}

/** Write `performance_summary.txt` into `dir` for these runs; resolves to its text. */
export async function writePerformanceSummary(
  dir: string,
  info: SummaryInfo,
  points: SummaryPoint[],
): Promise<string> {
  const text = formatPerformanceSummary(info, points);
  await writeTextOrNothing(`${dir}/${PERFORMANCE_SUMMARY_FILE}`, text);
  return text;
}
