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
import type { RunRow } from "../store/schema.ts";
import { VERSION } from "../version.ts";
import { clockWarning, type StartOffsets, startOffsets } from "./clock.ts";
import { checkMergeable } from "./compatible.ts";
import type { RunInput } from "./inputs.ts";
import { writeMergedDb } from "./merged_db.ts";
import { sqlNumber } from "../util/sql_number.ts";

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
 * Rules the inputs break are errors, or warnings with `force` (`compatible.ts`).
 */
export async function mergeRun(
  inputs: RunInput[],
  outputDir: string,
  opts: MergeRunOptions = {},
): Promise<MergedRun> {
  const warnings = [...(opts.checked ?? checkRunInputs(inputs, opts.force))];
  const offsets = startOffsets(inputs);
  await createOutputDir(outputDir);
  const settings = mergedSettings(inputs[0].args, outputDir);
  await writeJson(`${outputDir}/benchmark_args.json`, settings);
  const dbPath = `${outputDir}/${DB_FILE}`;
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
  errors.push(
    ...await writeResultFiles({
      outputDir,
      summary: report.summary,
      percentiles: report.percentiles,
      requestSummary,
      requestPercentiles,
      speedBenchmark,
      endpoints: report.endpoints,
    }),
  );
  await writeEach(errors, [() =>
    writeTextOrNothing(
      `${outputDir}/report.html`,
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
    outputDir,
    settings,
    inputs,
    offsets,
    interrupted,
    ...(checked ? { slo: checked.slo } : {}),
    ...(speedBenchmark ? { speedBenchmark } : {}),
    warnings,
    errors,
  };
}
