/**
 * `llmperf merge`: the shards of one run (or of one sweep) into one run folder (or sweep folder)
 * whose numbers are those of the union of their rows (`merge_run.ts`, `merge_sweep.ts`). The
 * inputs are checked before anything is written (`compatible.ts`); with a wait, inputs that are
 * not ready yet (a shard missing, or still running) are read again every few seconds until they
 * are, so that a merge step can start beside the shards (a Kubernetes Job next to theirs).
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { sleepUntil } from "../util/sleep.ts";
import { NotReady, readInputs } from "./inputs.ts";
import { checkRunInputs, type MergedRun, mergeRun, type MergeRunOptions } from "./merge_run.ts";
import { type MergedSweep, mergeSweep, planSweepMerge, type SweepPlan } from "./merge_sweep.ts";
import type { RunInput } from "./inputs.ts";

/** How to merge. */
export interface MergeOptions extends Omit<MergeRunOptions, "checked"> {
  /** Seconds to wait for inputs that are not ready (a shard missing or running); default 0. */
  waitS?: number;
  /** Receives progress lines while waiting. */
  log?: Logger;
  /** Stops a wait. */
  signal?: AbortSignal;
}

/** What a merge made: one run, or one sweep. */
export type MergeResult =
  | { kind: "run"; run: MergedRun }
  | { kind: "sweep"; sweep: MergedSweep };

type Plan =
  | { kind: "run"; runs: RunInput[]; warnings: string[] }
  | { kind: "sweep"; plan: SweepPlan };

/** How often a waiting merge looks again, in milliseconds. */
export const WAIT_POLL_MS = 2000;

async function plan(paths: readonly string[], force: boolean): Promise<Plan> {
  const inputs = await readInputs(paths);
  if (inputs.kind === "sweep") {
    return { kind: "sweep", plan: await planSweepMerge(inputs.sweeps, force) };
  }
  return { kind: "run", runs: inputs.runs, warnings: checkRunInputs(inputs.runs, force) };
}

async function planWhenReady(paths: readonly string[], opts: MergeOptions): Promise<Plan> {
  const deadline = performance.now() + (opts.waitS ?? 0) * 1000;
  let said: string | undefined;
  for (;;) {
    try {
      return await plan(paths, opts.force ?? false);
    } catch (e) {
      if (!(e instanceof NotReady) || performance.now() >= deadline || opts.signal?.aborted) {
        throw e;
      }
      if (e.message !== said) opts.log?.(`waiting for the shards: ${e.message}`);
      said = e.message;
    }
    await sleepUntil(Math.min(deadline, performance.now() + WAIT_POLL_MS), opts.signal);
  }
}

/**
 * Merge the runs (or sweeps) at `paths` into the new folder `output`.
 *
 * @example
 * ```ts
 * import { mergeRuns } from "@llmperf/llmperf";
 * const merged = await mergeRuns(["out/shard0", "out/shard1"], "out/merged");
 * if (merged.kind === "run") console.log(merged.run.requestSummary["Mean TTFT (ms)"]);
 * ```
 */
export async function mergeRuns(
  paths: readonly string[],
  output: string,
  opts: MergeOptions = {},
): Promise<MergeResult> {
  if (paths.length === 0) throw new UsageError("give the run folders (or result DBs) to merge");
  const out = output.replace(/(.)\/+$/, "$1");
  try {
    await Deno.lstat(out);
    throw new UsageError(
      `--output '${output}' exists: give a new folder (a merge never overwrites)`,
    );
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const p = await planWhenReady(paths, opts);
  const runOpts: MergeRunOptions = { force: opts.force, api: opts.api };
  if (p.kind === "sweep") return { kind: "sweep", sweep: await mergeSweep(p.plan, out, runOpts) };
  return { kind: "run", run: await mergeRun(p.runs, out, { ...runOpts, checked: p.warnings }) };
}
