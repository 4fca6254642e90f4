/**
 * The `run` row: what a result DB measured (redacted arguments, llmperf version, host, times),
 * so that a DB alone says what it holds.
 *
 * @module
 */
import type { Shard } from "../config/shard.ts";
import { VERSION } from "../version.ts";
import type { RunRow } from "./schema.ts";

/** The result DB's file name inside a run folder, as evalscope names it. */
export const DB_FILE = "benchmark_data.db";

function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "unknown";
  }
}

/** The `run` row at the start of a run (of `shard`, with `--shard`). `args` must be redacted. */
export function runRow(name: string, args: Record<string, unknown>, shard?: Shard): RunRow {
  return {
    llmperf_version: VERSION,
    name,
    args: JSON.stringify(args),
    started_at: Date.now() / 1000,
    ended_at: null,
    host: hostname(),
    platform: `${Deno.build.os}-${Deno.build.arch}`,
    runtime: `deno ${Deno.version.deno}, v8 ${Deno.version.v8}`,
    interrupted: 0,
    requests: 0,
    client: null,
    shard_index: shard?.index ?? null,
    shard_count: shard?.count ?? null,
    load_started_at: null,
    merged_from: null,
  };
}
