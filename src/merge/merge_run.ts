/**
 * Merging the shards of one run into one run folder, with the files a single run leaves:
 * `benchmark_args.json` (the run's settings, without the shard), `benchmark_data.db` (every
 * row), `benchmark_summary.json`, `benchmark_percentile.json` and `report.html`.
 *
 * The numbers are not combined from the shards' tables: the merged DB is read back through the
 * one metrics derivation that `llmperf report` uses (`reportFromDb`: `requestMetrics` and the
 * collector), so they are those of the union of the rows: every percentile exact over all the
 * rows, throughput over the union's wall-clock span (first send to last end, by epoch time),
 * goodput and the `--slo` check from the same rows. "Number of concurrency" is the run's
 * `--parallel` (the shards' shares added up).
 *
 * Shards run with `--compat 2026` (point folders of evalscope 2026's layout) merge into that
 * layout: the output folder is the run folder (`<name>/`, with `performance_summary.txt`), the
 * merged run its point folder `parallel_<P>_number_<N>/` (`rate_<R>_...` as the shards' name it,
 * N the whole run's requests) holding our DB as `llmperf_data.db` and, written from it as a
 * `--compat 2026` run writes them, evalscope 2026's `benchmark_data.db`,
 * `benchmark_summary.json`, `benchmark_percentile.json` and workload files.
 *
 * @module
 */
import { parseSlo } from "../config/slo_goals.ts";
import { shardText } from "../config/shard.ts";
import { RunError, UsageError } from "../errors.ts";
import type { PercentileRow, Summary } from "../metrics/collector.ts";
import type { MetricsSink } from "../metrics/metrics_sink.ts";
import type { ApiPluginLike } from "../plugins/types.ts";
import { type DbReport, reportFromDb } from "../report/from_db.ts";
import { writeEach, writeJson, writeResultFiles, writeTextOrNothing } from "../report/files.ts";
import { ReportDataSink } from "../report/html/data.ts";
import { renderRunReport } from "../report/html/page.ts";
import { isSpeedBenchmark, SpeedBenchmarkSink, type SpeedRow } from "../report/speed_benchmark.ts";
import { checkRun, GoodputCounter, type SloReport } from "../slo/evaluate.ts";
import { DB_FILE } from "../store/run_meta.ts";
import {
  OWN_DB_FILE_2026,
  writePerformanceSummary,
  writeRun2026,
} from "../report/evalscope2026/outputs.ts";
import type { Evalscope2026Result } from "../report/evalscope2026/results.ts";
import type { RunRow } from "../store/schema.ts";
import { VERSION } from "../version.ts";
import { clockWarning, type StartOffsets, startOffsets } from "./clock.ts";
import { checkMergeable } from "./compatible.ts";
import type { RunInput } from "./inputs.ts";
import { writeMergedDb } from "./merged_db.ts";
import { sqlNumber } from "../util/sql_number.ts";

/** What the merge says of shards in evalscope 2026's layout (`Layout:`). */
export const LAYOUT_2026 = "evalscope 2026 folders (--compat 2026): each shard's " +
  `${OWN_DB_FILE_2026} merged, evalscope 2026's benchmark_data.db and JSON files written from it`;

/** How to merge. */
export interface MergeRunOptions {
  /** Merge what breaks a rule (different settings, shards missing or unfinished), with warnings. */
  force?: boolean;
  /** Reads the payloads of DBs that keep no timing columns (evalscope's): the `openai` plugin. */
  api?: ApiPluginLike;
  /** The warnings of a check already made ({@link checkRunInputs}); unset: checked here. */
  checked?: readonly string[];
}

/** A merged run: its tables (as `llmperf report` gives them), its files, what was merged. */
export interface MergedRun extends DbReport {
  /** The merged run folder. */
  outputDir: string;
  /** The run's settings, as written to `benchmark_args.json`. */
  settings: Record<string, unknown>;
  /** The inputs merged, in order. */
  inputs: RunInput[];
  /** When each input's load began against `--start-at` (or the earliest). */
  offsets: StartOffsets;
  /** Whether a shard was interrupted. */
  interrupted: boolean;
  /** The `--slo` check of the merged tables (with `--slo`). */
  slo?: SloReport;
  /** The `speed_benchmark` table (that dataset only). */
  speedBenchmark?: SpeedRow[];
  /** What the merge let through or noticed, one line each. */
  warnings: string[];
  /** Files that could not be written, one line each. */
  errors: string[];
}

function jsonOrNull(v: unknown): unknown {
  try {
    return typeof v === "string" ? JSON.parse(v) : null;
  } catch {
    return null;
  }
}

function distinct(values: unknown[]): string {
  return [...new Set(values.filter((v) => typeof v === "string"))].join(", ");
}

