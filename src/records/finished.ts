/**
 * What the result pipeline hands on: a finished request with everything computed from it, and
 * the interface of the sinks that receive them (metrics, progress, the result DB, the HTML
 * report's data, W&B). Plain types, so that every output can import them without importing the
 * pipeline, or the run.
 *
 * @module
 */
import type { RequestMetrics } from "../metrics/request_metrics.ts";
import type { TokenCounts } from "../plugins/types.ts";
import type { RequestRecord } from "./record.ts";

/** A record with everything computed from it. */
export interface FinishedRequest {
  /** The raw record. */
  record: RequestRecord;
  /** Its metrics. */
  metrics: RequestMetrics;
  /** Its token counts (successful requests only). */
  counts?: TokenCounts;
}

/** Receives finished requests in batches. */
export interface ResultSink {
  /** Take one batch, in completion order. */
  write(batch: FinishedRequest[]): void | Promise<void>;
  /** Flush and release; called once at the end of the run. */
  close?(): unknown;
}
