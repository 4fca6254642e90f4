/**
 * What `llmperf merge` reads: run folders (or their result DBs) and sweep folders, each read
 * once into a plain description: its settings, its shard, its `run` row, its rows' count and
 * first send. A folder that is neither a run nor a sweep stands for the run and sweep folders
 * directly inside it (`llmperf merge /results/shards`), so that no shell is needed to list them;
 * names starting with `.` are skipped there (a shard's folder being copied in).
 *
 * @module
 */
import type { Shard } from "../config/shard.ts";
import { RunError, UsageError } from "../errors.ts";
import { dbLayout, openResultDb, runMeta } from "../report/from_db.ts";
import { findRuns, isRunFolder2026, SWEEP_SUMMARY_FILE } from "../report/run_folders.ts";
import { OWN_DB_FILE_2026 } from "../report/evalscope2026/outputs.ts";
import { DB_FILE } from "../store/run_meta.ts";
import { sqlNumber } from "../util/sql_number.ts";

/** The sweep folder's settings file (its points are sub-folders). */
export const SWEEP_ARGS_FILE = "sweep_args.json";

export { SWEEP_SUMMARY_FILE };

/** A merge input that is not ready yet (a shard missing or still running): `--wait` retries. */
export class NotReady extends UsageError {}

/** One run to merge: a shard's run folder (or `--compat 2026` point folder), or a result DB. */
export interface RunInput {
  /** The path as given (messages name it). */
  readonly label: string;
  /** The result DB read: ours (`llmperf_data.db` in a `--compat 2026` point folder). */
  readonly dbPath: string;
  /** The layout it was found in, in words (`report/run_folders.ts`). */
  readonly layout?: string;
  /**
   * Whether it is a point folder of evalscope 2026's layout (`--compat 2026`): the merged run is
   * written in that layout too. Absent: llmperf's layout.
   */
  readonly layout2026?: boolean;
  /** Its point folder's name there (`parallel_2_number_3`). */
  readonly point?: string;
  /** The run's settings (snake_case, as in `benchmark_args.json`; `{}` when unknown). */
  readonly args: Record<string, unknown>;
  /** The `run` row (absent for a DB without one: evalscope's). */
  readonly run?: Record<string, unknown>;
  /** Which shard it is (`--shard`), when it is one. */
  readonly shard?: Shard;
  /** Rows in its `result` table. */
  readonly rows: number;
  /** Epoch seconds of its first send (absent without rows). */
  readonly firstSendS?: number;
}

/** One sweep to merge: a shard's sweep folder. */
export interface SweepInput {
  /** The path as given. */
  readonly label: string;
  /** The sweep folder. */
  readonly dir: string;
  /** Its `sweep_args.json`. */
  readonly args: Record<string, unknown>;
  /** Its points that ran, in order: label and folder name. */
  readonly points: ReadonlyArray<{ point: string; folder: string }>;
}

/** The inputs, each a run or a sweep. */
export type Inputs =
  | { kind: "run"; runs: RunInput[] }
  | { kind: "sweep"; sweeps: SweepInput[] };

type Row = Record<string, unknown>;

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

async function readJsonFile(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch {
    return undefined;
  }
}

/**
 * What a path is: a run (folder or DB file; a `--compat 2026` point folder, or its run folder
 * with one point), a sweep folder (ours, or a 2026 run folder of several points), or a folder of
 * those.
 */
async function kindOf(path: string): Promise<"run" | "sweep" | "folder" | "none"> {
  let st: Deno.FileInfo;
  try {
    st = await Deno.stat(path);
  } catch {
    return "none";
  }
  if (!st.isDirectory) return "run";
  if (await isFile(`${path}/${DB_FILE}`) || await isFile(`${path}/${OWN_DB_FILE_2026}`)) {
    return "run";
  }
  if (await isFile(`${path}/${SWEEP_ARGS_FILE}`)) return "sweep";
  if (await isRunFolder2026(path)) {
    return (await findRuns(path)).runs.length === 1 ? "run" : "sweep";
  }
  return "folder";
}

/**
 * The paths given, with each folder of runs replaced by the run and sweep folders in it (sorted
 * by name). Throws a {@link UsageError} for a path that does not exist, {@link NotReady} for a
 * folder that holds no run yet.
 */
