/**
 * The reference sheets the table-driven tests read (`../shared/reference/`): the folder is
 * `$LLMPERF_REFERENCE_DIR`, else `shared/reference` beside the checkout (`../shared`, or
 * `../../shared` from a worktree). Without it the reference tests are ignored.
 *
 * @module
 */
import { ROOT_DIR } from "./cli.ts";

const REF_DIRS = [
  Deno.env.get("LLMPERF_REFERENCE_DIR"),
  `${ROOT_DIR}/../shared/reference`,
  `${ROOT_DIR}/../../shared/reference`,
].filter((d): d is string => d !== undefined);

/** The reference folder, when there is one. */
export const REF_DIR: string | undefined = REF_DIRS.find((d) => {
  try {
    return Deno.statSync(`${d}/evalscope-perf-2026.md`).isFile;
  } catch {
    return false;
  }
});

async function readOr(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return undefined;
  }
}

/** `evalscope-perf-2026.md` (today's evalscope), when there. */
export const REF_2026: string | undefined = REF_DIR === undefined
  ? undefined
  : await readOr(`${REF_DIR}/evalscope-perf-2026.md`);

/** `evalscope-perf.md` (late-2024 evalscope), when there. */
export const REF_2024: string | undefined = REF_DIR === undefined
  ? undefined
  : await readOr(`${REF_DIR}/evalscope-perf.md`);

/**
 * The `result` columns of evalscope 2026's `benchmark_data.db`, in order, as the 2026 sheet's §4
 * table lists them (written out here, so that tests run without the sheet too).
 */
export const REF_DB_COLUMNS_2026: readonly string[] = [
  "request",
  "start_time",
  "inter_token_latencies",
  "success",
  "response_messages",
  "completed_time",
  "latency",
  "first_chunk_latency",
  "time_per_output_token",
  "prompt_tokens",
  "completion_tokens",
  "max_gpu_memory_cost",
  "request_id",
  "is_stream",
];
