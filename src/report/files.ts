/**
 * The run folder and its JSON files: `<outputs-dir>/<name>/` with `benchmark_args.json`,
 * `benchmark_summary.json`, `benchmark_percentile.json` (and `trace_summary.json` with
 * `--multi-turn`). A folder that exists is never
 * overwritten: the name gets a `_2`, `_3`, ... suffix instead.
 *
 * @module
 */
import type { Shard } from "../config/shard.ts";
import { RunError } from "../errors.ts";
import type { RunResults } from "../results/run.ts";

/** `Qwen/Qwen2.5-7B` → `Qwen_Qwen2.5-7B`: a model name made safe for a folder name. */
export function safeName(text: string): string {
  return text.replace(/[<>:"|?*\\/\0\s]/g, "_");
}

/** `YYYYMMDD_HHMMSS` in local time. */
export function timestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}_` +
    `${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/**
 * The default run name: `<model>_benchmark_<YYYYMMDD_HHMMSS>`, and `_shard_<I>_of_<N>` for a
 * shard (shards that share an outputs folder then never take each other's name). `stamped`
 * false (`--no-timestamp`) leaves the timestamp out: `<model>_benchmark`.
 */
export function defaultRunName(model: string, now: Date, shard?: Shard, stamped = true): string {
  const suffix = shard ? `_shard_${shard.index}_of_${shard.count}` : "";
  return `${safeName(model)}_benchmark${stamped ? `_${timestamp(now)}` : ""}${suffix}`;
}

/** Create `<outputsDir>/<name>` (or the first free `<name>_N`) and return its path. */
export async function createRunDir(outputsDir: string, name: string): Promise<string> {
  try {
    await Deno.mkdir(outputsDir, { recursive: true });
  } catch (e) {
    throw new RunError(`--outputs-dir '${outputsDir}': cannot create it (${(e as Error).message})`);
  }
  const base = safeName(name);
  for (let i = 1;; i++) {
    const path = `${outputsDir.replace(/\/+$/, "")}/${i === 1 ? base : `${base}_${i}`}`;
    try {
      await Deno.mkdir(path);
      return path;
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) continue;
      throw new RunError(`cannot create the run folder '${path}' (${(e as Error).message})`);
    }
  }
}

/**
 * Create a `--compat 2026` run folder (`<outputs>/<ts>/<name>`, a sweep's or a repeat's) with its
 * parents, or use it as it is when it exists; a {@link RunError} if it cannot be made.
 */
export async function createCompatDir(path: string): Promise<string> {
  try {
    await Deno.mkdir(path, { recursive: true });
    return path;
  } catch (e) {
    throw new RunError(`cannot create the run folder '${path}' (${(e as Error).message})`);
  }
}

/**
 * Write `value` as indented JSON (4 spaces, as evalscope writes it). A failed write (a full disk)
 * leaves no partial file and throws a {@link RunError} naming the file.
 */
export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeTextOrNothing(path, JSON.stringify(value, null, 4) + "\n");
}

/**
 * Write `text` to `path`, or throw a {@link RunError} (`cannot write 'x': No space left on device
 * (os error 28)`) and remove what was partly written: a truncated file is worse than none.
 */
export async function writeTextOrNothing(path: string, text: string): Promise<void> {
  try {
    await Deno.writeTextFile(path, text);
  } catch (e) {
    await Deno.remove(path).catch(() => {});
    const why = (e as Error).message.split("\n")[0].replace(/: (write|open)(file)? '.*'$/, "");
    throw new RunError(`cannot write '${path}': ${why}`);
  }
}

/**
 * Run each write in turn, whatever the others do; the messages of those that failed are added
 * to `errors` (at the end of a run, a full disk should cost only the files that do not fit).
 */
export async function writeEach(
  errors: string[],
  writes: Array<() => Promise<unknown>>,
): Promise<void> {
  for (const write of writes) {
    try {
      await write();
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
}

/** The per-conversation table's file in the run folder (`--multi-turn` only). */
export const TRACE_SUMMARY_FILE = "trace_summary.json";

/** The per-endpoint table's file in the run folder (several `--url` only). */
export const ENDPOINTS_FILE = "benchmark_endpoints.json";

/**
 * Write `benchmark_summary.json` and `benchmark_percentile.json` (and `speed_benchmark.json`, and
 * {@link ENDPOINTS_FILE} with several endpoints) into the run folder, each on its own; resolves to the lines of those that could not be written.
 */
export async function writeResultFiles(
  r: Pick<
    RunResults,
    | "outputDir"
    | "summary"
    | "percentiles"
    | "requestSummary"
    | "requestPercentiles"
    | "speedBenchmark"
    | "serverSummary"
    | "traceSummary"
    | "endpoints"
  >,
): Promise<string[]> {
  const rows = r.requestPercentiles.map((row, i) => ({ ...r.percentiles[i], ...row }));
  const dir = r.outputDir;
  const errors: string[] = [];
  await writeEach(errors, [
    () =>
      writeJson(`${dir}/benchmark_summary.json`, {
        ...r.summary,
        ...r.requestSummary,
        ...r.serverSummary,
      }),
    () => writeJson(`${dir}/benchmark_percentile.json`, rows),
    ...(r.speedBenchmark ? [() => writeJson(`${dir}/speed_benchmark.json`, r.speedBenchmark)] : []),
    ...(r.traceSummary ? [() => writeJson(`${dir}/${TRACE_SUMMARY_FILE}`, r.traceSummary)] : []),
    ...(r.endpoints ? [() => writeJson(`${dir}/${ENDPOINTS_FILE}`, r.endpoints)] : []),
  ]);
  return errors;
}