export async function expandPaths(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const given of paths) {
    const path = given.replace(/(.)\/+$/, "$1");
    const kind = await kindOf(path);
    // Not there (yet): a merge started beside the shards waits for their folder to appear.
    if (kind === "none") throw new NotReady(`'${given}': no such file or folder`);
    if (kind !== "folder") {
      out.push(path);
      continue;
    }
    const inside: string[] = [];
    for await (const e of Deno.readDir(path)) {
      if (!e.isDirectory || e.name.startsWith(".")) continue;
      const sub = `${path}/${e.name}`;
      if ((await kindOf(sub)) !== "folder") inside.push(sub);
    }
    if (inside.length === 0) {
      throw new NotReady(`'${given}' holds no run folder (nor a ${DB_FILE}, nor a sweep) yet`);
    }
    out.push(...inside.sort());
  }
  return out;
}

/**
 * Read one run (a run folder, a `--compat 2026` run or point folder, or a result DB: ours is read
 * where evalscope 2026's sits beside it). evalscope 2026's own DB (no `llmperf_data.db`) is a
 * {@link UsageError}: no shard wrote it, its clock is its process's own, and its columns are not
 * ours.
 */
export async function readRunInput(path: string, label = path): Promise<RunInput> {
  const found = await findRuns(path);
  if (found.runs.length !== 1) {
    throw new UsageError(`'${label}' holds ${found.runs.length} runs (${found.layout})`);
  }
  const { dbPath, point } = found.runs[0];
  const db = openResultDb(dbPath);
  try {
    if (dbLayout(db) === "evalscope-2026") {
      throw new UsageError(
        `'${label}' is evalscope 2026's own result DB (no ${OWN_DB_FILE_2026} beside it): merge ` +
          "combines the shards of an llmperf run (--shard), and evalscope's times (perf_counter) " +
          "cannot be lined up with another process's",
      );
    }
    const meta = await runMeta(db, dbPath);
    const run = meta.run;
    const args = meta.args ?? {};
    const stats = db.prepare("SELECT COUNT(*) AS n, MIN(start_time) AS first FROM result")
      .get() as Row;
    const index = sqlNumber(run?.shard_index);
    const count = sqlNumber(run?.shard_count);
    const argShard = args.shard as Shard | undefined;
    const shard = index !== undefined && count !== undefined
      ? { index, count }
      : argShard && typeof argShard === "object"
      ? { index: argShard.index, count: argShard.count }
      : undefined;
    return {
      label,
      dbPath,
      layout: found.layout,
      layout2026: found.layout2026,
      ...(point ? { point } : {}),
      args,
      run,
      shard,
      rows: sqlNumber(stats.n) ?? 0,
      firstSendS: sqlNumber(stats.first),
    };
  } catch (e) {
    if (e instanceof UsageError || e instanceof RunError) throw e;
    throw new RunError(`cannot read '${dbPath}': ${(e as Error).message}`);
  } finally {
    db.close();
  }
}

/** Read one sweep folder; {@link NotReady} when no point has finished yet. */
export async function readSweepInput(dir: string, label = dir): Promise<SweepInput> {
  const args = await readJsonFile(`${dir}/${SWEEP_ARGS_FILE}`);
  if (args === undefined) {
    const own = await isRunFolder2026(dir) ? " (evalscope 2026's own sweep has none)" : "";
    throw new UsageError(`'${label}': cannot read ${SWEEP_ARGS_FILE}${own}`);
  }
  let rows: unknown;
  try {
    rows = JSON.parse(await Deno.readTextFile(`${dir}/${SWEEP_SUMMARY_FILE}`));
  } catch {
    throw new NotReady(`'${label}' has no ${SWEEP_SUMMARY_FILE}: no point has finished yet`);
  }
  if (!Array.isArray(rows)) throw new UsageError(`'${label}': ${SWEEP_SUMMARY_FILE} is no list`);
  const points = rows.map((r) => ({ point: String(r?.point), folder: String(r?.folder) }));
  return { label, dir, args, points };
}

/**
 * Read every input: all runs, or all sweeps (a mix is a {@link UsageError}: a sweep merges with
 * the same sweep of the other shards, point by point).
 */
export async function readInputs(paths: readonly string[]): Promise<Inputs> {
  const expanded = await expandPaths(paths);
  const kinds = await Promise.all(expanded.map(kindOf));
  const sweeps = expanded.filter((_, i) => kinds[i] === "sweep");
  if (sweeps.length > 0 && sweeps.length < expanded.length) {
    const run = expanded.find((_, i) => kinds[i] !== "sweep");
    throw new UsageError(
      `'${sweeps[0]}' is a sweep and '${run}' a single run: merge sweeps with sweeps (point by ` +
        "point), runs with runs",
    );
  }
  if (sweeps.length > 0) {
    return { kind: "sweep", sweeps: await Promise.all(sweeps.map((p) => readSweepInput(p))) };
  }
  return { kind: "run", runs: await Promise.all(expanded.map((p) => readRunInput(p))) };
}
