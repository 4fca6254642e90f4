/**
 * Merging the shards of one sweep, point by point: each point's shard folders are merged like a
 * run (`merge_run.ts`) into the point's folder of the merged sweep folder, and the sweep folder
 * gets what a sweep leaves: `sweep_args.json`, `sweep_summary.json` (a row per point, from the
 * merged numbers) and `report.html` (and, for `--compat 2026` shards, each point in evalscope
 * 2026's layout and `performance_summary.txt` over all of them). Every point is checked before
 * anything is written.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { writeEach, writeJson, writeTextOrNothing } from "../report/files.ts";
import { renderSweepReport } from "../report/html/page.ts";
import { type SweepPoint, type SweepRow, sweepRow } from "../results/sweep.ts";
import { settingsDifference } from "./compatible.ts";
import {
  readRunInput,
  type RunInput,
  SWEEP_ARGS_FILE,
  SWEEP_SUMMARY_FILE,
  type SweepInput,
} from "./inputs.ts";
import {
  checkRunInputs,
  createOutputDir,
  LAYOUT_2026,
  type MergedRun,
  mergedSettings,
  mergeRunFolder,
  type MergeRunOptions,
  writeSummary2026,
} from "./merge_run.ts";
import { sqlNumber } from "../util/sql_number.ts";

/** One point of a sweep to merge: its label and folder, and its shards' runs. */
export interface SweepPointInputs {
  /** The point's label (`parallel_8_number_80`). */
  point: string;
  /** Its folder in each sweep folder. */
  folder: string;
  /** Its run in each shard's sweep, in the order of the sweeps. */
  runs: RunInput[];
}

/** The checked plan of a sweep merge. */
export interface SweepPlan {
  /** The sweeps. */
  sweeps: SweepInput[];
  /** Their points, in order. */
  points: SweepPointInputs[];
  /** What the checks let through or noticed. */
  warnings: string[];
}

/** A merged sweep. */
export interface MergedSweep {
  /** The merged sweep folder. */
  outputDir: string;
  /** Each point, merged. */
  points: Array<{ point: SweepPoint; run: MergedRun }>;
  /** The comparison table (`sweep_summary.json`). */
  rows: SweepRow[];
  /** What the merge let through or noticed. */
  warnings: string[];
  /** Files that could not be written. */
  errors: string[];
  /** The inputs' layout, in words, when it is evalscope 2026's (`--compat 2026`). */
  layout?: string;
  /** `performance_summary.txt` (shards in evalscope 2026's layout). */
  performanceSummary?: string;
}

/**
 * Check the sweeps and read every point's shard runs: the same sweep settings (but for the
 * shard), the same points, and each point's runs mergeable. Throws as `checkMergeable` does.
 */
export async function planSweepMerge(sweeps: SweepInput[], force = false): Promise<SweepPlan> {
  const warnings: string[] = [];
  const [first] = sweeps;
  for (const s of sweeps.slice(1)) {
    const diff = settingsDifference(first, s);
    if (diff === undefined) continue;
    const message = `not the shards of one sweep: ${diff} (--force merges them anyway)`;
    if (!force) throw new UsageError(message);
    warnings.push(message);
  }
  const labels = (s: SweepInput) => s.points.map((p) => p.point).join(", ");
  const common = first.points.filter((p) =>
    sweeps.every((s) => s.points.some((q) => q.point === p.point && q.folder === p.folder))
  );
  const uneven = sweeps.find((s) => labels(s) !== labels(first));
  if (uneven) {
    const message =
      `'${uneven.label}' has the points ${labels(uneven) || "(none)"}, '${first.label}' ` +
      `${
        labels(first) || "(none)"
      }: a sweep merges point by point (--force merges the common ones)`;
    if (!force) throw new UsageError(message);
    warnings.push(message);
  }
  if (common.length === 0) throw new UsageError("the sweeps have no point in common");
  const points: SweepPointInputs[] = [];
  for (const p of common) {
    const runs = await Promise.all(
      sweeps.map((s) => readRunInput(`${s.dir}/${p.folder}`, `${s.label}/${p.folder}`)),
    );
    warnings.push(...checkRunInputs(runs, force).map((w) => `point ${p.point}: ${w}`));
    points.push({ point: p.point, folder: p.folder, runs });
  }
  return { sweeps, points, warnings };
}

/** Merge a checked sweep plan into `outputDir` (created here; it must not exist). */
export async function mergeSweep(
  plan: SweepPlan,
  outputDir: string,
  opts: MergeRunOptions = {},
): Promise<MergedSweep> {
  await createOutputDir(outputDir);
  const settings = mergedSettings(plan.sweeps[0].args, outputDir);
  await writeJson(`${outputDir}/${SWEEP_ARGS_FILE}`, settings);
  const points: MergedSweep["points"] = [];
  const rows: SweepRow[] = [];
  const errors: string[] = [];
  for (const p of plan.points) {
    const run = await mergeRunFolder(p.runs, `${outputDir}/${p.folder}`, opts, []);
    const s = run.settings;
    const point: SweepPoint = {
      label: p.point,
      parallel: sqlNumber(s.parallel),
      number: sqlNumber(s.number),
      rate: sqlNumber(s.rate),
    };
    points.push({ point, run });
    rows.push(sweepRow(point, {
      ...run,
      config: { parallel: sqlNumber(s.parallel) ?? 1, rate: sqlNumber(s.rate) ?? -1 },
    }));
    errors.push(...run.errors);
  }
  // Shards in evalscope 2026's layout: its performance_summary.txt over every point, too.
  const compat = points.flatMap((p) => p.run.evalscope2026 ? [p.run.evalscope2026] : []);
  const performanceSummary = compat.length > 0
    ? await writeSummary2026(outputDir, settings, compat, errors)
    : undefined;
  await writeEach(errors, [
    () => writeJson(`${outputDir}/${SWEEP_SUMMARY_FILE}`, rows),
    () =>
      writeTextOrNothing(
        `${outputDir}/report.html`,
        renderSweepReport({ name: String(settings.name), createdAt: new Date(), settings, rows }),
      ),
  ]);
  return {
    outputDir,
    points,
    rows,
    warnings: plan.warnings,
    errors,
    ...(compat.length > 0 ? { layout: LAYOUT_2026 } : {}),
    ...(performanceSummary ? { performanceSummary } : {}),
  };
}
