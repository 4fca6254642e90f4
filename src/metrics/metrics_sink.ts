/**
 * A sink that reads only each finished request's metrics (goodput, the HTML report's charts, the
 * `speed_benchmark` table), so that it takes requests measured live and requests read back from a
 * result DB alike (`llmperf report`, `llmperf merge`).
 *
 * @module
 */
import type { RequestMetrics } from "./request_metrics.ts";

/** A finished request as far as a {@link MetricsSink} looks: its metrics. */
export interface Measured {
  /** Its metrics. */
  readonly metrics: RequestMetrics;
}

/** Receives finished requests' metrics in batches (any `ResultSink` that reads only those). */
export interface MetricsSink {
  /** Take one batch. */
  write(batch: readonly Measured[]): void;
}