/** The run's settings: the shards' own, without the shard, named after the merged folder. */
export function mergedSettings(
  args: Record<string, unknown>,
  outputDir: string,
): Record<string, unknown> {
  const { shard: _, ...rest } = args;
  const cut = outputDir.lastIndexOf("/");
  return {
    ...rest,
    name: outputDir.slice(cut + 1),
    outputs_dir: cut > 0 ? outputDir.slice(0, cut) : ".",
  };
}

/** The merged DB's `run` row. */
function mergedRunRow(
  inputs: readonly RunInput[],
  settings: Record<string, unknown>,
  offsets: StartOffsets,
): RunRow {
  const runs = inputs.map((i) => i.run ?? {});
  const min = (k: string) => {
    const v = runs.map((r) => sqlNumber(r[k])).filter((x): x is number => x !== undefined);
    return v.length > 0 ? Math.min(...v) : null;
  };
  const ended = runs.map((r) => sqlNumber(r.ended_at));
  return {
    llmperf_version: VERSION,
    name: String(settings.name),
    args: JSON.stringify(settings),
    started_at: min("started_at") ?? Date.now() / 1000,
    ended_at: ended.every((t) => t !== undefined) ? Math.max(...ended as number[]) : null,
    host: distinct(runs.map((r) => r.host)),
    platform: distinct(runs.map((r) => r.platform)),
    runtime: distinct(runs.map((r) => r.runtime)),
    interrupted: runs.some((r) => sqlNumber(r.interrupted) === 1) ? 1 : 0,
    requests: inputs.reduce((n, i) => n + i.rows, 0),
    client: null,
    shard_index: null,
    shard_count: null,
    load_started_at: min("load_started_at"),
    merged_from: JSON.stringify(inputs.map((i, k) => ({
      input: i.label,
      shard: i.shard ? shardText(i.shard) : null,
      rows: i.rows,
      host: i.run?.host ?? null,
      llmperf_version: i.run?.llmperf_version ?? null,
      load_started_at: i.run?.load_started_at ?? null,
      start_offset_ms: Number.isFinite(offsets.offsetsMs[k]) ? offsets.offsetsMs[k] : null,
      client: jsonOrNull(i.run?.client),
    }))),
  };
}

/**
 * Check `inputs` (see `compatible.ts`) before anything is written; resolves to the warnings.
 * Throws what {@link checkMergeable} throws.
 */
export function checkRunInputs(inputs: readonly RunInput[], force = false): string[] {
  const warnings = checkMergeable(inputs, force);
  const clock = clockWarning(inputs, startOffsets(inputs));
  return clock ? [...warnings, clock] : warnings;
}

/** Create `dir` for the merged run; it must not exist yet (a merge never overwrites). */
export async function createOutputDir(dir: string): Promise<void> {
  const cut = dir.lastIndexOf("/");
  if (cut > 0) {
    try {
      await Deno.mkdir(dir.slice(0, cut), { recursive: true });
    } catch (e) {
      throw new RunError(`cannot create '${dir.slice(0, cut)}': ${(e as Error).message}`);
    }
  }
  try {
    await Deno.mkdir(dir);
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) {
      throw new UsageError(
        `--output '${dir}' exists: give a new folder (a merge never overwrites)`,
      );
    }
    throw new RunError(`cannot create '${dir}': ${(e as Error).message}`);
  }
}

/**
 * Merge the shards `inputs` into the run folder `outputDir` (created here; it must not exist).
 * Rules the inputs break are errors, or warnings with `force` (`compatible.ts`). Shards in
 * evalscope 2026's layout merge into it (see the module doc).
 */
export async function mergeRun(
  inputs: RunInput[],
  outputDir: string,
  opts: MergeRunOptions = {},
): Promise<MergedRun> {
  const warnings = [...(opts.checked ?? checkRunInputs(inputs, opts.force))];
  if (!inputs[0].layout2026) return await mergeRunFolder(inputs, outputDir, opts, warnings);
  await createOutputDir(outputDir);
  const runDir = `${outputDir}/${mergedPointFolder(inputs)}`;
  await createOutputDir(runDir);
  const run = await mergeInto(inputs, runDir, outputDir, opts, warnings);
  if (run.evalscope2026 === undefined) return run;
  const text = await writeSummary2026(outputDir, run.settings, [run.evalscope2026], run.errors);
  return { ...run, evalscope2026: { ...run.evalscope2026, performanceSummary: text } };
}

/**
 * Merge the checked `inputs` into the run folder `runDir` itself (created here; it must not
 * exist), in either layout: a sweep's point, or a run of llmperf's layout.
 */
export async function mergeRunFolder(
  inputs: RunInput[],
  runDir: string,
  opts: MergeRunOptions,
  warnings: string[],
): Promise<MergedRun> {
  await createOutputDir(runDir);
  return await mergeInto(inputs, runDir, runDir, opts, warnings);
}

