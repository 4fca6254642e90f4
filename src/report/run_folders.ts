/**
 * Which runs a path given to `llmperf report`, `export` or `merge` stands for, in either folder
 * layout: llmperf's (and evalscope's late-2024) run folder holding `benchmark_data.db`, or
 * evalscope 2026's, which `--compat 2026` writes too: `<outputs>/<timestamp>/<name>/` (the run
 * folder) holding one point folder per sweep point, `parallel_<P>_number_<N>/` (closed loop) or
 * `rate_<R>_number_<N>/` (open loop), each with evalscope 2026's `benchmark_data.db` and, when
 * llmperf wrote it, our own `llmperf_data.db` beside it. A path may be a run folder, a point
 * folder or a DB file; each run found names both DBs, so that each command reads the one that
 * carries what it needs (`merge` and `export` ours: epoch times, shards, failures; `report` the
 * one it is given).
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { DB_FILE } from "../store/run_meta.ts";
import { OWN_DB_FILE_2026 } from "./evalscope2026/outputs.ts";

/** One run found: a run folder of llmperf's layout, or a point folder of evalscope 2026's. */
export interface FoundRun {
  /** Its folder. */
  dir: string;
  /** The DB that carries the most: ours (`llmperf_data.db` in a 2026 point folder), else the DB. */
  dbPath: string;
  /** The DB evalscope reads there (`benchmark_data.db`), when there is one. */
  evalscopeDb?: string;
  /** Its point folder's name in a 2026 run folder (`parallel_2_number_6`). */
  point?: string;
}

/** What a path stands for. */
export interface FoundRuns {
  /** The layout found, in words (for the commands' `Layout:` lines). */
  layout: string;
  /**
   * Whether it is evalscope 2026's folder layout as `--compat 2026` writes it: point folders with
   * our `llmperf_data.db` beside evalscope's DB (a point folder, or a run folder of them).
   */
  layout2026: boolean;
  /** Its runs: one, or a 2026 run folder's points in sweep order. */
  runs: FoundRun[];
}

/** A sweep folder's comparison table: which points ran, and their folders. */
export const SWEEP_SUMMARY_FILE = "sweep_summary.json";

/** A 2026 point folder's name: `parallel_<P>_number_<N>` or `rate_<R>_number_<N>`. */
export const POINT_FOLDER = /^(parallel|rate)_(-?[0-9.]+)_number_(\d+)$/;

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

function parentOf(path: string): string {
  const cut = path.lastIndexOf("/");
  return cut < 0 ? "." : cut === 0 ? "/" : path.slice(0, cut);
}

function baseOf(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** The run in folder `dir`, when it holds a result DB. */
async function runIn(dir: string): Promise<FoundRun | undefined> {
  const own = `${dir}/${OWN_DB_FILE_2026}`;
  const db = `${dir}/${DB_FILE}`;
  const hasDb = await isFile(db);
  const point = POINT_FOLDER.test(baseOf(dir)) ? baseOf(dir) : undefined;
  if (await isFile(own)) {
    return { dir, dbPath: own, ...(hasDb ? { evalscopeDb: db } : {}), point };
  }
  return hasDb ? { dir, dbPath: db, evalscopeDb: db, ...(point ? { point } : {}) } : undefined;
}

/** The point folders of a 2026 run folder, in its sweep's order (else by P or R, then N). */
async function pointsIn(dir: string): Promise<FoundRun[]> {
  const found: FoundRun[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (!e.isDirectory || !POINT_FOLDER.test(e.name)) continue;
      const run = await runIn(`${dir}/${e.name}`);
      if (run) found.push(run);
    }
  } catch {
    return [];
  }
  let order: string[] = [];
  try {
    const rows = JSON.parse(await Deno.readTextFile(`${dir}/${SWEEP_SUMMARY_FILE}`));
    if (Array.isArray(rows)) order = rows.map((r) => String(r?.folder));
  } catch { /* no sweep summary: by the numbers in the names */ }
  const key = (name: string) => {
    const m = POINT_FOLDER.exec(name)!;
    const at = order.indexOf(name);
    return [at < 0 ? Infinity : at, m[1] === "parallel" ? 0 : 1, Number(m[2]), Number(m[3])];
  };
  return found.sort((a, b) => {
    const x = key(a.point!);
    const y = key(b.point!);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] - y[i];
    return 0;
  });
}

/** Whether `dir` is a 2026 run folder: it holds point folders with a result DB. */
export async function isRunFolder2026(dir: string): Promise<boolean> {
  return (await pointsIn(dir)).length > 0;
}

/**
 * The runs `path` stands for (see the module doc). Throws a {@link UsageError} when it does not
 * exist or holds no result DB.
 */
export async function findRuns(path: string): Promise<FoundRuns> {
  const target = path.replace(/(.)\/+$/, "$1");
  let st: Deno.FileInfo;
  try {
    st = await Deno.stat(target);
  } catch {
    throw new UsageError(`'${path}': no such file or folder`);
  }
  if (!st.isDirectory) {
    const dir = parentOf(target);
    const beside = await runIn(dir);
    // evalscope's DB of a --compat 2026 point folder: ours beside it carries more.
    if (beside?.evalscopeDb === target && beside.dbPath !== target) {
      return { layout: "--compat 2026 point folder", layout2026: true, runs: [beside] };
    }
    const own = baseOf(target) === OWN_DB_FILE_2026;
    const point = POINT_FOLDER.test(baseOf(dir)) ? baseOf(dir) : undefined;
    return {
      layout: own ? "--compat 2026 point folder" : "result DB",
      layout2026: own,
      runs: [{
        dir,
        dbPath: target,
        ...(own && beside?.evalscopeDb ? { evalscopeDb: beside.evalscopeDb } : {}),
        ...(point ? { point } : {}),
      }],
    };
  }
  const here = await runIn(target);
  if (here) {
    // A sweep point of ours has a point folder's name too: ours beside evalscope's says 2026.
    const own = here.dbPath.endsWith(`/${OWN_DB_FILE_2026}`);
    const layout = own ? "--compat 2026 point folder" : "run folder";
    return { layout, layout2026: own, runs: [here] };
  }
  const points = await pointsIn(target);
  if (points.length === 0) {
    throw new UsageError(
      `'${path}': the folder has no ${DB_FILE} (nor the parallel_P_number_N/ or ` +
        "rate_R_number_N/ folders of an evalscope 2026 run)",
    );
  }
  const ours = points.every((p) => p.dbPath.endsWith(`/${OWN_DB_FILE_2026}`));
  const n = points.length;
  return {
    layout: `${ours ? "--compat 2026 run folder" : "folder of point folders"} (${n} point${
      n === 1 ? "" : "s"
    }: ${points.map((p) => p.point).join(", ")})`,
    layout2026: ours,
    runs: points,
  };
}
