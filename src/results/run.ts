/**
 * What a run produces: its tables, its SLO check, its client self-check. Plain types, at the
 * bottom of the layers: the run (`src/perf.ts`, `src/run/`) builds them once, at the end; the
 * outputs (printed tables, JSON files, `report.html`, W&B) import them and never the run.
 *
 * @module
 */
import type { PerfConfig } from "../config.ts";
import type { PercentileRow, Summary } from "../metrics/collector.ts";
import type { TraceSummary } from "../metrics/conversations.ts";
import type { EndpointRow } from "../metrics/endpoint_breakdown.ts";
import type { SpeedRow } from "../report/speed_benchmark.ts";
import type { Evalscope2026Result } from "../report/evalscope2026/results.ts";
import type { SloReport } from "../slo/evaluate.ts";
import type { TelemetryData } from "../telemetry/types.ts";
import type { ClientCheck } from "../workers/self_check.ts";

/** The summary row that says why a run stopped early (`--max-error-rate`). */
export const STOPPED_EARLY_KEY = "Stopped early";

/** A run's results: everything {@link PerfResult} holds but the outputs that failed. */
export interface RunResults {
  /** The resolved configuration. */
  config: PerfConfig;
  /** The run folder. */
  outputDir: string;
  /** evalscope's summary rows (unrounded), as in `benchmark_summary.json`. */
  summary: Summary;
  /** evalscope's percentile rows (empty when too little data). */
  percentiles: PercentileRow[];
  /** Throughputs and means of the per-request metrics (and goodput, with `slo`). */
  requestSummary: Summary;
  /** Per-request metric percentiles (TTFT, TPOT, ITL, latency, tokens). */
  requestPercentiles: PercentileRow[];
  /** Failed requests by failure kind. */
  failures: Record<string, number>;
  /** Whether the run was interrupted before it dispatched everything. */
  interrupted: boolean;
  /** `--multi-turn`: the per-conversation metrics of `trace_summary.json`. */
  traceSummary?: TraceSummary;
  /** The `speed_benchmark` dataset's per-prompt-length speeds (that dataset only). */
  speedBenchmark?: SpeedRow[];
  /** The `--slo` check: each goal's outcome and goodput (only with `slo`). */
  slo?: SloReport;
  /**
   * The client's self-check: transport, workers, each thread's event-loop lag and CPU use, and
   * whether the client could have added more than 1 ms to its timings (`saturated`, `warning`).
   */
  client: ClientCheck;
  /** Why the run stopped before sending everything (`--max-error-rate`), when it did. */
  stoppedEarly?: string;
  /**
   * The server's side, from its `/metrics` over the run: its TTFT (mean, p50, p99) beside the
   * client's and their difference, queue time, peak running and waiting requests, KV-cache use,
   * prefix-cache hit rate (rows as `benchmark_summary.json` holds them; absent when not scraped).
   */
  serverSummary?: Summary;
  /** The server's metrics and this host's GPUs over the run, for the report (when recorded). */
  telemetry?: TelemetryData;
  /**
   * `--compat 2026`: the run's results as evalscope computes them today (its files hold them),
   * what it prints, and `performance_summary.txt` for a run on its own.
   */
  evalscope2026?: Evalscope2026Result;
  /**
   * The numbers per endpoint (requests, failures, throughput, TTFT and latency), in `--url`
   * order: only with several `--url`.
   */
  endpoints?: EndpointRow[];
}

/** What a run returns. */
export interface PerfResult extends RunResults {
  /**
   * Outputs that could not be written, one line each (`the result DB could not be written: disk
   * full (SQLITE_FULL) at ...`). A result DB that fails stops the run early (nothing more is
   * sent); the tables still cover every request that finished. The CLI exits 1 when not empty.
   */
  errors: string[];
}
