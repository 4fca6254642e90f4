/**
 * One benchmark run, end to end, in four named stages (`src/run/`):
 *
 * ```
 * prepare  config, query template, tokenizer, plugins, request source and its first request,
 *          transport settings, --slo goals, the start-up check        (nothing on disk yet)
 * open     run folder, result DB, sinks, token counter, pipeline, sending threads
 * drive    the load: requests sent under the plan, records into the pipeline
 * finish   results computed once; report.html, W&B, the JSON files
 * ```
 *
 * What `open` opens is taken down in reverse order when the run ends, however it ends (`await
 * using`). The CLI's `perf` command is a thin layer over {@link runPerfBenchmark}.
 *
 * @module
 */
import type { PerfConfigInput } from "./config.ts";
import { redactError, Redactor } from "./redact.ts";
import type { PerfResult } from "./results/run.ts";
import { driveLoad } from "./run/drive.ts";
import { finishRun } from "./run/finish.ts";
import { openRun } from "./run/open.ts";
import type { RunOptions } from "./run/options.ts";
import { prepareRun } from "./run/prepare.ts";

/**
 * Run one benchmark. `input` takes the CLI's flags as keys, camelCase or snake_case
 * (`{ model: "qwen2.5", url: "...", parallel: 4, number: 100, stream: true }`).
 *
 * @example
 * ```ts
 * import { runPerfBenchmark } from "@llmperf/llmperf";
 * const result = await runPerfBenchmark({
 *   url: "http://127.0.0.1:8000/v1/chat/completions",
 *   model: "qwen2.5",
 *   prompt: "Tell me a story",
 *   number: 20,
 *   parallel: 4,
 *   stream: true,
 * });
 * console.log(result.summary["Average time to first token"]);
 * ```
 */
export async function runPerfBenchmark(
  input: PerfConfigInput,
  options: RunOptions = {},
): Promise<PerfResult> {
  // The run's secrets never leave it: not in an error, a log line, a file or a stored response.
  const redactor = new Redactor();
  try {
    const prepared = await prepareRun(input, options, redactor);
    await using run = await openRun(prepared, options);
    const driven = await driveLoad(prepared, run);
    return await finishRun(prepared, run, driven);
  } catch (e) {
    throw redactError(e, redactor);
  }
}
