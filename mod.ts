/**
 * llmperf: load testing and benchmarking for LLM inference services (vLLM, SGLang, TGI, Ollama,
 * any OpenAI-compatible endpoint), compatible with `evalscope perf`'s flags, tables and result
 * files.
 *
 * @example Run a benchmark against the built-in mock server
 * ```ts
 * import { runPerfBenchmark, startMockServer } from "@llmperf/llmperf";
 *
 * const mock = startMockServer({ port: 0, ttftMs: 50, itlMs: 10, outputTokens: 64 });
 * const result = await runPerfBenchmark({
 *   url: `${mock.url}/v1/chat/completions`,
 *   model: "mock",
 *   prompt: "Hello",
 *   number: 20,
 *   parallel: 4,
 *   stream: true,
 * });
 * console.log(result.requestSummary["Mean TTFT (ms)"]);
 * await mock.close();
 * ```
 *
 * Run as a program (`deno run -A jsr:@llmperf/llmperf perf ...`, or the `llmperf` command that
 * `deno install -g -A -n llmperf jsr:@llmperf/llmperf` makes), this module is the CLI.
 *
 * @module
 */
export { runPerfBenchmark } from "./src/perf.ts";
export type { PerfResult, RunResults } from "./src/results/run.ts";
export type { RunOptions } from "./src/run/options.ts";
export { runSweep, sweepPoints, type SweepValues } from "./src/run/sweep.ts";
export type { SweepPoint, SweepResult, SweepRow } from "./src/results/sweep.ts";
export { runRepeats } from "./src/run/repeat.ts";
export { runSlaAutoTune, searchSla, type SlaSearch } from "./src/run/sla_tune.ts";
export type { SlaAverage, SlaResult, SlaRow, SlaVariable } from "./src/results/sla.ts";
export type { RepeatResult, RepeatRun, RepeatSummary } from "./src/results/repeat.ts";
export { type Spread, spread } from "./src/metrics/spread.ts";
export { tCritical } from "./src/metrics/student_t.ts";
export type { TelemetryData } from "./src/telemetry/types.ts";
export { parseSlo, type SloGoal } from "./src/config/slo_goals.ts";
export { type Shard, shardCount } from "./src/config/shard.ts";
export { type MergeOptions, type MergeResult, mergeRuns } from "./src/merge/merge.ts";
export type { MergedRun } from "./src/merge/merge_run.ts";
export type { MergedSweep } from "./src/merge/merge_sweep.ts";
export { type SloOutcome, type SloReport } from "./src/slo/evaluate.ts";
export type { ProgressMode, ProgressSnapshot } from "./src/report/progress.ts";
export type { OutputOptions } from "./src/report/run_outputs.ts";
export { DEFAULTS, type PerfConfig, type PerfConfigInput, resolveConfig } from "./src/config.ts";
export { Interrupted, RunError, UsageError } from "./src/errors.ts";
export {
  MODERN_KEYS,
  type PercentileRow,
  REQUEST_COLUMNS,
  type Summary,
  SUMMARY_KEYS,
} from "./src/metrics/collector.ts";
export {
  MOCK_DEFAULTS,
  type MockOptions,
  type MockServer,
  type MockStatsView,
  REASONING_FIELDS,
  type ReasoningField,
  startMockServer,
} from "./src/mock/server.ts";
export { MOCK_PROTOCOL_NAMES, type MockProtocolName } from "./src/mock/protocol_registry.ts";
export type { SpeedRow } from "./src/report/speed_benchmark.ts";
export { ENDPOINT_COLUMNS, type EndpointRow } from "./src/metrics/endpoint_breakdown.ts";
export { URL_STRATEGIES, type UrlStrategy } from "./src/config.ts";
export type { FinishedRequest, ResultSink } from "./src/records/finished.ts";
export type { Failure, FailureKind, RequestRecord } from "./src/records/record.ts";
export type { ClientCheck } from "./src/workers/self_check.ts";
export type { ThreadLoad } from "./src/workers/loop_monitor.ts";
export type { LagSummary } from "./src/util/lag_histogram.ts";
export type { TransportChoice, TransportKind } from "./src/transport/create.ts";
export { VERSION } from "./src/version.ts";
export * from "./plugin.ts";

if (import.meta.main) {
  // Loaded only when run as a program, so that the library does not pull in the CLI.
  const { main } = await import("./main.ts");
  Deno.exit(await main(Deno.args));
}