/**
 * The merged run's point folder in evalscope 2026's layout: the shards' own name with the whole
 * run's requests as N (`parallel_4_number_3` of each of 2 shards: `parallel_4_number_6`).
 */
export function mergedPointFolder(inputs: readonly RunInput[]): string {
  const args = inputs[0].args;
  const number = sqlNumber(args.number) ?? inputs.reduce((n, i) => n + i.rows, 0);
  const prefix = inputs[0].point?.replace(/_number_\d+$/, "") ??
    `parallel_${sqlNumber(args.parallel) ?? 1}`;
  return `${prefix}_number_${number}`;
}

/**
 * Write `performance_summary.txt` for merged 2026 points into the run folder `dir`; resolves to
 * its text (undefined, with a line in `errors`, when it cannot be written).
 */
export async function writeSummary2026(
  dir: string,
  settings: Record<string, unknown>,
  points: Evalscope2026Result[],
  errors: string[],
): Promise<string | undefined> {
  const info = {
    model: String(settings.model ?? ""),
    dataset: String(settings.dataset ?? ""),
    api: String(settings.api ?? ""),
    outputPath: dir,
  };
  try {
    return await writePerformanceSummary(dir, info, points);
  } catch (e) {
    errors.push((e as Error).message);
    return undefined;
  }
}

/**
 * Merge `inputs` into `runDir` (which exists), named after `nameDir` (the run folder: itself,
 * or the 2026 run folder above the point folder).
 */
async function mergeInto(
  inputs: RunInput[],
  runDir: string,
  nameDir: string,
  opts: MergeRunOptions,
  warnings: string[],
): Promise<MergedRun> {
  const offsets = startOffsets(inputs);
  const layout2026 = inputs[0].layout2026;
  const settings = mergedSettings(inputs[0].args, nameDir);
  await writeJson(`${runDir}/benchmark_args.json`, settings);
  const dbPath = `${runDir}/${layout2026 ? OWN_DB_FILE_2026 : DB_FILE}`;
  const run = mergedRunRow(inputs, settings, offsets);
  writeMergedDb(dbPath, inputs, run);

  // The charts' time zero: when the load began (--start-at, else the earliest shard's start).
  const origin = sqlNumber(settings.start_at) ?? run.load_started_at ?? undefined;
  const charts = new ReportDataSink({ origin });
  const goals = typeof settings.slo === "string" ? parseSlo(settings.slo) : undefined;
  const goodput = goals ? new GoodputCounter(goals) : undefined;
  const speed = typeof settings.dataset === "string" && isSpeedBenchmark(settings.dataset)
    ? new SpeedBenchmarkSink()
    : undefined;
  const sinks: MetricsSink[] = [charts, ...(goodput ? [goodput] : []), ...(speed ? [speed] : [])];
  // Its completion warnings are the inputs' own, already said by checkRunInputs.
  const report = await reportFromDb(dbPath, opts.api, sinks);
  const checked = goals && checkRun(goals, report, goodput?.good ?? 0);
  const requestSummary: Summary = checked?.requestSummary ?? report.requestSummary;
  const requestPercentiles: PercentileRow[] = report.requestPercentiles;
  const interrupted = run.interrupted === 1;
  const speedBenchmark = speed?.rows();
  const errors: string[] = [];
  let evalscope2026: Evalscope2026Result | undefined;
  if (layout2026) {
    // evalscope 2026's files instead of ours, from the merged DB, as a --compat 2026 run's.
    const parallel = sqlNumber(settings.parallel) ?? 1;
    const written = await writeRun2026(dbPath, runDir, {
      parallel: settings.open_loop === true ? -1 : parallel,
      rate: sqlNumber(settings.rate) ?? -1,
    });
    errors.push(...written.errors);
    evalscope2026 = written.result;
  } else {
    errors.push(
      ...await writeResultFiles({
        outputDir: runDir,
        summary: report.summary,
        percentiles: report.percentiles,
        requestSummary,
        requestPercentiles,
        speedBenchmark,
        endpoints: report.endpoints,
      }),
    );
  }
  await writeEach(errors, [() =>
    writeTextOrNothing(
      `${runDir}/report.html`,
      renderRunReport({
        name: String(settings.name),
        createdAt: new Date(),
        settings,
        summary: report.summary,
        requestSummary,
        requestPercentiles,
        failures: report.failures,
        slo: checked?.slo,
        interrupted,
        charts: charts.charts(),
      }),
    )]);
  return {
    ...report,
    requestSummary,
    outputDir: runDir,
    settings,
    inputs,
    offsets,
    interrupted,
    ...(layout2026 ? { layout: LAYOUT_2026 } : {}),
    ...(evalscope2026 ? { evalscope2026 } : {}),
    ...(checked ? { slo: checked.slo } : {}),
    ...(speedBenchmark ? { speedBenchmark } : {}),
    warnings,
    errors,
  };
}
